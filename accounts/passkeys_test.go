package accounts_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

func newPasskey(credentialID string) *auth.Passkey {
	return &auth.Passkey{CredentialID: []byte(credentialID), PublicKey: []byte{1}, Algorithm: -7, Name: "Passkey",
		BackupEligible: true, BackupState: true, UserVerified: true}
}

func handle(b byte) []byte { return bytes.Repeat([]byte{b}, auth.UserHandleLen) }

func TestRegisterWithPasskey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, svc *accounts.Service, st auth.Store, _ *clock, _ *bytes.Buffer) {
		ctx := context.Background()
		svc.Register(ctx, accounts.Registration{Username: "alice", Email: "alice@example.com", Password: "a long password"})

		for _, tc := range []struct {
			name     string
			reg      accounts.Registration
			wantCode string
			field    string
		}{
			{"valid", accounts.Registration{Username: " nora ", Email: "Nora@Example.com"}, "", ""},
			{"a password is ignored", accounts.Registration{Username: "nora", Email: "nora@example.com", Password: "x"}, "", ""},
			{"invalid username", accounts.Registration{Username: "n", Email: "nora@example.com"}, auth.EValidation, "username"},
			{"taken username", accounts.Registration{Username: "ALICE", Email: "nora@example.com"}, auth.EConflict, "username"},
			{"taken email", accounts.Registration{Username: "nora", Email: "alice@EXAMPLE.com"}, auth.EConflict, "email"},
		} {
			r := tc.reg
			err := svc.CheckPasskeySignUp(ctx, &r)
			var e *auth.Error
			if code(err) != tc.wantCode || (tc.field != "" && (!asError(err, &e) || e.Fields[tc.field] == "")) {
				t.Errorf("CheckPasskeySignUp(%s) = %v, want %q naming %q", tc.name, err, tc.wantCode, tc.field)
			}
			if err == nil && (r.Username != "nora" || r.Email != "nora@example.com" || r.Password != "") {
				t.Errorf("CheckPasskeySignUp(%s) left %+v, want it normalised and without a password", tc.name, r)
			}
		}

		id := auth.NewID()
		u, err := svc.RegisterWithPasskey(ctx, accounts.Registration{Username: "nora", Email: "nora@example.com", Password: "ignored"}, id, handle(1), newPasskey("nora-1"))
		if err != nil || u.ID != id || u.HasPassword() || !u.Active || len(u.Roles) != 1 {
			t.Fatalf("RegisterWithPasskey() = %+v, %v", u, err)
		}
		if got, err := st.FindUserByHandle(ctx, handle(1)); err != nil || got != id {
			t.Errorf("FindUserByHandle() = %q, %v; want nora", got, err)
		}

		// A taken username, found only at the end, leaves nothing behind.
		other := auth.NewID()
		_, err = svc.RegisterWithPasskey(ctx, accounts.Registration{Username: "alice", Email: "new@example.com"}, other, handle(2), newPasskey("other-1"))
		if code(err) != auth.EConflict {
			t.Errorf("RegisterWithPasskey(taken username) = %v, want EConflict", err)
		}
		// So does a passkey registered to someone already.
		_, err = svc.RegisterWithPasskey(ctx, accounts.Registration{Username: "olga", Email: "olga@example.com"}, other, handle(2), newPasskey("nora-1"))
		if code(err) != auth.EConflict || !strings.Contains(auth.ErrorMessage(err), "passkey") {
			t.Errorf("RegisterWithPasskey(registered passkey) = %v, want EConflict about the passkey", err)
		}
		if _, err := st.FindUserByID(ctx, other); !auth.IsNotFound(err) {
			t.Errorf("after refused sign-ups FindUserByID() = %v, want not found", err)
		}
		if _, err := st.FindUserByHandle(ctx, handle(2)); !auth.IsNotFound(err) {
			t.Errorf("after refused sign-ups FindUserByHandle() = %v, want not found", err)
		}
	})
}

func asError(err error, e **auth.Error) bool { return errors.As(err, e) }

// An account keeps at least one way to sign in: a password, a passkey or a
// linked account.
func TestRemovePasskey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, svc *accounts.Service, st auth.Store, _ *clock, _ *bytes.Buffer) {
		ctx := context.Background()
		nora, err := svc.RegisterWithPasskey(ctx, accounts.Registration{Username: "nora", Email: "nora@example.com"}, auth.NewID(), handle(1), newPasskey("nora-1"))
		if err != nil {
			t.Fatal(err)
		}
		list, _ := st.FindPasskeysByUser(ctx, nora.ID)
		first := list[0].ID

		if ok, err := svc.CanRemovePasskey(ctx, nora, 1); ok || err != nil {
			t.Errorf("CanRemovePasskey(only passkey) = %v, %v; want false", ok, err)
		}
		if err := svc.RemovePasskey(ctx, nora.ID, first); err != accounts.ErrLastSignInMethod {
			t.Errorf("RemovePasskey(only passkey) = %v, want ErrLastSignInMethod", err)
		}
		if err := svc.RemovePasskey(ctx, nora.ID, "missing"); code(err) != auth.ENotFound {
			t.Errorf("RemovePasskey(missing) = %v, want ENotFound", err)
		}
		alice, _ := svc.Register(ctx, accounts.Registration{Username: "alice", Email: "alice@example.com", Password: "a long password"})
		if err := svc.RemovePasskey(ctx, alice.ID, first); code(err) != auth.ENotFound {
			t.Errorf("RemovePasskey(another user's) = %v, want ENotFound", err)
		}

		// A linked account is a way to sign in.
		if err := st.CreateIdentity(ctx, &auth.Identity{UserID: nora.ID, Provider: "github", Issuer: "https://github.com", Subject: "42"}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := svc.CanRemovePasskey(ctx, nora, 1); !ok {
			t.Error("CanRemovePasskey(only passkey, with a linked account) = false, want true")
		}
		if err := svc.RemovePasskey(ctx, nora.ID, first); err != nil {
			t.Errorf("RemovePasskey(with a linked account) = %v", err)
		}
		if ok, _ := svc.CanRemovePasskey(ctx, alice, 1); !ok {
			t.Error("CanRemovePasskey(an account with a password) = false, want true")
		}
	})
}

// With mail on, a passkey sign-up mails the confirmation link, and a passkey
// added later mails a notice.
func TestPasskeyMails(t *testing.T) {
	st := storetest.OpenSQLite(t)
	outbox, err := mail.NewOutbox(mail.OutboxConfig{PublicURL: "https://auth.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := accounts.New(accounts.Config{Store: st, Hasher: fastHasher(t), Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)),
		Email: accounts.EmailConfig{Outbox: outbox, Verification: accounts.VerifyRequired}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	nora, err := svc.RegisterWithPasskey(ctx, accounts.Registration{Username: "nora", Email: "nora@example.com"}, auth.NewID(), handle(1), newPasskey("nora-1"))
	if err != nil {
		t.Fatal(err)
	}
	pk := newPasskey("nora-2")
	pk.UserID = nora.ID
	if err := st.CreatePasskey(ctx, pk); err != nil {
		t.Fatal(err)
	}
	if err := svc.PasskeyAdded(ctx, nora, pk, "Laptop"); err != nil || pk.Name != "Laptop" {
		t.Fatalf("PasskeyAdded() = %v, name %q", err, pk.Name)
	}
	mails, err := st.FindMails(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, m := range mails {
		kinds[m.Kind] = m.Text
	}
	if text := kinds[mail.KindVerifyEmail]; !strings.Contains(text, "https://auth.example.com/verify-email/") {
		t.Errorf("no confirmation link mailed after a passkey sign-up: %v", kinds)
	}
	if text := kinds[mail.KindNewSignInMethod]; !strings.Contains(text, `a passkey named "Laptop"`) {
		t.Errorf("new passkey notice = %q, want it to name the passkey", text)
	}

	// Until the address is confirmed, the passkey does not sign in.
	if _, err := svc.PasskeySignIn(ctx, nora, pk); code(err) != auth.EEmailNotVerified {
		t.Errorf("PasskeySignIn(unconfirmed address) = %v, want EEmailNotVerified", err)
	}
	yes := true
	st.UpdateUser(ctx, nora.ID, auth.UserUpdate{EmailVerified: &yes})
	nora, _ = st.FindUserByID(ctx, nora.ID)
	if u, err := svc.PasskeySignIn(ctx, nora, pk); err != nil || u.LastLoginAt == nil {
		t.Errorf("PasskeySignIn(confirmed) = %+v, %v; want last_login_at set", u, err)
	}
	no := false
	st.UpdateUser(ctx, nora.ID, auth.UserUpdate{Active: &no})
	nora, _ = st.FindUserByID(ctx, nora.ID)
	if _, err := svc.PasskeySignIn(ctx, nora, pk); code(err) != auth.EAccountDisabled {
		t.Errorf("PasskeySignIn(disabled) = %v, want EAccountDisabled", err)
	}
}
