package accounts

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
)

var errResetLink = auth.Errorf(auth.EInvalidToken,
	"This reset link is invalid, used or expired. Ask for a new one.")

// RequestPasswordReset mails a link that sets a new password to address, if
// an active account has it.
//
// The answer must not tell whether the address has an account, by its
// content or by its timing (OWASP Forgot Password Cheat Sheet; ASVS 6.3.8).
// So the method checks only the rate limits, which count every address alike,
// puts the request on a bounded queue and returns at once; a worker then
// looks the address up and, for an account, stores the link's token and its
// mail in one transaction (see Flush and Close). An address with no account,
// a disabled account and a full queue all end silently, and the caller
// answers the same way every time. A request lost in a crash before the
// worker ran leaves nothing behind but a user who asks again; once the token
// is stored, the outbox delivers its mail through restarts and outages.
//
// The link carries 256 random bits, of which only a hash is stored; it works
// once, within ResetTTL, for the account and address it was sent for, and
// dies when a newer link is requested or the password changes. It is built
// from the configured public URL, never from the request.
func (s *Service) RequestPasswordReset(ctx context.Context, address string, ip netip.Addr) error {
	if !s.MailEnabled() {
		return errMailOff
	}
	address = auth.NormalizeEmail(address)
	if err := s.checkMailLimit(ctx, address, ip); err != nil {
		return err
	}
	s.later(ctx, "password reset", func(ctx context.Context) error {
		u, err := s.lookupForMail(ctx, address)
		if u == nil || err != nil {
			return err
		}
		err = s.inTxWithMail(ctx, func(tx auth.Store) error {
			if err := tx.DeleteTokens(ctx, auth.PurposeReset, u.ID); err != nil {
				return err
			}
			secret, err := s.newLink(ctx, tx, ResetPrefix, auth.PurposeReset, u.ID, u.Email, s.cfg.Email.ResetTTL)
			if err != nil {
				return err
			}
			return s.enqueue(ctx, tx, mail.KindPasswordReset, u.Email, mail.Data{UserName: u.Username,
				Link: "/reset-password/" + secret, ExpiresIn: s.cfg.Email.ResetTTL})
		})
		if err != nil {
			return err
		}
		s.cfg.Audit.Record(ctx, auth.EventPasswordResetRequested, "", u.ID, nil)
		return nil
	})
	return nil
}

// CheckResetLink reports whether a reset link can still be used, without
// spending it, and returns its account (for the page that asks for the new
// password).
func (s *Service) CheckResetLink(ctx context.Context, secret string) (*auth.User, error) {
	if !wellFormed(secret, ResetPrefix) {
		return nil, errResetLink
	}
	tok, err := s.cfg.Store.FindToken(ctx, auth.PurposeReset, auth.HashSecret(secret), s.cfg.Now())
	if err != nil {
		return nil, tokenError(err, errResetLink)
	}
	return s.resetTarget(ctx, s.cfg.Store, tok)
}

// resetTarget returns the account a reset token is for, if the token still
// applies to it: the account is active and still has the address the link
// was sent to.
func (s *Service) resetTarget(ctx context.Context, st auth.UserStore, tok *auth.OneTimeToken) (*auth.User, error) {
	u, err := st.FindUserByID(ctx, tok.UserID)
	if auth.IsNotFound(err) {
		return nil, errResetLink
	}
	if err != nil {
		return nil, err
	}
	if !u.Active || subtle.ConstantTimeCompare([]byte(u.Email), []byte(tok.Data)) != 1 {
		return nil, errResetLink
	}
	return u, nil
}

// ResetPassword spends a reset link to set a new password. The new password
// is checked against the policy first, so that a refused password does not
// burn the link. Then, in one transaction, the link is spent (once, whatever
// the concurrency), the password replaced, the address marked confirmed (the
// link proved the user reads it), every other link of the account (resets,
// sign-in mails, pending address changes) cancelled and a "your password was
// changed" notice queued. Finally every session of the user ends, and with
// them their refresh tokens and, through the revocation feed, their access
// tokens. The user is not signed in: they sign in with the new password,
// and any second factor, as usual.
func (s *Service) ResetPassword(ctx context.Context, secret, next string) (*auth.User, error) {
	u, err := s.CheckResetLink(ctx, secret)
	if err != nil {
		return nil, err
	}
	if msg := s.CheckPassword(next, u.Username, u.Email); msg != "" {
		return nil, &auth.Error{Code: auth.EValidation, Message: msg, Fields: map[string]string{"password": msg}}
	}
	h, err := s.cfg.Hasher.Hash(next)
	if busy(err) {
		return nil, err
	}
	if err != nil {
		return nil, auth.Internal(fmt.Errorf("hash password: %w", err))
	}
	err = s.inTxWithMail(ctx, func(tx auth.Store) error {
		tok, err := tx.ConsumeToken(ctx, auth.PurposeReset, auth.HashSecret(secret), s.cfg.Now())
		if err != nil {
			return err
		}
		cur, err := s.resetTarget(ctx, tx, tok)
		if err != nil {
			return err
		}
		yes := true
		if u, err = tx.UpdateUser(ctx, cur.ID, auth.UserUpdate{PasswordHash: &h, EmailVerified: &yes}); err != nil {
			return err
		}
		if err := s.cancelLinks(ctx, tx, u); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, mail.KindPasswordChanged, u.Email, mail.Data{UserName: u.Username, Link: "/reset-password"})
	})
	if err != nil {
		return nil, tokenError(err, errResetLink)
	}
	if err := s.revokeAll(ctx, u.ID, "password reset"); err != nil {
		return nil, err
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "password reset", slog.String("user_id", u.ID))
	s.cfg.Audit.Record(ctx, auth.EventPasswordReset, u.ID, u.ID, nil)
	return u, nil
}

// cancelLinks ends every outstanding link and code of u: after a password
// reset, nothing issued before it (an attacker's pending change of address
// among them) may still act on the account.
func (s *Service) cancelLinks(ctx context.Context, tx auth.Store, u *auth.User) error {
	for _, p := range []string{auth.PurposeReset, auth.PurposeEmailChange, auth.PurposeEmailLogin} {
		if err := tx.DeleteTokens(ctx, p, u.ID); err != nil {
			return err
		}
	}
	return tx.DeleteToken(ctx, auth.PurposeEmailCode, codeKey(u.Email))
}

// setPassword stores a changed password, ends the reset links made for the
// old one, and queues a notice to the user, in one transaction.
func (s *Service) setPassword(ctx context.Context, u *auth.User, hash string) error {
	if !s.MailEnabled() {
		_, err := s.cfg.Store.UpdateUser(ctx, u.ID, auth.UserUpdate{PasswordHash: &hash})
		return err
	}
	return s.inTxWithMail(ctx, func(tx auth.Store) error {
		if _, err := tx.UpdateUser(ctx, u.ID, auth.UserUpdate{PasswordHash: &hash}); err != nil {
			return err
		}
		if err := tx.DeleteTokens(ctx, auth.PurposeReset, u.ID); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, mail.KindPasswordChanged, u.Email, mail.Data{UserName: u.Username, Link: "/reset-password"})
	})
}
