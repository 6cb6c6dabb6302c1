package accounts

import (
	"context"
	"log/slog"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// ErrReauthPassword refuses a wrong password given to confirm a sensitive
// change. It is EForbidden, as a wrong current password is for a password
// change (the user is signed in; they may not do this), with the field
// "password" for the form.
var ErrReauthPassword = &auth.Error{Code: auth.EForbidden, Message: "The password is not right.",
	Fields: map[string]string{"password": "The password is not right."}}

// errNoPasswordToConfirm answers a password confirmation for an account
// that has none: it must sign in again another way.
var errNoPasswordToConfirm = &auth.Error{Code: auth.EForbidden,
	Message: "This account has no password. Sign in again to confirm it's you.",
	Fields:  map[string]string{"password": "This account has no password."}}

// ConfirmPassword checks the password of a signed-in user who is asked to
// prove again who they are before a sensitive change (re-authentication,
// ASVS 7.5.1). A wrong password is ErrReauthPassword, and is logged and
// recorded as a failed sign-in with the method "reauth", so that guessing
// through a stolen session shows in the audit log like guessing at the
// sign-in page; the caller applies the rate limits. A right one records
// nothing here: the caller records what it unlocked.
func (s *Service) ConfirmPassword(ctx context.Context, userID, password string) error {
	u, err := s.cfg.Store.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	if !u.HasPassword() {
		return errNoPasswordToConfirm
	}
	if len(password) > s.cfg.MaxPasswordBytes {
		return ErrReauthPassword
	}
	ok, err := s.cfg.Hasher.Verify(password, u.PasswordHash)
	if busy(err) {
		return err
	}
	if err != nil || !ok {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "password confirmation refused", slog.String("user_id", u.ID))
		s.cfg.Audit.Record(ctx, auth.EventLoginFailed, u.ID, u.ID, map[string]string{"reason": "wrong password", "method": "reauth"})
		return ErrReauthPassword
	}
	return nil
}
