package accounts

import (
	"context"
	"log/slog"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
)

// The account side of identities at outside providers (Google, GitHub, an
// OpenID Connect provider): making an account through one, linking one to an
// account, signing in with one, and unlinking one without taking an
// account's last way to sign in. Which of these a sign-in leads to is
// package oauthlogin's decision (Decide); these methods carry it out.

// Ways an identity came to be linked, for the audit log's "via".
const (
	LinkedFromAccount  = "account_page"  // the signed-in user linked it
	LinkedAtSignUp     = "sign_up"       // the account was made through the provider
	LinkedTrustedEmail = "trusted_email" // linked on the provider's verified address
)

// ErrLastIdentity refuses to unlink an account's only way to sign in.
var ErrLastIdentity = &auth.Error{Code: auth.EConflict,
	Message: "This is your only way to sign in. Set a password, add a passkey or link another account before you unlink it."}

var errNoIdentity = auth.Errorf(auth.ENotFound, "No such linked account.")

// RegisterWithIdentity creates an account without a password together with
// its link to an identity at an outside provider, in one transaction, so
// that a failure leaves neither. method names the sign-in for the audit log
// ("oauth:<provider>"). r.EmailVerified says whether the provider vouched
// for the address; when it did not and mail is on, the confirmation link is
// queued in the same transaction, as for a password sign-up. Problems with r
// are EValidation; a taken username or email EConflict, as for Register;
// an identity linked meanwhile to another account EConflict too.
func (s *Service) RegisterWithIdentity(ctx context.Context, r Registration, ident *auth.Identity, method string) (*auth.User, error) {
	r.Password, r.AllowNoPassword = "", true
	if err := s.Validate(&r); err != nil {
		return nil, err
	}
	u := &auth.User{
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
	now := s.cfg.Now()
	create := func(tx auth.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		ident.UserID, ident.CreatedAt, ident.LastLoginAt = u.ID, now, now
		if err := tx.CreateIdentity(ctx, ident); err != nil {
			return identityConflict(err)
		}
		if !u.EmailVerified && s.MailEnabled() {
			return s.sendVerification(ctx, tx, u)
		}
		return nil
	}
	var err error
	if !u.EmailVerified && s.MailEnabled() {
		err = s.inTxWithMail(ctx, create)
	} else {
		err = s.cfg.Store.InTx(ctx, create)
	}
	if err != nil {
		return nil, err
	}
	if !u.EmailVerified && s.MailEnabled() {
		s.cfg.Audit.Record(ctx, auth.EventVerificationSent, "", u.ID, nil)
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "user registered", slog.String("user_id", u.ID), slog.String("method", method))
	s.cfg.Audit.Record(ctx, auth.EventUserRegistered, "", u.ID, map[string]string{"username": u.Username, "method": method})
	s.recordIdentityLinked(ctx, u.ID, ident, LinkedAtSignUp)
	return u, nil
}

// identityConflict gives a refused CreateIdentity a message for the user.
func identityConflict(err error) error {
	if auth.IsConflict(err) {
		return &auth.Error{Code: auth.EConflict, Err: err,
			Message: "This account at the provider is already linked to a Gatehouse account."}
	}
	return err
}

// LinkIdentity links ident (its UserID set to u.ID) to u's account: via
// says how (LinkedFromAccount, LinkedTrustedEmail), providerName how the
// provider is called on the pages. An identity linked already, to this
// account or another, is EConflict. When mail is on, the user gets a notice
// that a new way to sign in was added (OA-10): someone who took over a
// session and linked their own account shows up in the user's inbox. A
// notice that cannot be queued is logged rather than failing the link.
func (s *Service) LinkIdentity(ctx context.Context, u *auth.User, ident *auth.Identity, via, providerName string) error {
	ident.UserID = u.ID
	if err := s.cfg.Store.CreateIdentity(ctx, ident); err != nil {
		return identityConflict(err)
	}
	s.recordIdentityLinked(ctx, u.ID, ident, via)
	if s.MailEnabled() && u.Email != "" {
		what := "your " + providerName + " account"
		if ident.Email != "" {
			what += " (" + ident.Email + ")"
		}
		err := s.cfg.Email.Outbox.Enqueue(ctx, s.cfg.Store, mail.KindNewSignInMethod, u.Email, mail.Data{
			UserName: u.Username, Method: what, Link: "/account"})
		if err != nil {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "new identity notice not queued", slog.String("user_id", u.ID),
				slog.String("identity_id", ident.ID), slog.String("error", err.Error()))
		}
	}
	return nil
}

func (s *Service) recordIdentityLinked(ctx context.Context, userID string, ident *auth.Identity, via string) {
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "identity linked", slog.String("user_id", userID),
		slog.String("provider", ident.Provider), slog.String("identity_id", ident.ID), slog.String("via", via))
	s.cfg.Audit.Record(ctx, auth.EventIdentityLinked, userID, userID, map[string]string{
		"provider": ident.Provider, "identity_id": ident.ID, "via": via})
}

// IdentitySignIn completes the provider's half of a sign-in through a linked
// identity: a disabled account is EAccountDisabled (the provider proved who
// it is, as a correct password does); otherwise the identity records what
// the provider said about the address now, last_login_at is set, and the
// sign-in is recorded with the method "oauth:<provider>". A second factor,
// when the user has one, is still to come: the caller asks for it before it
// starts a session.
func (s *Service) IdentitySignIn(ctx context.Context, u *auth.User, ident *auth.Identity, email string, emailVerified bool) (*auth.User, error) {
	method := "oauth:" + ident.Provider
	if !u.Active {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "sign-in failed", slog.String("user_id", u.ID), slog.String("reason", "account disabled"), slog.String("method", method))
		s.cfg.Audit.Record(ctx, auth.EventLoginFailed, "", u.ID, map[string]string{"reason": "account disabled", "method": method})
		return nil, auth.Errorf(auth.EAccountDisabled, "This account is disabled.")
	}
	now := s.cfg.Now()
	if err := s.cfg.Store.TouchIdentity(ctx, ident.ID, email, emailVerified, now); err != nil {
		return nil, err
	}
	updated, err := s.cfg.Store.UpdateUser(ctx, u.ID, auth.UserUpdate{LastLoginAt: &now})
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "sign-in succeeded", slog.String("user_id", u.ID), slog.String("method", method))
	s.cfg.Audit.Record(ctx, auth.EventLoginSucceeded, u.ID, u.ID, map[string]string{"method": method, "identity_id": ident.ID})
	return updated, nil
}

// Identities returns the user's linked identities, oldest first.
func (s *Service) Identities(ctx context.Context, userID string) ([]*auth.Identity, error) {
	return s.cfg.Store.FindUserIdentities(ctx, userID)
}

// UnlinkIdentity removes one of the user's linked identities, unless it is
// the account's last way to sign in: no password, no passkey and no other
// identity (ErrLastIdentity). The check and the delete run in one
// transaction under SignInMethodsLock, as RemovePasskey's do, so that two
// removals at once cannot together take the last way in. Another user's
// identity is ENotFound.
func (s *Service) UnlinkIdentity(ctx context.Context, userID, id string) error {
	var removed *auth.Identity
	err := s.cfg.Store.InTx(ctx, func(tx auth.Store) error {
		if err := tx.Lock(ctx, SignInMethodsLock(userID)); err != nil {
			return err
		}
		m, err := findSignInMethods(ctx, tx, userID)
		if err != nil {
			return err
		}
		for _, i := range m.identities {
			if i.ID == id {
				removed = i
			}
		}
		if removed == nil {
			return errNoIdentity
		}
		if m.last() {
			return ErrLastIdentity
		}
		if err := tx.DeleteIdentity(ctx, userID, id); err != nil {
			if auth.IsNotFound(err) {
				return errNoIdentity
			}
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "identity unlinked", slog.String("user_id", userID),
		slog.String("provider", removed.Provider), slog.String("identity_id", id))
	s.cfg.Audit.Record(ctx, auth.EventIdentityUnlinked, userID, userID, map[string]string{"provider": removed.Provider, "identity_id": id})
	return nil
}

// CanUnlinkIdentity reports whether a user with n linked identities could
// unlink one without losing their last way to sign in, as UnlinkIdentity
// decides; pages use it to offer unlinking only where it would succeed.
func (s *Service) CanUnlinkIdentity(ctx context.Context, u *auth.User, n int) (bool, error) {
	if u.HasPassword() || n > 1 {
		return true, nil
	}
	passkeys, err := s.cfg.Store.FindPasskeysByUser(ctx, u.ID)
	if err != nil {
		return false, err
	}
	return len(passkeys) > 0, nil
}
