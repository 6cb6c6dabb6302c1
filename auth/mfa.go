package auth

import (
	"context"
	"time"
)

// TOTPSecret is a user's time-based one-time password generator (RFC 6238):
// the shared secret an authenticator app holds, sealed with the master key
// so that a copy of the database alone does not yield it.
type TOTPSecret struct {
	// UserID is the user whose second factor it is; one secret per user.
	UserID string
	// Sealed is the secret, encrypted with the master key and bound to the
	// user (package totp seals and opens it).
	Sealed []byte
	// Confirmed is set once the user has entered a code from the app,
	// proving that it holds the secret. Only a confirmed secret is a second
	// factor; until then it is an enrolment in progress.
	Confirmed bool
	// CreatedAt is when the enrolment started.
	CreatedAt time.Time
	// ConfirmedAt is when the enrolment was confirmed; nil until then.
	ConfirmedAt *time.Time
	// LastUsedStep is the latest time step (Unix time / 30 s) whose code was
	// accepted. A code is accepted only for a later step, so each code works
	// once, on any number of Gatehouse nodes (RFC 6238 §5.2).
	LastUsedStep int64
}

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// MFAStore keeps second factors: TOTP secrets and recovery codes. Recovery
// codes are stored only as hashes, and each works once.
//
// Lookups of a missing record return ENotFound; any other error is a system
// failure.
type MFAStore interface {
	// SaveTOTP stores an unconfirmed enrolment (s.Confirmed is ignored),
	// replacing an earlier unconfirmed one and resetting LastUsedStep. It
	// fills in CreatedAt when zero. While the user has a confirmed secret it
	// is refused with EConflict: the second factor is turned off (with
	// DeleteTOTP) before another takes its place.
	SaveTOTP(ctx context.Context, s *TOTPSecret) error
	// ConfirmTOTP confirms the user's pending enrolment with the step of the
	// code that proved it (so that code cannot be used again) and replaces
	// the user's recovery codes with recoveryHashes, all in one
	// transaction. With no pending enrolment (none at all, or confirmed
	// already, as by a concurrent call) it is ENotFound.
	ConfirmTOTP(ctx context.Context, userID string, step int64, recoveryHashes [][]byte, at time.Time) error
	// FindTOTP returns the user's secret, confirmed or not.
	FindTOTP(ctx context.Context, userID string) (*TOTPSecret, error)
	// DeleteTOTP removes the user's secret and recovery codes. A user with
	// no secret is ENotFound.
	DeleteTOTP(ctx context.Context, userID string) error
	// UseTOTPStep records that a code of this step was accepted. It
	// succeeds only when step is later than LastUsedStep, atomically: of
	// concurrent calls with one step, exactly one succeeds. A step not later
	// is EInvalidCredentials; a user with no secret ENotFound.
	UseTOTPStep(ctx context.Context, userID string, step int64) error
	// SaveRecoveryCodes replaces the user's recovery codes with these
	// hashes (duplicates count once).
	SaveRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error
	// UseRecoveryCode spends the user's recovery code with this hash,
	// atomically: of concurrent calls with one code, exactly one succeeds.
	// An unknown or spent code is EInvalidCredentials.
	UseRecoveryCode(ctx context.Context, userID string, hash []byte) error
	// CountRecoveryCodes returns how many unspent recovery codes the user has.
	CountRecoveryCodes(ctx context.Context, userID string) (int, error)
}

// TOTPOn reports whether the user has two-step verification on: a confirmed
// TOTP secret in st. An enrolment started but never confirmed does not
// count. A store failure is an error, never false.
func TOTPOn(ctx context.Context, st MFAStore, userID string) (bool, error) {
	sec, err := st.FindTOTP(ctx, userID)
	if IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return sec.Confirmed, nil
}
