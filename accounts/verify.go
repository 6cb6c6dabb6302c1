package accounts

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/netip"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
)

var (
	errEmailNotVerified = auth.Errorf(auth.EEmailNotVerified,
		"Confirm your email address first: open the link we sent you, or ask for a new one.")
	errVerifyLink = auth.Errorf(auth.EInvalidToken,
		"This confirmation link is invalid, used or expired. Ask for a new one.")
	errWrongPassword = &auth.Error{Code: auth.EForbidden, Message: "The password is not right.",
		Fields: map[string]string{"password": "The password is not right."}}
)

// createUser stores a new user and, when its address is not yet confirmed
// and mail is on, the link that confirms it, with its mail: all in one
// transaction, so a user is never left without the link that was promised.
func (s *Service) createUser(ctx context.Context, u *auth.User) error {
	if u.EmailVerified || !s.MailEnabled() {
		return s.cfg.Store.CreateUser(ctx, u)
	}
	err := s.inTxWithMail(ctx, func(tx auth.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return s.sendVerification(ctx, tx, u)
	})
	if err == nil {
		s.cfg.Audit.Record(ctx, auth.EventVerificationSent, "", u.ID, nil)
	}
	return err
}

// sendVerification replaces any earlier confirmation link of u with a new one
// bound to u's current address, and queues the mail, within tx. (The caller
// records the audit event after the commit: the audit log writes outside
// the transaction, and SQLite has one writer.)
func (s *Service) sendVerification(ctx context.Context, tx auth.Store, u *auth.User) error {
	if err := tx.DeleteTokens(ctx, auth.PurposeVerifyEmail, u.ID); err != nil {
		return err
	}
	secret, err := s.newLink(ctx, tx, VerifyPrefix, auth.PurposeVerifyEmail, u.ID, u.Email, s.cfg.Email.VerifyTTL)
	if err != nil {
		return err
	}
	return s.enqueue(ctx, tx, mail.KindVerifyEmail, u.Email, mail.Data{UserName: u.Username,
		Link: "/verify-email/" + secret, ExpiresIn: s.cfg.Email.VerifyTTL})
}

// ResendVerification sends a new confirmation link to address, if it belongs
// to an active account whose address is not yet confirmed. Like
// RequestPasswordReset it answers at once and the same way for every
// address, and prepares the mail afterwards; only the rate limits, which
// apply to every address alike, can make it fail (ERateLimited).
func (s *Service) ResendVerification(ctx context.Context, address string, ip netip.Addr) error {
	if !s.MailEnabled() {
		return errMailOff
	}
	address = auth.NormalizeEmail(address)
	if err := s.checkMailLimit(ctx, address, ip); err != nil {
		return err
	}
	s.later(ctx, "resend verification", func(ctx context.Context) error {
		u, err := s.lookupForMail(ctx, address)
		if u == nil || err != nil || u.EmailVerified {
			return err
		}
		if err := s.inTxWithMail(ctx, func(tx auth.Store) error { return s.sendVerification(ctx, tx, u) }); err != nil {
			return err
		}
		s.cfg.Audit.Record(ctx, auth.EventVerificationSent, "", u.ID, nil)
		return nil
	})
	return nil
}

// lookupForMail finds the active account of a normalised address, or nil
// when there is none (or the address is not one).
func (s *Service) lookupForMail(ctx context.Context, address string) (*auth.User, error) {
	if auth.ValidateEmail(address) != "" {
		return nil, nil
	}
	u, err := s.cfg.Store.FindUserByLogin(ctx, address)
	if auth.IsNotFound(err) || (err == nil && !u.Active) {
		return nil, nil
	}
	return u, err
}

// ConfirmEmail spends a link from a confirmation mail: one that confirms the
// address of a new account (VerifyPrefix), or one that confirms a new
// address (ChangePrefix), which then replaces the old one. The secret's
// prefix says which. A link works once, within its lifetime, and only for
// the address it was sent to: a link for an address the account no longer
// has (or, for a change, a newer change) confirms nothing.
func (s *Service) ConfirmEmail(ctx context.Context, secret string) (*auth.User, error) {
	switch {
	case wellFormed(secret, VerifyPrefix):
		return s.confirmAddress(ctx, secret)
	case wellFormed(secret, ChangePrefix):
		return s.confirmChange(ctx, secret)
	}
	return nil, errVerifyLink
}

func (s *Service) confirmAddress(ctx context.Context, secret string) (*auth.User, error) {
	var u *auth.User
	err := s.cfg.Store.InTx(ctx, func(tx auth.Store) error {
		tok, err := tx.ConsumeToken(ctx, auth.PurposeVerifyEmail, auth.HashSecret(secret), s.cfg.Now())
		if err != nil {
			return err
		}
		cur, err := tx.FindUserByID(ctx, tok.UserID)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(cur.Email), []byte(tok.Data)) != 1 {
			return errVerifyLink
		}
		yes := true
		u, err = tx.UpdateUser(ctx, cur.ID, auth.UserUpdate{EmailVerified: &yes})
		return err
	})
	if err != nil {
		return nil, tokenError(err, errVerifyLink)
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "email address confirmed", slog.String("user_id", u.ID))
	s.cfg.Audit.Record(ctx, auth.EventEmailVerified, u.ID, u.ID, map[string]string{"verified": "true", "by": "link"})
	return u, nil
}

func (s *Service) confirmChange(ctx context.Context, secret string) (*auth.User, error) {
	var u *auth.User
	var old string
	err := s.inTxWithMail(ctx, func(tx auth.Store) error {
		tok, err := tx.ConsumeToken(ctx, auth.PurposeEmailChange, auth.HashSecret(secret), s.cfg.Now())
		if err != nil {
			return err
		}
		cur, err := tx.FindUserByID(ctx, tok.UserID)
		if err != nil {
			return err
		}
		if !cur.Active {
			return errVerifyLink
		}
		old = cur.Email
		yes, next := true, tok.Data
		if u, err = tx.UpdateUser(ctx, cur.ID, auth.UserUpdate{Email: &next, EmailVerified: &yes}); err != nil {
			if auth.IsConflict(err) {
				return auth.Errorf(auth.EConflict, "%s is now used by another account, so your address was not changed.", next)
			}
			return err
		}
		// Links mailed to the old address, and other pending changes, end here.
		for _, p := range []string{auth.PurposeEmailChange, auth.PurposeVerifyEmail, auth.PurposeReset, auth.PurposeEmailLogin} {
			if err := tx.DeleteTokens(ctx, p, u.ID); err != nil {
				return err
			}
		}
		if err := tx.DeleteToken(ctx, auth.PurposeEmailCode, codeKey(old)); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, mail.KindEmailChanged, old, mail.Data{UserName: u.Username, NewEmail: u.Email})
	})
	if err != nil {
		return nil, tokenError(err, errVerifyLink)
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "email address changed", slog.String("user_id", u.ID))
	s.cfg.Audit.Record(ctx, auth.EventEmailChanged, u.ID, u.ID, map[string]string{"from": old, "to": u.Email})
	return u, nil
}

// tokenError turns the store's generic EInvalidToken into the message of the
// kind of link at hand.
func tokenError(err, link error) error {
	if auth.ErrorCode(err) == auth.EInvalidToken {
		return link
	}
	return err
}

// RequestEmailChange starts a change of userID's address to next: it checks
// the password (accounts without one skip this), then mails a confirmation
// link to next. The address changes only when that link is opened
// (ConfirmEmail), and the old address then gets a notice. A newer request
// replaces an older one, and a password reset cancels it.
func (s *Service) RequestEmailChange(ctx context.Context, userID, pw, next string, ip netip.Addr) error {
	if !s.MailEnabled() {
		return errMailOff
	}
	u, err := s.cfg.Store.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	if u.HasPassword() {
		if len(pw) > s.cfg.MaxPasswordBytes {
			return errWrongPassword
		}
		ok, err := s.cfg.Hasher.Verify(pw, u.PasswordHash)
		if busy(err) {
			return err
		}
		if err != nil || !ok {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "email change refused", slog.String("user_id", u.ID), slog.String("reason", "wrong password"))
			return errWrongPassword
		}
	}
	next = auth.NormalizeEmail(next)
	field := func(msg string) error {
		return &auth.Error{Code: auth.EValidation, Message: msg, Fields: map[string]string{"new_email": msg}}
	}
	if msg := auth.ValidateEmail(next); msg != "" {
		return field(msg)
	}
	if next == u.Email {
		return field("That is already your email address.")
	}
	if _, err := s.cfg.Store.FindUserByLogin(ctx, next); err == nil {
		msg := "Email is already registered."
		return &auth.Error{Code: auth.EConflict, Message: msg, Fields: map[string]string{"new_email": msg}}
	} else if !auth.IsNotFound(err) {
		return err
	}
	if err := s.checkMailLimit(ctx, next, ip); err != nil {
		return err
	}
	err = s.inTxWithMail(ctx, func(tx auth.Store) error {
		if err := tx.DeleteTokens(ctx, auth.PurposeEmailChange, u.ID); err != nil {
			return err
		}
		secret, err := s.newLink(ctx, tx, ChangePrefix, auth.PurposeEmailChange, u.ID, next, s.cfg.Email.VerifyTTL)
		if err != nil {
			return err
		}
		return s.enqueue(ctx, tx, mail.KindVerifyEmail, next, mail.Data{UserName: u.Username,
			Link: "/verify-email/" + secret, ExpiresIn: s.cfg.Email.VerifyTTL})
	})
	if err != nil {
		return err
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "email change requested", slog.String("user_id", u.ID))
	s.cfg.Audit.Record(ctx, auth.EventEmailChangeRequested, u.ID, u.ID, map[string]string{"to": next})
	return nil
}
