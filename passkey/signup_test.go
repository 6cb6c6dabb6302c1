package passkey_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/webauthntest"
	"github.com/gatehouse-dev/gatehouse/passkey"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// createIn returns the CreateAccount that stores a sign-up in st in one
// transaction, and counts its calls.
func createIn(st store.Store, calls *int) passkey.CreateAccount {
	return func(u *auth.User, handle []byte, pk *auth.Passkey) (*auth.User, error) {
		*calls++
		err := st.InTx(ctx, func(tx auth.Store) error {
			u.Active = true
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.CreateUserHandle(ctx, u.ID, handle); err != nil {
				return err
			}
			return tx.CreatePasskey(ctx, pk)
		})
		return u, err
	}
}

func TestSignUp(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) store.Store) {
		e := newEnv(t, open)
		a := synced()
		options, id, err := e.rp.BeginSignUp(ctx, "nora", "nora@example.com")
		if err != nil {
			t.Fatalf("BeginSignUp() = %v", err)
		}
		var o struct {
			User struct{ ID, Name string }
		}
		json.Unmarshal(options, &o)
		if o.User.Name != "nora" || len(b64(t, o.User.ID)) != auth.UserHandleLen || bytes.Contains(b64(t, o.User.ID), []byte("nora")) {
			t.Errorf("sign-up options user = %+v, want nora with a random %d-byte handle", o.User, auth.UserHandleLen)
		}
		if n, _ := e.store.CountUsers(ctx, auth.UserFilter{}); n != 0 {
			t.Errorf("BeginSignUp() left %d users, want none until FinishSignUp", n)
		}
		body, _, err := a.Create(options)
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		u, pk, err := e.rp.FinishSignUp(ctx, id, body, createIn(e.store, &calls))
		if err != nil || u.Username != "nora" || pk.UserID != u.ID || calls != 1 {
			t.Fatalf("FinishSignUp() = %+v, %+v, %v (%d calls)", u, pk, err, calls)
		}
		// The passkey signs in without a username: the handle the
		// authenticator stored is the one in the store.
		got, _, err := e.login(nil, a)
		if err != nil || got.ID != u.ID {
			t.Errorf("discoverable login after sign-up = %v, %v; want nora", got, err)
		}
		if _, _, err := e.rp.FinishSignUp(ctx, id, body, createIn(e.store, &calls)); !errors.Is(err, passkey.ErrCeremony) || calls != 1 {
			t.Errorf("FinishSignUp() replayed = %v (%d calls), want ErrCeremony and no call", err, calls)
		}
	})
}

// A ceremony of one kind never finishes as another, and a refused sign-up
// creates nothing.
func TestSignUpRefused(t *testing.T) {
	e := newEnv(t, storetest.Backends[0].Open)
	alice := e.user("alice")
	calls := 0
	create := createIn(e.store, &calls)

	regID, regBody := e.beginRegistration(alice, synced())
	if _, _, err := e.rp.FinishSignUp(ctx, regID, regBody, create); !errors.Is(err, passkey.ErrCeremony) {
		t.Errorf("FinishSignUp(a registration ceremony) = %v, want ErrCeremony", err)
	}
	options, signUpID, _ := e.rp.BeginSignUp(ctx, "nora", "nora@example.com")
	body, _, _ := synced().Create(options)
	if _, err := e.rp.FinishRegistration(ctx, alice, signUpID, body); !errors.Is(err, passkey.ErrCeremony) {
		t.Errorf("FinishRegistration(a sign-up ceremony) = %v, want ErrCeremony", err)
	}
	options, signUpID, _ = e.rp.BeginSignUp(ctx, "nora", "nora@example.com")
	if _, _, err := e.finishLogin(signUpID, body); !errors.Is(err, passkey.ErrCeremony) {
		t.Errorf("FinishLogin(a sign-up ceremony) = %v, want ErrCeremony", err)
	}

	for _, tc := range []struct {
		name string
		opts []webauthntest.Option
	}{
		{"origin https://evil.example", opt(webauthntest.WithOrigin("https://evil.example"))},
		{"rpIdHash of evil.example", opt(webauthntest.WithRPID("evil.example"))},
		{"UV=0", opt(webauthntest.ClearFlags(webauthntest.FlagUV))},
		{"type webauthn.get", opt(webauthntest.WithType("webauthn.get"))},
	} {
		options, id, _ := e.rp.BeginSignUp(ctx, "nora", "nora@example.com")
		body, _, _ := synced().Create(options, tc.opts...)
		if _, _, err := e.rp.FinishSignUp(ctx, id, body, create); !errors.Is(err, passkey.ErrVerification) {
			t.Errorf("FinishSignUp(%s) = %v, want ErrVerification", tc.name, err)
		}
	}
	if calls != 0 {
		t.Errorf("refused sign-ups called create %d times, want never", calls)
	}
	if n, _ := e.store.CountUsers(ctx, auth.UserFilter{}); n != 1 {
		t.Errorf("after refused sign-ups there are %d users, want alice alone", n)
	}
}
