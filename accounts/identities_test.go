package accounts_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
)

func TestRegisterWithIdentity(t *testing.T) {
	forEachBackend(t, func(t *testing.T, svc *accounts.Service, st auth.Store, _ *clock, _ *bytes.Buffer) {
		ctx := context.Background()
		ident := &auth.Identity{Provider: "corp", Issuer: "https://id.example", Subject: "42", Email: "eve@example.com", EmailVerified: true}
		u, err := svc.RegisterWithIdentity(ctx, accounts.Registration{Username: "eve", Email: "Eve@Example.com", EmailVerified: true}, ident, "oauth:corp")
		if err != nil {
			t.Fatalf("RegisterWithIdentity() = %v", err)
		}
		if u.HasPassword() || !u.EmailVerified || u.Email != "eve@example.com" || len(u.Roles) != 1 || u.Roles[0] != auth.RoleUser {
			t.Errorf("new user = %+v, want a passwordless, verified user with the default role", u)
		}
		got, err := st.FindIdentity(ctx, "corp", "https://id.example", "42")
		if err != nil || got.UserID != u.ID {
			t.Errorf("FindIdentity = %+v, %v; want it linked to %s", got, err, u.ID)
		}

		// The same identity again, for another new account: refused, and
		// the account is not left behind.
		again := &auth.Identity{Provider: "corp", Issuer: "https://id.example", Subject: "42"}
		_, err = svc.RegisterWithIdentity(ctx, accounts.Registration{Username: "eve2", Email: "eve2@example.com"}, again, "oauth:corp")
		if code(err) != auth.EConflict {
			t.Errorf("RegisterWithIdentity(identity taken) = %v, want conflict", err)
		}
		if _, err := st.FindUserByLogin(ctx, "eve2"); !auth.IsNotFound(err) {
			t.Errorf("FindUserByLogin(eve2) = %v, want not_found: the account must roll back with its identity", err)
		}

		// Signing in with it: recorded; a disabled account is refused.
		if _, err := svc.IdentitySignIn(ctx, u, got, "eve@example.com", true); err != nil {
			t.Errorf("IdentitySignIn() = %v", err)
		}
		off := false
		disabled, _ := st.UpdateUser(ctx, u.ID, auth.UserUpdate{Active: &off})
		if _, err := svc.IdentitySignIn(ctx, disabled, got, "", false); code(err) != auth.EAccountDisabled {
			t.Errorf("IdentitySignIn(disabled) = %v, want account_disabled", err)
		}

		// Linking an identity linked elsewhere is a conflict.
		bob, err := svc.Register(ctx, accounts.Registration{Username: "bob", Email: "bob@example.com", Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.LinkIdentity(ctx, bob, &auth.Identity{Provider: "corp", Issuer: "https://id.example", Subject: "42"}, accounts.LinkedFromAccount, "Corp"); code(err) != auth.EConflict {
			t.Errorf("LinkIdentity(linked to eve) = %v, want conflict", err)
		}
		if err := svc.LinkIdentity(ctx, bob, &auth.Identity{Provider: "corp", Issuer: "https://id.example", Subject: "43"}, accounts.LinkedFromAccount, "Corp"); err != nil {
			t.Errorf("LinkIdentity() = %v", err)
		}
		list, _ := svc.Identities(ctx, bob.ID)
		if ok, _ := svc.CanUnlinkIdentity(ctx, bob, len(list)); len(list) != 1 || !ok {
			t.Errorf("bob has %d identities, can unlink %v; want 1, true (he has a password)", len(list), ok)
		}
	})
}

func TestConfirmPassword(t *testing.T) {
	forEachBackend(t, func(t *testing.T, svc *accounts.Service, st auth.Store, _ *clock, _ *bytes.Buffer) {
		ctx := context.Background()
		u, err := svc.Register(ctx, accounts.Registration{Username: "pat", Email: "pat@example.com", Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.ConfirmPassword(ctx, u.ID, "correct horse battery"); err != nil {
			t.Errorf("ConfirmPassword(right) = %v", err)
		}
		if err := svc.ConfirmPassword(ctx, u.ID, "wrong"); err != accounts.ErrReauthPassword {
			t.Errorf("ConfirmPassword(wrong) = %v, want ErrReauthPassword", err)
		}
		nopw, _ := svc.Register(ctx, accounts.Registration{Username: "nopw", Email: "nopw@example.com", AllowNoPassword: true})
		if err := svc.ConfirmPassword(ctx, nopw.ID, ""); code(err) != auth.EForbidden {
			t.Errorf("ConfirmPassword(no password set) = %v, want forbidden", err)
		}
	})
}
