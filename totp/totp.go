// Package totp is Gatehouse's second factor: time-based one-time passwords
// (RFC 6238) from an authenticator app, and single-use recovery codes for when
// the app is lost.
//
// The codes are what every authenticator app expects: HMAC-SHA1, six digits,
// a new code every 30 seconds (RFC 6238 §4, §5.2). A code is accepted in its
// own 30-second step and one step either side, for clocks that drift and
// users who type slowly.
//
// Threat model: a code seen over a shoulder, in a phishing page or in a log is
// worth one sign-in at most, and only for about a minute: every accepted code
// moves the user's "last used step" forward in the store, atomically, so the
// same code is refused afterwards on every Gatehouse node (RFC 6238 §5.2: "the
// verifier MUST NOT accept the second attempt of the OTP"). The shared secret
// is sealed with the master key in the store, so a copy of the database alone
// does not yield it. Recovery codes carry 60 bits each and are stored as
// SHA-256 hashes; each one works once.
//
// What it does not do: limit guessing. A six-digit code falls to about a
// million tries, so the HTTP layer must count wrong codes per account and
// slow them down (api.md: 5 per 15 minutes); nothing here keeps count. It
// does not decide when a second factor is due either: that is the sign-in
// flow's job, which asks Service.Enabled.
package totp

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The parameters of every code, fixed to what authenticator apps support
// everywhere: several apps accept other values in the otpauth URI and then
// silently ignore them.
const (
	// Digits is the length of a code.
	Digits = 6
	// Period is the length of a time step.
	Period = 30 * time.Second
	// Skew is how many steps before and after the current one are accepted.
	Skew = 1
	// SecretSize is the size of a new secret in bytes: 160 bits, the length
	// of an HMAC-SHA1 key that RFC 4226 §4 recommends.
	SecretSize = 20
	// QRSize is the width and height of the enrolment QR code, in pixels.
	QRSize = 256
)

// Enroll makes a new secret for accountName at issuer (the names an
// authenticator app shows for the entry). It returns the secret in base32,
// for typing in by hand; the otpauth:// URI that carries it with its
// parameters; and that URI as a QR code, a PNG image in a data: URL ready for
// an <img src>.
//
// The secret is the key to the second factor: store it sealed, show it only
// to the user who is enrolling, and never log it.
func Enroll(issuer, accountName string) (secret, otpauthURI, qrPNGDataURL string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: accountName,
		Period:      uint(Period / time.Second),
		SecretSize:  SecretSize,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", "", "", fmt.Errorf("totp: generate secret: %w", err)
	}
	img, err := key.Image(QRSize, QRSize)
	if err != nil {
		return "", "", "", fmt.Errorf("totp: draw QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", "", "", fmt.Errorf("totp: encode QR code: %w", err)
	}
	return key.Secret(), key.URL(), "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// Validate checks code against secret (base32) at time now. It accepts the
// code of now's step and of the steps just before and after, and returns the
// step that matched: the caller records it (auth.MFAStore.UseTOTPStep) so
// that the code cannot be used again. Spaces in code are ignored, as apps
// show codes as "123 456".
func Validate(secret, code string, now time.Time) (step int64, ok bool) {
	return validate(secret, code, now, otp.DigitsSix)
}

func validate(secret, code string, now time.Time, digits otp.Digits) (int64, bool) {
	code = NormalizeCode(code)
	if !isDigits(code, digits.Length()) {
		return 0, false
	}
	if now.Unix() < 0 {
		return 0, false
	}
	period := int64(Period / time.Second)
	current := now.Unix() / period
	// The current step first: it is the likely one.
	for _, s := range []int64{current, current - 1, current + 1} {
		if s < 0 {
			continue
		}
		// Skew 0 at the start of step s checks exactly step s, so the match
		// tells which step the code belongs to.
		ok, err := totp.ValidateCustom(code, secret, time.Unix(s*period, 0), totp.ValidateOpts{
			Period:    uint(period),
			Skew:      0,
			Digits:    digits,
			Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, false
		}
		if ok {
			return s, true
		}
	}
	return 0, false
}

// NormalizeCode removes the spaces that apps and users put inside a code.
func NormalizeCode(code string) string {
	return strings.Join(strings.Fields(code), "")
}

// LooksLikeCode reports whether code, once normalised, has the shape of a
// TOTP code (six digits) rather than of a recovery code.
func LooksLikeCode(code string) bool {
	return isDigits(NormalizeCode(code), Digits)
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
