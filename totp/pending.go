package totp

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// Pending returns the enrolment the user started with BeginEnrollment and
// has not confirmed yet, as BeginEnrollment returned it: for a set-up page
// that shows the QR code again after a mistyped first code, without making
// a new secret (which would break the entry the user just added to their
// app). It is ErrNoEnrollment when there is none or it has expired, and
// ErrAlreadyEnabled once TOTP is on: a confirmed secret is never shown
// again.
func (s *Service) Pending(ctx context.Context, user *auth.User) (*Enrollment, error) {
	sec, err := s.store.FindTOTP(ctx, user.ID)
	switch {
	case auth.IsNotFound(err):
		return nil, ErrNoEnrollment
	case err != nil:
		return nil, err
	case sec.Confirmed:
		return nil, ErrAlreadyEnabled
	case s.now().Sub(sec.CreatedAt) > s.ttl:
		return nil, ErrNoEnrollment
	}
	secret, err := s.open(sec)
	if err != nil {
		return nil, err
	}
	account := user.Email
	if account == "" {
		account = user.Username
	}
	uri, qr, err := describe(s.issuer, account, secret)
	if err != nil {
		return nil, auth.Internal(err)
	}
	return &Enrollment{Secret: secret, URI: uri, QRCode: qr}, nil
}

// secretEncoding is how secrets are written: base32 without padding, as
// otpauth URIs carry them.
var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// describe rebuilds the otpauth URI and the QR code of an existing secret,
// with exactly the parameters Enroll gives a new one.
func describe(issuer, accountName, secret string) (otpauthURI, qrPNGDataURL string, err error) {
	raw, err := secretEncoding.DecodeString(strings.ToUpper(secret))
	if err != nil {
		return "", "", fmt.Errorf("totp: stored secret is not base32: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: accountName,
		Period:      uint(Period / time.Second),
		Secret:      raw,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", "", fmt.Errorf("totp: describe secret: %w", err)
	}
	img, err := key.Image(QRSize, QRSize)
	if err != nil {
		return "", "", fmt.Errorf("totp: draw QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", "", fmt.Errorf("totp: encode QR code: %w", err)
	}
	return key.URL(), "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
