package totp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// Sealer encrypts secrets at rest and binds each to the record that holds it
// (additionalData). *masterkey.Key implements it.
type Sealer interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

// Config configures a Service.
type Config struct {
	// Store keeps the secrets and recovery codes. Required.
	Store auth.MFAStore
	// Sealer seals the secrets in the store. Required.
	Sealer Sealer
	// Issuer is the name authenticator apps show above the account.
	// Default: "Gatehouse".
	Issuer string
	// EnrollmentTTL is how long a started enrolment can be confirmed.
	// Default: 15 minutes.
	EnrollmentTTL time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Service turns TOTP on and off for users and checks their codes. It is safe
// for concurrent use, also across Gatehouse nodes that share a store.
//
// Errors are *auth.Error values with these codes:
//
//   - invalid_credentials (ErrWrongCode): a wrong, reused or expired TOTP
//     code or recovery code, one message whatever the cause, when a code
//     proves who the user is (Verify, Disable, RegenerateRecoveryCodes).
//     The HTTP layer counts these against the account's rate limit.
//   - validation_failed (ErrEnrollmentCode): a wrong code while confirming
//     an enrolment, with the field "code", for the set-up form.
//   - invalid_request (ErrNotEnabled, ErrNoEnrollment): the request does not
//     fit the account's state, such as Verify for a user without TOTP.
//   - conflict (ErrAlreadyEnabled): an enrolment while TOTP is on.
//   - internal: anything else, such as a store failure or a secret that no
//     longer opens with the master key.
type Service struct {
	store  auth.MFAStore
	sealer Sealer
	issuer string
	ttl    time.Duration
	now    func() time.Time
}

// Errors the Service returns. Compare with errors.Is.
var (
	ErrWrongCode = &auth.Error{Code: auth.EInvalidCredentials,
		Message: "That code is not valid. Enter the code your authenticator app shows now, or one of your recovery codes."}
	ErrEnrollmentCode = &auth.Error{Code: auth.EValidation,
		Message: "That code is not right. Enter the code your authenticator app shows now, and check that your device's clock is correct.",
		Fields:  map[string]string{"code": "That code is not right."}}
	ErrNotEnabled     = auth.Errorf(auth.EInvalidRequest, "Two-step verification is not on for this account.")
	ErrNoEnrollment   = auth.Errorf(auth.EInvalidRequest, "There is no two-step verification set-up to confirm, or it has expired. Start again.")
	ErrAlreadyEnabled = auth.Errorf(auth.EConflict, "Two-step verification is already on. Turn it off before setting up a new authenticator app.")
)

// New returns a Service for cfg.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("totp: Config.Store is required")
	}
	if cfg.Sealer == nil {
		return nil, errors.New("totp: Config.Sealer is required")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "Gatehouse"
	}
	if cfg.EnrollmentTTL <= 0 {
		cfg.EnrollmentTTL = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: cfg.Store, sealer: cfg.Sealer, issuer: cfg.Issuer, ttl: cfg.EnrollmentTTL, now: cfg.Now}, nil
}

// Enrollment is what the user needs to add Gatehouse to an authenticator app.
// Show it to that user only, once; it is the second factor itself.
type Enrollment struct {
	// Secret is the shared secret in base32, for typing in by hand.
	Secret string `json:"secret"`
	// URI is the otpauth:// URI the QR code holds.
	URI string `json:"otpauth_uri"`
	// QRCode is the URI as a PNG image in a data: URL.
	QRCode string `json:"qr_code"`
}

// BeginEnrollment makes a new secret for the user and stores it unconfirmed,
// replacing an enrolment the user started before. TOTP is not on until
// ConfirmEnrollment. While it is on, this is ErrAlreadyEnabled: Disable
// first, with a code, so that a stolen session alone cannot move the second
// factor to an attacker's app.
func (s *Service) BeginEnrollment(ctx context.Context, user *auth.User) (*Enrollment, error) {
	account := user.Email
	if account == "" {
		account = user.Username
	}
	secret, uri, qr, err := Enroll(s.issuer, account)
	if err != nil {
		return nil, auth.Internal(err)
	}
	sealed, err := s.sealer.Seal([]byte(secret), sealData(user.ID))
	if err != nil {
		return nil, auth.Internal(fmt.Errorf("seal totp secret: %w", err))
	}
	err = s.store.SaveTOTP(ctx, &auth.TOTPSecret{UserID: user.ID, Sealed: sealed, CreatedAt: s.now()})
	if auth.IsConflict(err) {
		return nil, ErrAlreadyEnabled
	}
	if err != nil {
		return nil, err
	}
	return &Enrollment{Secret: secret, URI: uri, QRCode: qr}, nil
}

// ConfirmEnrollment turns TOTP on once the user enters a code from the app,
// which proves the app holds the secret. It returns new recovery codes (they
// replace any earlier ones) to show to the user once. The code that confirmed
// cannot be used again to sign in.
func (s *Service) ConfirmEnrollment(ctx context.Context, user *auth.User, code string) (recoveryCodes []string, err error) {
	sec, err := s.store.FindTOTP(ctx, user.ID)
	switch {
	case auth.IsNotFound(err):
		return nil, ErrNoEnrollment
	case err != nil:
		return nil, err
	case sec.Confirmed:
		return nil, ErrAlreadyEnabled
	}
	now := s.now()
	if now.Sub(sec.CreatedAt) > s.ttl {
		return nil, ErrNoEnrollment
	}
	secret, err := s.open(sec)
	if err != nil {
		return nil, err
	}
	step, ok := Validate(secret, code, now)
	if !ok {
		return nil, ErrEnrollmentCode
	}
	codes, hashes := NewRecoveryCodes()
	err = s.store.ConfirmTOTP(ctx, user.ID, step, hashes, now)
	if auth.IsNotFound(err) {
		// Confirmed or replaced by a concurrent request since we looked.
		return nil, ErrNoEnrollment
	}
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// Verify checks a second-factor code for a user with TOTP on: a code from the
// app, accepted once (the same code again, even within its 30 seconds, is
// ErrWrongCode), or one of the user's recovery codes, spent by its use.
func (s *Service) Verify(ctx context.Context, userID, code string) error {
	sec, err := s.store.FindTOTP(ctx, userID)
	switch {
	case auth.IsNotFound(err):
		return ErrNotEnabled
	case err != nil:
		return err
	case !sec.Confirmed:
		return ErrNotEnabled
	}
	if LooksLikeCode(code) {
		secret, err := s.open(sec)
		if err != nil {
			return err
		}
		step, ok := Validate(secret, code, s.now())
		if !ok {
			return ErrWrongCode
		}
		// The store accepts each step once, across nodes: this is the
		// replay check, so it comes after the code is known to be right.
		if err := s.store.UseTOTPStep(ctx, userID, step); err != nil {
			if auth.ErrorCode(err) == auth.EInvalidCredentials {
				return ErrWrongCode
			}
			return err
		}
		return nil
	}
	if len(code) > recoveryMaxInput || len(NormalizeRecoveryCode(code)) != recoveryChars {
		return ErrWrongCode
	}
	if err := s.store.UseRecoveryCode(ctx, userID, HashRecoveryCode(code)); err != nil {
		if auth.ErrorCode(err) == auth.EInvalidCredentials {
			return ErrWrongCode
		}
		return err
	}
	return nil
}

// Disable turns TOTP off and deletes the recovery codes. It needs a current
// code or a recovery code (checked and spent as by Verify), so that a stolen
// session cannot remove the second factor.
func (s *Service) Disable(ctx context.Context, userID, code string) error {
	if err := s.Verify(ctx, userID, code); err != nil {
		return err
	}
	err := s.store.DeleteTOTP(ctx, userID)
	if auth.IsNotFound(err) {
		return ErrNotEnabled // disabled by a concurrent request
	}
	return err
}

// RegenerateRecoveryCodes replaces the user's recovery codes with new ones,
// to show once. It needs a current code or a recovery code, as Disable does.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID, code string) ([]string, error) {
	if err := s.Verify(ctx, userID, code); err != nil {
		return nil, err
	}
	codes, hashes := NewRecoveryCodes()
	if err := s.store.SaveRecoveryCodes(ctx, userID, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

// Enabled reports whether the user has TOTP on. It returns an error, rather
// than false, when the store fails: a sign-in flow that asks whether a second
// factor is due must not skip it because the database hiccupped.
func (s *Service) Enabled(ctx context.Context, userID string) (bool, error) {
	return auth.TOTPOn(ctx, s.store, userID)
}

// RecoveryCodesLeft returns how many unspent recovery codes the user has.
func (s *Service) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	return s.store.CountRecoveryCodes(ctx, userID)
}

func (s *Service) open(sec *auth.TOTPSecret) (string, error) {
	secret, err := s.sealer.Open(sec.Sealed, sealData(sec.UserID))
	if err != nil {
		return "", auth.Internal(fmt.Errorf("open totp secret of user %s: %w", sec.UserID, err))
	}
	return string(secret), nil
}

// sealData binds a sealed secret to its user: copied to another user's row
// in the database, it does not open.
func sealData(userID string) []byte {
	return []byte("gatehouse totp v1\x00" + userID)
}
