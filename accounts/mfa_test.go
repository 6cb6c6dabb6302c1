package accounts_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/audit"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// turnTOTPOn gives the user a confirmed TOTP secret and a recovery code, as
// package totp's enrolment leaves them (the secret is not a sealed one:
// nothing here opens it).
func turnTOTPOn(t *testing.T, st auth.Store, userID string) {
	t.Helper()
	ctx := context.Background()
	if err := st.SaveTOTP(ctx, &auth.TOTPSecret{UserID: userID, Sealed: []byte("sealed")}); err != nil {
		t.Fatal(err)
	}
	if err := st.ConfirmTOTP(ctx, userID, 1, [][]byte{[]byte("recovery hash")}, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// forEachMFABackend runs fn with an account service with mail, audit and a session ender,
// over each backend in turn.
func forEachMFABackend(t *testing.T, fn func(t *testing.T, svc *accounts.Service, st auth.Store, rev *sessionEnder, s *mailService)) {
	for _, b := range storetest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			clk := newClock()
			outbox, err := mail.NewOutbox(mail.OutboxConfig{PublicURL: publicURL, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			rev := &sessionEnder{st: st}
			svc, err := accounts.New(accounts.Config{Store: st, Hasher: fastHasher(t), Now: clk.Now, Sessions: rev,
				Logger: logger, Audit: audit.New(st, clk.Now, logger), Email: accounts.EmailConfig{Outbox: outbox}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(svc.Close)
			fn(t, svc, st, rev, &mailService{Service: svc, st: st, clk: clk, rev: rev})
		})
	}
}

// notices keeps the mails other than the verification mail of sign-up.
func notices(mails []*auth.OutboxMail) []*auth.OutboxMail {
	var out []*auth.OutboxMail
	for _, m := range mails {
		if m.Kind != mail.KindVerifyEmail {
			out = append(out, m)
		}
	}
	return out
}

func kindsOf(mails []*auth.OutboxMail) string {
	var out []string
	for _, m := range mails {
		out = append(out, m.Kind)
	}
	return strings.Join(out, " ")
}

func TestResetMFA(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, svc *accounts.Service, st auth.Store, rev *sessionEnder, ms *mailService) {
		ctx := context.Background()
		root := reg(t, svc, "root", "user", "admin")
		bob := reg(t, svc, "bob", "user")

		// Refusals change nothing, end no session and send no mail.
		if err := svc.ResetMFA(ctx, root, bob.ID); code(err) != auth.EConflict {
			t.Errorf("ResetMFA(TOTP off) = %v, want conflict", err)
		}
		if err := svc.ResetMFA(ctx, root, "nosuchuser"); code(err) != auth.ENotFound {
			t.Errorf("ResetMFA(unknown user) = %v, want not_found", err)
		}
		turnTOTPOn(t, st, root.ID)
		if err := svc.ResetMFA(ctx, root, root.ID); code(err) != auth.EForbidden {
			t.Errorf("ResetMFA(self) = %v, want forbidden", err)
		}
		// An enrolment never confirmed is not "on".
		if err := st.SaveTOTP(ctx, &auth.TOTPSecret{UserID: bob.ID, Sealed: []byte("pending")}); err != nil {
			t.Fatal(err)
		}
		if err := svc.ResetMFA(ctx, root, bob.ID); code(err) != auth.EConflict {
			t.Errorf("ResetMFA(unconfirmed enrolment) = %v, want conflict", err)
		}
		if on, err := svc.TOTPEnabled(ctx, root.ID); err != nil || !on {
			t.Errorf("TOTPEnabled(root) after a refused reset = %v, %v; want true", on, err)
		}
		if len(rev.by) != 0 || kindsOf(notices(ms.outbox(t, "bob@example.com"))) != "" || kindsOf(notices(ms.outbox(t, "root@example.com"))) != "" {
			t.Fatalf("refused resets ended sessions %v or sent mail", rev.by)
		}

		turnTOTPOn(t, st, bob.ID)
		if on, _ := svc.TOTPEnabled(ctx, bob.ID); !on {
			t.Fatal("TOTPEnabled(bob) = false after turning it on")
		}
		if err := svc.ResetMFA(ctx, root, bob.ID); err != nil {
			t.Fatalf("ResetMFA(bob) = %v", err)
		}
		if on, err := svc.TOTPEnabled(ctx, bob.ID); err != nil || on {
			t.Errorf("TOTPEnabled(bob) after the reset = %v, %v; want false", on, err)
		}
		if n, err := st.CountRecoveryCodes(ctx, bob.ID); err != nil || n != 0 {
			t.Errorf("recovery codes after the reset = %d, %v; want none", n, err)
		}
		if want := bob.ID + ": two-step verification reset by an admin"; len(rev.by) != 1 || rev.by[0] != want {
			t.Errorf("sessions ended = %q, want [%q]", rev.by, want)
		}
		mails := notices(ms.outbox(t, "bob@example.com"))
		if kindsOf(mails) != mail.KindMFADisabled || !strings.Contains(mails[0].Text, "An administrator turned off") ||
			!strings.Contains(mails[0].Text, publicURL+"/account/mfa") {
			t.Errorf("mails to bob = %q, want one mfa_disabled notice by an administrator", kindsOf(mails))
		}
		ev, _, err := st.FindEvents(ctx, auth.EventFilter{Type: auth.EventTOTPReset})
		if err != nil || len(ev) != 1 || ev[0].ActorID != root.ID || ev[0].TargetID != bob.ID {
			t.Errorf("mfa.totp_reset events = %+v, %v; want one by root about bob", ev, err)
		}

		// The command line (no actor) may reset anyone's, an admin's own too.
		if err := svc.ResetMFA(ctx, nil, root.ID); err != nil {
			t.Errorf("ResetMFA(nil actor, root) = %v", err)
		}
		ev, _, _ = st.FindEvents(ctx, auth.EventFilter{Type: auth.EventTOTPReset})
		if len(ev) != 2 || ev[0].TargetID != root.ID || ev[0].ActorID != "" {
			t.Errorf("the latest mfa.totp_reset event = %+v, want one about root with no actor", ev[0])
		}
	})
}

// Without mail, the reset works the same and sends nothing.
func TestResetMFAWithoutMail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, _ *accounts.Service, st auth.Store, clk *clock, _ *bytes.Buffer) {
		ctx := context.Background()
		svc, rv := newAdminService(t, st, clk)
		bob := reg(t, svc, "bob", "user")
		turnTOTPOn(t, st, bob.ID)
		if err := svc.ResetMFA(ctx, nil, bob.ID); err != nil {
			t.Fatalf("ResetMFA() = %v", err)
		}
		if on, _ := svc.TOTPEnabled(ctx, bob.ID); on || len(rv.users) != 1 {
			t.Errorf("after the reset: TOTP on %v, sessions ended of %v; want off and bob's ended", on, rv.users)
		}
		if n, _ := st.CountPendingMails(ctx); n != 0 {
			t.Errorf("%d mails queued without mail configured", n)
		}
	})
}

// Each change a user makes to their two-step verification is mailed to
// them, with a link to review it; an account without an address gets none.
func TestNotifyMFAChange(t *testing.T) {
	forEachMFABackend(t, func(t *testing.T, svc *accounts.Service, st auth.Store, _ *sessionEnder, ms *mailService) {
		ctx := context.Background()
		ann := reg(t, svc, "ann", "user")
		for _, c := range []accounts.MFAChange{accounts.MFATurnedOn, accounts.RecoveryCodesRenewed, accounts.MFATurnedOff} {
			svc.NotifyMFAChange(ctx, ann, c)
		}
		mails := notices(ms.outbox(t, "ann@example.com"))
		if got, want := kindsOf(mails), "mfa_enabled recovery_codes_renewed mfa_disabled"; got != want {
			t.Fatalf("mails to ann = %q, want %q", got, want)
		}
		for _, m := range mails {
			if !strings.Contains(m.Text, "Hi ann,") || !strings.Contains(m.Text, publicURL+"/account/mfa") || m.HTML == "" {
				t.Errorf("the %s notice lacks the greeting, the link or its HTML:\n%s", m.Kind, m.Text)
			}
		}
		if strings.Contains(mails[2].Text, "An administrator") {
			t.Errorf("the user's own turning off reads as an admin's:\n%s", mails[2].Text)
		}

		before, _ := st.CountPendingMails(ctx)
		noAddress := *ann
		noAddress.Email = ""
		svc.NotifyMFAChange(ctx, &noAddress, accounts.MFATurnedOn)
		svc.NotifyMFAChange(ctx, ann, accounts.MFAChange(99))
		if n, _ := st.CountPendingMails(ctx); n != before {
			t.Errorf("%d mails queued, want still %d", n, before)
		}
	})
}
