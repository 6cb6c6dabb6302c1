package accounts

import (
	"context"
	"log/slog"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
)

// Two-step verification as the account service sees it: an admin's reset of
// a user's TOTP, and the notices a user gets when theirs changes. Turning
// TOTP on and off with a code is package totp's, since there the user proves
// the factor; the reset is here, beside the other admin actions, because it
// acts on someone else's account without the factor, under the same guards
// and with the same records.

var (
	errSelfResetMFA = auth.Errorf(auth.EForbidden,
		"You cannot turn off your own two-step verification here: do it on your account's two-step verification page, with a code.")
	errMFANotOn = auth.Errorf(auth.EConflict, "Two-step verification is not on for this user.")
)

// TOTPEnabled reports whether the user has two-step verification (TOTP) on:
// a confirmed authenticator app. An enrolment the user started but never
// confirmed does not count. A store failure is an error, never false.
func (s *Service) TOTPEnabled(ctx context.Context, userID string) (bool, error) {
	return auth.TOTPOn(ctx, s.cfg.Store, userID)
}

// ResetMFA turns off a user's two-step verification on behalf of actor (nil
// for the command line), without a code: it is for a user who lost their
// authenticator app and their recovery codes. The TOTP secret and every
// recovery code are deleted; the user signs in with their password alone
// and, if their role requires two-step verification, must set it up again
// before the session reaches anything else. Whoever resets it should first
// make sure, by some other channel, that the request comes from the user:
// the reset hands the account to anyone who knows the password.
//
// Nobody resets their own two-step verification here. With a code they turn
// it off on their own page; without the guard a stolen admin session could
// strip its own second factor, which is what the code that totp.Service's
// Disable asks for prevents. The command line may, so that an admin who lost
// their phone can still be let back in by whoever runs the server.
//
// Every session of the user ends, and with them their refresh tokens and,
// through the revocation feed, their access tokens. A careful operator
// expects this, for three reasons: a lost phone may still be signed in, in
// the hands of whoever has it now; a session that outlived the reset would
// carry a sign-in proved with a factor that no longer exists; and the user's
// own turning off ends their other sessions too (SE-05). The cost is one
// sign-in on each of the user's other devices.
//
// With mail on, the deletion and a notice to the account's address are one
// transaction: the user hears of the reset if, and only if, it happened.
// The event auth.EventTOTPReset records actor and target.
//
// Errors: ENotFound for an unknown user; EConflict when two-step
// verification is not on (an enrolment never confirmed is left alone);
// EForbidden for an actor resetting their own.
func (s *Service) ResetMFA(ctx context.Context, actor *auth.User, targetID string) error {
	if actor != nil && actor.ID == targetID {
		return errSelfResetMFA
	}
	reset := func(tx auth.Store) error {
		u, err := tx.FindUserByID(ctx, targetID)
		if err != nil {
			return err
		}
		if on, err := auth.TOTPOn(ctx, tx, targetID); err != nil {
			return err
		} else if !on {
			return errMFANotOn
		}
		if err := tx.DeleteTOTP(ctx, targetID); auth.IsNotFound(err) {
			return errMFANotOn // turned off by a concurrent request
		} else if err != nil {
			return err
		}
		if !s.MailEnabled() || u.Email == "" {
			return nil
		}
		return s.enqueue(ctx, tx, mail.KindMFADisabled, u.Email, mail.Data{UserName: u.Username, ByAdmin: true, Link: "/account/mfa"})
	}
	var err error
	if s.MailEnabled() {
		err = s.inTxWithMail(ctx, reset)
	} else {
		err = s.cfg.Store.InTx(ctx, reset)
	}
	if err != nil {
		return err
	}
	// The factor is gone whatever happens next, so the record comes first.
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "two-step verification reset", slog.String("user_id", targetID),
		slog.String("actor_id", actorID(actor)))
	s.cfg.Audit.Record(ctx, auth.EventTOTPReset, actorID(actor), targetID, nil)
	return s.revokeAll(ctx, targetID, "two-step verification reset by an admin")
}

// MFAChange is a change a user made to their own two-step verification, of
// which NotifyMFAChange tells them.
type MFAChange int

// The changes to two-step verification that the user is told of.
const (
	MFATurnedOn MFAChange = iota + 1
	MFATurnedOff
	RecoveryCodesRenewed
)

var mfaNotices = map[MFAChange]string{
	MFATurnedOn:          mail.KindMFAEnabled,
	MFATurnedOff:         mail.KindMFADisabled,
	RecoveryCodesRenewed: mail.KindRecoveryCodesRenewed,
}

// NotifyMFAChange mails u a security notice of a change they just made to
// their two-step verification, when mail is on and the account has an
// address: should someone else have made it with a stolen session, the owner
// learns of it. Package totp has stored the change already, and it may have
// made recovery codes that must still reach the user, so a notice that
// cannot be queued is logged rather than failing the request, as with
// PasskeyAdded. (An admin's reset, made here, queues its notice in the
// reset's own transaction.)
func (s *Service) NotifyMFAChange(ctx context.Context, u *auth.User, c MFAChange) {
	kind, ok := mfaNotices[c]
	if !ok || !s.MailEnabled() || u.Email == "" {
		return
	}
	err := s.cfg.Email.Outbox.Enqueue(ctx, s.cfg.Store, kind, u.Email, mail.Data{UserName: u.Username, Link: "/account/mfa"})
	if err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "two-step verification notice not queued", slog.String("user_id", u.ID),
			slog.String("kind", kind), slog.String("error", err.Error()))
	}
}
