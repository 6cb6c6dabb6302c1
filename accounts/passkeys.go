package accounts

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
)

// The account side of passkeys: signing up and signing in with one, and
// keeping the rule that an account never loses its last way to sign in. The
// WebAuthn ceremonies themselves are package passkey's; these methods run
// once a ceremony has succeeded (or, for CheckPasskeySignUp, before one
// begins).

// CheckPasskeySignUp checks a sign-up that will have a passkey and no
// password before its ceremony begins: the username and email are valid
// (EValidation with fields) and not taken (EConflict naming the field), so
// that the user hears of a problem before their authenticator asks them to
// create a passkey. It normalises r as Register would. A name taken between
// this check and RegisterWithPasskey is still refused there.
func (s *Service) CheckPasskeySignUp(ctx context.Context, r *Registration) error {
	r.Password, r.AllowNoPassword = "", true
	if err := s.Validate(r); err != nil {
		return err
	}
	for _, c := range []struct{ field, login, msg string }{
		{"username", r.Username, "Username is already taken."},
		{"email", r.Email, "Email is already registered."},
	} {
		_, err := s.cfg.Store.FindUserByLogin(ctx, c.login)
		if err == nil {
			return &auth.Error{Code: auth.EConflict, Message: c.msg, Fields: map[string]string{c.field: c.msg}}
		}
		if !auth.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// RegisterWithPasskey creates an account without a password together with
// its first passkey: the user (with the ID userID that the sign-up ceremony
// chose), the WebAuthn user handle the authenticator stored, the passkey and,
// when mail is on and the address is not confirmed, the confirmation link and
// its mail, in one transaction, so that a failure leaves none of them.
// Problems with r are EValidation; a taken username or email EConflict, as
// for Register.
func (s *Service) RegisterWithPasskey(ctx context.Context, r Registration, userID string, handle []byte, pk *auth.Passkey) (*auth.User, error) {
	r.Password, r.AllowNoPassword = "", true
	if err := s.Validate(&r); err != nil {
		return nil, err
	}
	u := &auth.User{
		ID:            userID,
		Username:      r.Username,
		Email:         r.Email,
		EmailVerified: r.EmailVerified,
		Active:        true,
		Roles:         r.Roles,
		CreatedAt:     s.cfg.Now(),
	}
	if u.Roles == nil {
		u.Roles = s.cfg.DefaultRoles
	}
	pk.UserID = userID
	sendLink := !u.EmailVerified && s.MailEnabled()
	inTx := s.cfg.Store.InTx
	if sendLink {
		inTx = s.inTxWithMail
	}
	err := inTx(ctx, func(tx auth.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateUserHandle(ctx, u.ID, handle); err != nil {
			return err
		}
		if err := tx.CreatePasskey(ctx, pk); err != nil {
			if auth.IsConflict(err) {
				return &auth.Error{Code: auth.EConflict, Message: "This passkey is already registered to an account.", Err: err}
			}
			return err
		}
		if sendLink {
			return s.sendVerification(ctx, tx, u)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if sendLink {
		s.cfg.Audit.Record(ctx, auth.EventVerificationSent, "", u.ID, nil)
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "user registered", slog.String("user_id", u.ID), slog.String("method", "passkey"))
	s.cfg.Audit.Record(ctx, auth.EventUserRegistered, "", u.ID, map[string]string{"username": u.Username, "method": "passkey"})
	s.recordPasskeyAdded(ctx, u.ID, pk)
	return u, nil
}

// PasskeyAdded records a passkey just registered to a signed-in user's
// account, naming it name first when name is not empty (an invalid name is
// EValidation, and the passkey keeps its default name), and, when mail is
// on, sends the user a notice that a new way to sign in was added. The
// passkey is stored already, so a notice that cannot be queued is logged
// rather than failing the registration.
func (s *Service) PasskeyAdded(ctx context.Context, u *auth.User, pk *auth.Passkey, name string) error {
	if name != "" && name != pk.Name {
		if err := s.cfg.Store.RenamePasskey(ctx, u.ID, pk.ID, name); err != nil {
			return err
		}
		pk.Name = name
	}
	s.recordPasskeyAdded(ctx, u.ID, pk)
	if s.MailEnabled() && u.Email != "" {
		err := s.cfg.Email.Outbox.Enqueue(ctx, s.cfg.Store, mail.KindNewSignInMethod, u.Email, mail.Data{
			UserName: u.Username, Method: fmt.Sprintf("a passkey named %q", pk.Name), Link: "/account"})
		if err != nil {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "new passkey notice not queued", slog.String("user_id", u.ID),
				slog.String("passkey_id", pk.ID), slog.String("error", err.Error()))
		}
	}
	return nil
}

func (s *Service) recordPasskeyAdded(ctx context.Context, userID string, pk *auth.Passkey) {
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "passkey registered", slog.String("user_id", userID), slog.String("passkey_id", pk.ID))
	s.cfg.Audit.Record(ctx, auth.EventPasskeyRegistered, userID, userID, map[string]string{
		"passkey_id": pk.ID, "name": pk.Name,
		"synced": strconv.FormatBool(pk.Synced()), "device_bound": strconv.FormatBool(pk.DeviceBound()),
	})
}

// PasskeySignIn completes a sign-in whose passkey ceremony succeeded: a
// disabled account is EAccountDisabled, and one whose address must be
// confirmed first EEmailNotVerified (the passkey proved who it is, as a
// correct password does); otherwise last_login_at is recorded and the
// updated user returned.
func (s *Service) PasskeySignIn(ctx context.Context, u *auth.User, pk *auth.Passkey) (*auth.User, error) {
	if !u.Active {
		s.PasskeySignInFailed(ctx, u.ID, "account disabled")
		return nil, auth.Errorf(auth.EAccountDisabled, "This account is disabled.")
	}
	if s.VerificationRequired() && !u.EmailVerified {
		s.PasskeySignInFailed(ctx, u.ID, "email not verified")
		return nil, errEmailNotVerified
	}
	now := s.cfg.Now()
	updated, err := s.cfg.Store.UpdateUser(ctx, u.ID, auth.UserUpdate{LastLoginAt: &now})
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "sign-in succeeded", slog.String("user_id", u.ID), slog.String("method", "passkey"))
	s.cfg.Audit.Record(ctx, auth.EventLoginSucceeded, u.ID, u.ID, map[string]string{"method": "passkey", "passkey_id": pk.ID})
	return updated, nil
}

// PasskeySignInFailed logs and records a refused passkey sign-in. userID is
// "" when the answer named no known account.
func (s *Service) PasskeySignInFailed(ctx context.Context, userID, reason string) {
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "sign-in failed", slog.String("user_id", userID), slog.String("reason", reason), slog.String("method", "passkey"))
	s.cfg.Audit.Record(ctx, auth.EventLoginFailed, "", userID, map[string]string{"reason": reason, "method": "passkey"})
}

// PasskeyCloneWarning records that pk presented a correctly signed
// assertion whose signature counter did not advance; package passkey has
// marked it, and refuses it from now on.
func (s *Service) PasskeyCloneWarning(ctx context.Context, pk *auth.Passkey) {
	s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "passkey may be cloned", slog.String("user_id", pk.UserID), slog.String("passkey_id", pk.ID))
	s.cfg.Audit.Record(ctx, auth.EventPasskeyCloneWarning, "", pk.UserID, map[string]string{"passkey_id": pk.ID, "name": pk.Name})
}

var errNoPasskey = auth.Errorf(auth.ENotFound, "No such passkey.")

// Passkey returns one of the user's passkeys; another user's is ENotFound,
// as a missing one is.
func (s *Service) Passkey(ctx context.Context, userID, id string) (*auth.Passkey, error) {
	list, err := s.cfg.Store.FindPasskeysByUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		if p.ID == id {
			return p, nil
		}
	}
	return nil, errNoPasskey
}

// RenamePasskey renames one of the user's passkeys and returns it. An
// invalid name is EValidation with the field name; another user's passkey
// ENotFound.
func (s *Service) RenamePasskey(ctx context.Context, userID, id, name string) (*auth.Passkey, error) {
	if err := s.cfg.Store.RenamePasskey(ctx, userID, id, name); err != nil {
		if auth.IsNotFound(err) {
			return nil, errNoPasskey
		}
		return nil, err
	}
	pk, err := s.Passkey(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	s.cfg.Audit.Record(ctx, auth.EventPasskeyRenamed, userID, userID, map[string]string{"passkey_id": id, "name": pk.Name})
	return pk, nil
}

// ErrLastSignInMethod refuses to remove an account's only way to sign in.
var ErrLastSignInMethod = &auth.Error{Code: auth.EConflict,
	Message: "This passkey is your only way to sign in. Add another passkey or set a password before you remove it."}

// SignInMethodsLock is the name of the Store.Lock taken by every change that
// removes a way to sign in (a passkey, a password, a linked account), so
// that two removals at once cannot together take an account's last one.
func SignInMethodsLock(userID string) string { return "sign-in-methods:" + userID }

// signInMethods are the ways a user signs in that can be removed one by one.
type signInMethods struct {
	user       *auth.User
	passkeys   []*auth.Passkey
	identities []*auth.Identity
}

// findSignInMethods reads a user's ways to sign in. Call it inside InTx,
// under SignInMethodsLock, before removing one of them.
func findSignInMethods(ctx context.Context, tx auth.Store, userID string) (*signInMethods, error) {
	u, err := tx.FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	passkeys, err := tx.FindPasskeysByUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	identities, err := tx.FindUserIdentities(ctx, userID)
	if err != nil {
		return nil, err
	}
	return &signInMethods{user: u, passkeys: passkeys, identities: identities}, nil
}

// last reports whether exactly one way to sign in is left: no password and
// a single passkey or linked account, which must not be removed.
func (m *signInMethods) last() bool {
	return !m.user.HasPassword() && len(m.passkeys)+len(m.identities) == 1
}

// RemovePasskey deletes one of the user's passkeys, unless it is the
// account's last way to sign in: no password, no other passkey and no linked
// account (ErrLastSignInMethod). The check and the delete run in one
// transaction under SignInMethodsLock. Another user's passkey is ENotFound.
func (s *Service) RemovePasskey(ctx context.Context, userID, id string) error {
	var removed *auth.Passkey
	err := s.cfg.Store.InTx(ctx, func(tx auth.Store) error {
		if err := tx.Lock(ctx, SignInMethodsLock(userID)); err != nil {
			return err
		}
		m, err := findSignInMethods(ctx, tx, userID)
		if err != nil {
			return err
		}
		for _, p := range m.passkeys {
			if p.ID == id {
				removed = p
			}
		}
		if removed == nil {
			return errNoPasskey
		}
		if m.last() {
			return ErrLastSignInMethod
		}
		return tx.DeletePasskey(ctx, userID, id)
	})
	if err != nil {
		return err
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "passkey removed", slog.String("user_id", userID), slog.String("passkey_id", id))
	s.cfg.Audit.Record(ctx, auth.EventPasskeyRemoved, userID, userID, map[string]string{"passkey_id": id, "name": removed.Name})
	return nil
}

// CanRemovePasskey reports whether a user who has n passkeys could remove
// one without losing their last way to sign in, as RemovePasskey decides;
// pages use it to offer removal only where it would succeed.
func (s *Service) CanRemovePasskey(ctx context.Context, u *auth.User, n int) (bool, error) {
	if u.HasPassword() || n > 1 {
		return true, nil
	}
	identities, err := s.cfg.Store.FindUserIdentities(ctx, u.ID)
	if err != nil {
		return false, err
	}
	return len(identities) > 0, nil
}
