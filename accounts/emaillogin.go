package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"net/netip"
	"net/url"
	"strings"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
)

var (
	errLoginLink = auth.Errorf(auth.EInvalidToken,
		"This sign-in link is invalid, used or expired. Ask for a new one.")
	errLoginCode = auth.Errorf(auth.EInvalidToken,
		"That code is not right, or it has expired. Check the latest email, or ask for a new one.")
	errLoginOff = auth.Errorf(auth.ENotFound, "Sign-in by email is not enabled on this server.")
)

// RequestEmailLogin mails a sign-in link and a six-digit code to address: for
// people who read their mail on another device, the code can be typed on the
// device that asked. It answers at once and the same way for every address,
// and prepares the mail afterwards, as RequestPasswordReset does.
//
// An active account with the address gets the mail, which replaces the link
// and code of any earlier one. An address with no account gets one only when
// sign-up by email is on (EmailConfig.LoginSignUp): following it creates the
// account, with the address confirmed and no password.
//
// The link is a 256-bit secret; the code is short, so it is stored under a
// hash of the address with its own hash beside it, and dies after five wrong
// guesses, besides the per-account limit on wrong codes. Both work once,
// within LoginTTL, and using one spends the other.
func (s *Service) RequestEmailLogin(ctx context.Context, address string, ip netip.Addr) error {
	return s.RequestEmailLoginTo(ctx, address, ip, "")
}

// RequestEmailLoginTo is RequestEmailLogin whose link, once followed, goes
// on to next (a path or an allowed URL, checked by the caller, which checks
// it again where the link lands): an app that asked for the mail from its
// own page gets the user back there, signed in.
func (s *Service) RequestEmailLoginTo(ctx context.Context, address string, ip netip.Addr, next string) error {
	if !s.EmailLoginEnabled() {
		return errLoginOff
	}
	address = auth.NormalizeEmail(address)
	if err := s.checkMailLimit(ctx, address, ip); err != nil {
		return err
	}
	s.later(ctx, "email sign-in", func(ctx context.Context) error {
		if auth.ValidateEmail(address) != "" {
			return nil
		}
		u, err := s.cfg.Store.FindUserByLogin(ctx, address)
		switch {
		case auth.IsNotFound(err):
			if !s.cfg.Email.LoginSignUp {
				return nil
			}
			u = nil
		case err != nil:
			return err
		case !u.Active:
			return nil
		}
		return s.sendLoginMail(ctx, address, u, next)
	})
	return nil
}

// sendLoginMail stores a new link and code for address (and u, or nil for a
// sign-up) and queues the mail that carries them.
func (s *Service) sendLoginMail(ctx context.Context, address string, u *auth.User, next string) error {
	userID, name := "", ""
	if u != nil {
		userID, name = u.ID, u.Username
	}
	code, err := newCode()
	if err != nil {
		return err
	}
	err = s.inTxWithMail(ctx, func(tx auth.Store) error {
		if userID != "" {
			if err := tx.DeleteTokens(ctx, auth.PurposeEmailLogin, userID); err != nil {
				return err
			}
		}
		if err := tx.DeleteToken(ctx, auth.PurposeEmailCode, codeKey(address)); err != nil {
			return err
		}
		secret, err := s.newLink(ctx, tx, LoginPrefix, auth.PurposeEmailLogin, userID, address, s.cfg.Email.LoginTTL)
		if err != nil {
			return err
		}
		now := s.cfg.Now()
		err = tx.CreateToken(ctx, &auth.OneTimeToken{Hash: codeKey(address), Purpose: auth.PurposeEmailCode,
			UserID: userID, Data: codeDigest(address, code), CreatedAt: now, ExpiresAt: now.Add(s.cfg.Email.LoginTTL)})
		if err != nil {
			return err
		}
		link := "/login/email/" + secret
		if next != "" {
			link += "?return_to=" + url.QueryEscape(next)
		}
		return s.enqueue(ctx, tx, mail.KindEmailLogin, address, mail.Data{UserName: name,
			Link: link, Code: code, ExpiresIn: s.cfg.Email.LoginTTL})
	})
	if err != nil {
		return err
	}
	s.cfg.Audit.Record(ctx, auth.EventEmailLoginRequested, "", userID, nil)
	return nil
}

// newCode returns six random decimal digits.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// codeKey is the key under which the code mailed to a normalised address is
// stored: one code per address at a time.
func codeKey(address string) []byte {
	h := sha256.Sum256([]byte("gatehouse email code key\x00" + address))
	return h[:]
}

// codeDigest is what is stored of a code: bound to the address, so that a
// code from one address's mail is no use with another address.
func codeDigest(address, code string) string {
	h := sha256.Sum256([]byte("gatehouse email code\x00" + address + "\x00" + code))
	return hex.EncodeToString(h[:])
}

// normalizeCode drops the spaces and dashes people type into codes; it
// returns "" for anything that is not then six digits.
func normalizeCode(code string) string {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code)
	if len(code) != 6 {
		return ""
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return ""
		}
	}
	return code
}

// CheckEmailLoginLink reports whether a sign-in link can still be used,
// without spending it, and returns the address it was sent to (for the page
// that asks the user to go on; opening a link must not sign in, since mail
// scanners open links too).
func (s *Service) CheckEmailLoginLink(ctx context.Context, secret string) (string, error) {
	if !s.EmailLoginEnabled() {
		return "", errLoginOff
	}
	if !wellFormed(secret, LoginPrefix) {
		return "", errLoginLink
	}
	tok, err := s.cfg.Store.FindToken(ctx, auth.PurposeEmailLogin, auth.HashSecret(secret), s.cfg.Now())
	if err != nil {
		return "", tokenError(err, errLoginLink)
	}
	return tok.Data, nil
}

// EmailLoginWithLink spends a sign-in link and returns the user to sign in:
// the account it was sent for, or, for a sign-up link, a new account. The
// code of the same mail dies with it.
func (s *Service) EmailLoginWithLink(ctx context.Context, secret string) (*auth.User, error) {
	if !s.EmailLoginEnabled() {
		return nil, errLoginOff
	}
	if !wellFormed(secret, LoginPrefix) {
		return nil, errLoginLink
	}
	return s.finishEmailLogin(ctx, "link", func(tx auth.Store) (*auth.OneTimeToken, error) {
		tok, err := tx.ConsumeToken(ctx, auth.PurposeEmailLogin, auth.HashSecret(secret), s.cfg.Now())
		if err != nil {
			return nil, tokenError(err, errLoginLink)
		}
		return tok, tx.DeleteToken(ctx, auth.PurposeEmailCode, codeKey(tok.Data))
	})
}

// EmailLoginWithCode checks the code mailed to address and returns the user
// to sign in, as EmailLoginWithLink does. A code is good only with the
// address it was mailed to, and only until five guesses at it were wrong;
// wrong codes also count against the account's limit (EmailConfig.Limits),
// and while that limit is reached even a right code is refused.
func (s *Service) EmailLoginWithCode(ctx context.Context, address, code string) (*auth.User, error) {
	if !s.EmailLoginEnabled() {
		return nil, errLoginOff
	}
	address = auth.NormalizeEmail(address)
	code = normalizeCode(code)
	if code == "" || auth.ValidateEmail(address) != "" {
		return nil, errLoginCode
	}
	// The limit is keyed by the address: a code is always tied to one, and
	// an address without an account is limited like one with.
	if lim := s.cfg.Email.Limits; lim != nil {
		res, err := lim.Code(ctx, address)
		if err != nil {
			return nil, limiterDown(fmt.Errorf("code rate limit: %w", err))
		}
		if !res.Allowed {
			return nil, rateLimited(res)
		}
	}
	tok, err := s.cfg.Store.AttemptToken(ctx, auth.PurposeEmailCode, codeKey(address), maxCodeAttempts, s.cfg.Now())
	if err == nil && subtle.ConstantTimeCompare([]byte(tok.Data), []byte(codeDigest(address, code))) != 1 {
		err = errLoginCode
	}
	if err != nil {
		if auth.ErrorCode(err) != auth.EInvalidToken {
			return nil, err
		}
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "sign-in code refused", slog.String("reason", "wrong or expired code"))
		target := ""
		if tok != nil {
			target = tok.UserID
		}
		s.cfg.Audit.Record(ctx, auth.EventEmailCodeFailed, "", target, nil)
		if lim := s.cfg.Email.Limits; lim != nil {
			if _, err := lim.CodeFailed(ctx, address); err != nil {
				return nil, limiterDown(fmt.Errorf("code rate limit: %w", err))
			}
		}
		return nil, errLoginCode
	}
	return s.finishEmailLogin(ctx, "code", func(tx auth.Store) (*auth.OneTimeToken, error) {
		tok, err := tx.ConsumeToken(ctx, auth.PurposeEmailCode, codeKey(address), s.cfg.Now())
		if err != nil {
			return nil, tokenError(err, errLoginCode)
		}
		tok.Data = address // the code's token holds the digest; the rest wants the address
		return tok, nil
	})
}

// finishEmailLogin spends the link or code (spend) and, in the same
// transaction, finds or creates the account it signs in to and ends the
// other links of that account.
//
// Signing in by email proves the user reads the address, so it confirms it.
// An account whose address was not confirmed until now may have been made
// by someone else who typed the address to squat on it ("pre-hijacking",
// Sudhodanan and Paverd 2022), so the password it was made with is dropped
// and its other sessions end: the owner of the address keeps the account,
// the squatter keeps nothing.
func (s *Service) finishEmailLogin(ctx context.Context, via string, spend func(tx auth.Store) (*auth.OneTimeToken, error)) (*auth.User, error) {
	var u *auth.User
	created, squatted := false, false
	err := s.cfg.Store.InTx(ctx, func(tx auth.Store) error {
		tok, err := spend(tx)
		if err != nil {
			return err
		}
		address := tok.Data
		if tok.UserID == "" {
			// A sign-up link: it makes the account, unless one appeared since.
			if !s.cfg.Email.LoginSignUp {
				return errLoginLink
			}
			if _, err := tx.FindUserByLogin(ctx, address); err == nil {
				return errLoginLink
			} else if !auth.IsNotFound(err) {
				return err
			}
			if u, err = s.createEmailUser(ctx, tx, address); err != nil {
				return err
			}
			created = true
		} else {
			cur, err := tx.FindUserByID(ctx, tok.UserID)
			if auth.IsNotFound(err) {
				return errLoginLink
			}
			if err != nil {
				return err
			}
			if subtle.ConstantTimeCompare([]byte(cur.Email), []byte(address)) != 1 {
				return errLoginLink
			}
			if !cur.Active {
				return auth.Errorf(auth.EAccountDisabled, "This account is disabled.")
			}
			u = cur
		}
		now := s.cfg.Now()
		upd := auth.UserUpdate{LastLoginAt: &now}
		if !u.EmailVerified {
			yes, none := true, ""
			upd.EmailVerified = &yes
			if u.HasPassword() {
				upd.PasswordHash = &none
				squatted = true
			}
		}
		if u, err = tx.UpdateUser(ctx, u.ID, upd); err != nil {
			return err
		}
		if err := tx.DeleteTokens(ctx, auth.PurposeEmailLogin, u.ID); err != nil {
			return err
		}
		return tx.DeleteTokens(ctx, auth.PurposeReset, u.ID)
	})
	if err != nil {
		return nil, err
	}
	if squatted {
		if err := s.revokeAll(ctx, u.ID, "address confirmed by email sign-in"); err != nil {
			return nil, err
		}
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "unconfirmed account claimed by email sign-in: its password was removed",
			slog.String("user_id", u.ID))
	}
	if created {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "user registered", slog.String("user_id", u.ID), slog.String("method", "email"))
		s.cfg.Audit.Record(ctx, auth.EventUserRegistered, "", u.ID, map[string]string{"username": u.Username, "method": "email"})
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "sign-in succeeded", slog.String("user_id", u.ID), slog.String("method", "email_"+via))
	s.cfg.Audit.Record(ctx, auth.EventLoginSucceeded, u.ID, u.ID, map[string]string{"method": "email_" + via})
	return u, nil
}

// createEmailUser makes an account without a password for a confirmed
// address, with a username made from the address.
func (s *Service) createEmailUser(ctx context.Context, tx auth.Store, address string) (*auth.User, error) {
	base := usernameFrom(address)
	for i := 0; i < 8; i++ {
		name := base
		if i > 0 {
			n, err := rand.Int(rand.Reader, big.NewInt(10000))
			if err != nil {
				return nil, err
			}
			name = fmt.Sprintf("%s-%04d", base[:min(len(base), auth.UsernameMaxLen-5)], n.Int64())
		}
		if _, err := tx.FindUserByLogin(ctx, name); err == nil {
			continue
		} else if !auth.IsNotFound(err) {
			return nil, err
		}
		u := &auth.User{Username: name, Email: address, EmailVerified: true, Active: true,
			Roles: s.cfg.DefaultRoles, CreatedAt: s.cfg.Now()}
		if err := tx.CreateUser(ctx, u); err != nil {
			return nil, err
		}
		return u, nil
	}
	return nil, auth.Internal(fmt.Errorf("no free username for %q", base))
}

// usernameFrom makes a valid username from the part of an address before the
// @: letters, digits, _ . - kept, the rest dropped, padded or cut to fit.
func usernameFrom(address string) string {
	local, _, _ := strings.Cut(address, "@")
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
			return r
		}
		return -1
	}, local)
	if len(name) > auth.UsernameMaxLen {
		name = name[:auth.UsernameMaxLen]
	}
	if len(name) < auth.UsernameMinLen {
		name = "user" + name
	}
	return name
}
