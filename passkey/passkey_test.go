package passkey_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/webauthntest"
	"github.com/gatehouse-dev/gatehouse/passkey"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

func TestRegisterThenLogin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) store.Store) {
		for _, tc := range []struct {
			name         string
			authr        func() *webauthntest.Authenticator
			discoverable bool
			wantFormat   string
			wantSynced   bool
			wantDevice   bool
			wantCount    uint32 // after one sign-in
		}{
			{"synced passkey, username-first", synced, false, "none", true, false, 0},
			{"synced passkey, discoverable", synced, true, "none", true, false, 0},
			{"security key, username-first", deviceBound, false, "packed", false, true, 1},
			{"security key, discoverable", deviceBound, true, "packed", false, true, 1},
			{"eligible, not yet synced, discoverable", eligible, true, "none", false, false, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, open)
				alice := e.user("alice")
				e.user("bob")
				a := tc.authr()
				pk := e.register(alice, a)
				if pk.UserID != alice.ID || pk.Algorithm != webauthntest.AlgES256 || pk.Name != passkey.DefaultName ||
					pk.AttestationFormat != tc.wantFormat || pk.Synced() != tc.wantSynced || pk.DeviceBound() != tc.wantDevice ||
					!pk.UserVerified || pk.CloneWarning {
					t.Errorf("FinishRegistration() = %+v", pk)
				}
				if got := e.passkeys(alice); len(got) != 1 || got[0].ID != pk.ID || !bytes.Equal(got[0].PublicKey, pk.PublicKey) {
					t.Fatalf("stored passkeys = %+v, want the one registered", got)
				}

				who := alice
				if tc.discoverable {
					who = nil
				}
				e.clock.Add(time.Minute)
				u, used, err := e.login(who, a)
				if err != nil {
					t.Fatalf("FinishLogin() = %v", err)
				}
				if u.ID != alice.ID || used.ID != pk.ID {
					t.Errorf("FinishLogin() = user %q passkey %q, want %q and %q", u.Username, used.ID, "alice", pk.ID)
				}
				stored, _ := e.store.FindPasskeyByCredentialID(ctx, pk.CredentialID)
				if stored.SignCount != tc.wantCount || stored.LastUsedAt == nil || !stored.LastUsedAt.Equal(e.clock.Now()) {
					t.Errorf("after sign-in: counter %d, last used %v; want %d, %v", stored.SignCount, stored.LastUsedAt, tc.wantCount, e.clock.Now())
				}
				if used.SignCount != stored.SignCount || used.LastUsedAt == nil {
					t.Errorf("FinishLogin() passkey = %+v, want the updated record", used)
				}
				// And again: the ceremony is new, the passkey the same.
				if _, _, err := e.login(who, a); err != nil {
					t.Errorf("second FinishLogin() = %v", err)
				}
			})
		}
	})
}

func TestPasskeyJSON(t *testing.T) {
	used := time.Date(2026, 8, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		pk   auth.Passkey
		want string
	}{
		{"synced", auth.Passkey{ID: "p1", Name: "Phone", PublicKey: []byte("secret-ish"), BackupEligible: true, BackupState: true,
			Transports: []string{"hybrid", "internal"}, CreatedAt: used, LastUsedAt: &used},
			`{"id":"p1","name":"Phone","created_at":"2026-08-02T00:00:00Z","last_used_at":"2026-08-02T00:00:00Z","synced":true,"device_bound":false,"transports":["hybrid","internal"]}`},
		{"security key, never used", auth.Passkey{ID: "p2", Name: "Key", CreatedAt: used},
			`{"id":"p2","name":"Key","created_at":"2026-08-02T00:00:00Z","last_used_at":null,"synced":false,"device_bound":true,"transports":[]}`},
	} {
		got, err := json.Marshal(&tc.pk)
		if err != nil || string(got) != tc.want {
			t.Errorf("json.Marshal(%s) = %s, %v; want %s", tc.name, got, err, tc.want)
		}
	}
}

func TestBeginOptions(t *testing.T) {
	e := newEnv(t, storetest.Backends[0].Open)
	alice := e.user("alice")
	a := synced()
	first := e.register(alice, a)

	type creation struct {
		RP        struct{ ID, Name string }
		User      struct{ ID, Name, DisplayName string }
		Challenge string
		Timeout   int
		Params    []struct{ Alg int }   `json:"pubKeyCredParams"`
		Exclude   []struct{ ID string } `json:"excludeCredentials"`
		Selection struct {
			ResidentKey        string
			RequireResidentKey bool
			UserVerification   string
		} `json:"authenticatorSelection"`
		Attestation string
	}
	var handles []string
	challenges := map[string]bool{}
	for i := 0; i < 50; i++ {
		raw, _, err := e.rp.BeginRegistration(ctx, alice, e.passkeys(alice))
		if err != nil {
			t.Fatal(err)
		}
		var o creation
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatalf("creation options %s: %v", raw, err)
		}
		handle := b64(t, o.User.ID)
		if len(handle) != auth.UserHandleLen || bytes.Contains(handle, []byte("alice")) || strings.Contains(o.User.ID, "alice") {
			t.Errorf("user.id = %q, want %d random bytes with no username or email", o.User.ID, auth.UserHandleLen)
		}
		handles = append(handles, o.User.ID)
		challenges[o.Challenge] = true
		if c := b64(t, o.Challenge); len(c) < 16 {
			t.Errorf("challenge of %d bytes, want at least 16", len(c))
		}
		if o.RP.ID != rpID || o.User.Name != "alice" || o.Selection.ResidentKey != "required" || !o.Selection.RequireResidentKey ||
			o.Selection.UserVerification != "required" || o.Attestation != "none" || o.Timeout <= 0 || o.Timeout > 300000 {
			t.Errorf("creation options = %+v", o)
		}
		if len(o.Exclude) != 1 || !bytes.Equal(b64(t, o.Exclude[0].ID), first.CredentialID) {
			t.Errorf("excludeCredentials = %+v, want the existing passkey", o.Exclude)
		}
	}
	for _, h := range handles {
		if h != handles[0] {
			t.Errorf("user.id changed between ceremonies: %q, %q", handles[0], h)
		}
	}
	// The authenticator refuses to register a second credential for the
	// same account, as the exclude list asks.
	options, _, _ := e.rp.BeginRegistration(ctx, alice, e.passkeys(alice))
	if _, _, err := a.Create(options); !errors.Is(err, webauthntest.ErrExcluded) {
		t.Errorf("Create() on an authenticator in excludeCredentials = %v, want ErrExcluded", err)
	}

	// WA-01: login challenges are random and unique.
	type request struct {
		Challenge string
		RPID      string                `json:"rpId"`
		Allow     []struct{ ID string } `json:"allowCredentials"`
		UV        string                `json:"userVerification"`
	}
	for _, who := range []*auth.User{nil, alice} {
		for i := 0; i < 100; i++ {
			raw, id, err := e.rp.BeginLogin(ctx, who, e.passkeys(alice))
			if err != nil {
				t.Fatal(err)
			}
			var o request
			json.Unmarshal(raw, &o)
			if challenges[o.Challenge] || len(b64(t, o.Challenge)) < 16 || len(id) < 40 {
				t.Fatalf("login %d: challenge %q (seen: %v), ceremony ID %q; want a fresh challenge of 16+ bytes", i, o.Challenge, challenges[o.Challenge], id)
			}
			challenges[o.Challenge] = true
			if wantAllow := who != nil; (len(o.Allow) == 1) != wantAllow || o.RPID != rpID || o.UV != "required" {
				t.Errorf("request options (user %v) = %+v", who != nil, o)
			}
		}
	}
	bob := e.user("bob")
	if _, _, err := e.rp.BeginLogin(ctx, bob, nil); !errors.Is(err, passkey.ErrNoPasskeys) {
		t.Errorf("BeginLogin(user without passkeys) = %v, want ErrNoPasskeys", err)
	}
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("%q is not base64url: %v", s, err)
	}
	return b
}

// Each registration case changes one thing about a good answer.
func TestRegistrationRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) store.Store) {
		e := newEnv(t, open)
		alice, bob := e.user("alice"), e.user("bob")
		taken := e.register(bob, synced())
		flipped := func(b []byte) []byte { return webauthntest.FlipLastByte(b) }
		packed := func() *webauthntest.Authenticator { a := synced(); a.Attestation = "packed"; return a }
		for _, tc := range []struct {
			name    string
			authr   func() *webauthntest.Authenticator
			opts    []webauthntest.Option
			wantErr error
		}{
			{"good (none)", synced, nil, nil},
			{"good (packed self attestation)", packed, nil, nil},
			{"origin https://evil.example", synced, opt(webauthntest.WithOrigin("https://evil.example")), passkey.ErrVerification},
			{"origin http://localhost:8443", synced, opt(webauthntest.WithOrigin("http://localhost:8443")), passkey.ErrVerification},
			{"origin https://localhost:8444", synced, opt(webauthntest.WithOrigin("https://localhost:8444")), passkey.ErrVerification},
			{"origin https://sub.localhost:8443", synced, opt(webauthntest.WithOrigin("https://sub.localhost:8443")), passkey.ErrVerification},
			{"crossOrigin true", synced, opt(webauthntest.WithCrossOrigin()), passkey.ErrVerification},
			{"foreign topOrigin", synced, opt(webauthntest.WithCrossOrigin(), webauthntest.WithTopOrigin("https://evil.example")), passkey.ErrVerification},
			{"rpIdHash of evil.example", synced, opt(webauthntest.WithRPID("evil.example")), passkey.ErrVerification},
			{"type webauthn.get", synced, opt(webauthntest.WithType("webauthn.get")), passkey.ErrVerification},
			{"another challenge", synced, opt(webauthntest.WithChallenge(bytes.Repeat([]byte{1}, 32))), passkey.ErrVerification},
			{"UP=0", synced, opt(webauthntest.ClearFlags(webauthntest.FlagUP)), passkey.ErrVerification},
			{"UV=0 where required", synced, opt(webauthntest.ClearFlags(webauthntest.FlagUV)), passkey.ErrVerification},
			{"BS=1 with BE=0", deviceBound, opt(webauthntest.SetFlags(webauthntest.FlagBS)), passkey.ErrVerification},
			{"1023-byte credential ID", synced, opt(webauthntest.WithCredentialID(bytes.Repeat([]byte{8}, 1023))), nil},
			{"1024-byte credential ID", synced, opt(webauthntest.WithCredentialID(bytes.Repeat([]byte{9}, 1024))), passkey.ErrVerification},
			{"algorithm not offered (ES256K)", synced, opt(webauthntest.WithAlgorithm(webauthntest.AlgES256K)), passkey.ErrVerification},
			{"packed attestation signature flipped", packed, opt(webauthntest.WithSignature(flipped)), passkey.ErrVerification},
			{"packed attestation signature r=s=0", packed, opt(webauthntest.WithSignature(func([]byte) []byte { return webauthntest.ZeroES256Signature })), passkey.ErrVerification},
			{"credential ID registered to another user", synced, opt(webauthntest.WithCredentialID(taken.CredentialID)), passkey.ErrNotAllowed},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := len(e.passkeys(alice))
				id, body := e.beginRegistration(alice, tc.authr(), tc.opts...)
				pk, err := e.rp.FinishRegistration(ctx, alice, id, body)
				t.Logf("FinishRegistration() = %v", err)
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
					t.Fatalf("FinishRegistration() = %v, want %v", err, tc.wantErr)
				}
				after := len(e.passkeys(alice))
				if tc.wantErr != nil && (pk != nil || after != before) {
					t.Errorf("refused registration returned %v and left %d passkeys (was %d)", pk, after, before)
				}
				if tc.wantErr == nil && after != before+1 {
					t.Errorf("registration left %d passkeys, want %d", after, before+1)
				}
			})
		}
		// Bob's passkey is still Bob's.
		if got, err := e.store.FindPasskeyByCredentialID(ctx, taken.CredentialID); err != nil || got.UserID != bob.ID {
			t.Errorf("taken credential = %+v, %v; want still bob's", got, err)
		}
	})
}

func opt(o ...webauthntest.Option) []webauthntest.Option { return o }

// Ceremony misuse at registration: the ceremony, not the answer, is wrong.
func TestRegistrationCeremonyRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) store.Store) {
		for _, tc := range []struct {
			name    string
			run     func(e *env, alice, bob *auth.User) error
			wantErr error
		}{
			{"ceremony begun for another user", func(e *env, alice, bob *auth.User) error {
				id, body := e.beginRegistration(bob, synced())
				_, err := e.rp.FinishRegistration(ctx, alice, id, body)
				return err
			}, passkey.ErrCeremony},
			{"login ceremony finished as registration", func(e *env, alice, bob *auth.User) error {
				_, loginID, _ := e.rp.BeginLogin(ctx, nil, nil)
				_, body := e.beginRegistration(alice, synced())
				_, err := e.rp.FinishRegistration(ctx, alice, loginID, body)
				return err
			}, passkey.ErrCeremony},
			{"challenge used twice", func(e *env, alice, bob *auth.User) error {
				id, body := e.beginRegistration(alice, synced())
				if _, err := e.rp.FinishRegistration(ctx, alice, id, body); err != nil {
					return fmt.Errorf("first use: %w", err)
				}
				_, err := e.rp.FinishRegistration(ctx, alice, id, body)
				return err
			}, passkey.ErrCeremony},
			{"challenge spent by a failed attempt", func(e *env, alice, bob *auth.User) error {
				a := synced()
				options, id, _ := e.rp.BeginRegistration(ctx, alice, nil)
				bad, _, _ := a.Create(options, webauthntest.WithOrigin("https://evil.example"))
				if _, err := e.rp.FinishRegistration(ctx, alice, id, bad); !errors.Is(err, passkey.ErrVerification) {
					return fmt.Errorf("bad attempt: %v", err)
				}
				good, _, _ := synced().Create(options)
				_, err := e.rp.FinishRegistration(ctx, alice, id, good)
				return err
			}, passkey.ErrCeremony},
			{"expired", func(e *env, alice, bob *auth.User) error {
				id, body := e.beginRegistration(alice, synced())
				e.clock.Add(passkey.MaxTimeout + time.Second)
				_, err := e.rp.FinishRegistration(ctx, alice, id, body)
				return err
			}, passkey.ErrCeremony},
			{"just in time", func(e *env, alice, bob *auth.User) error {
				id, body := e.beginRegistration(alice, synced())
				e.clock.Add(passkey.MaxTimeout - time.Second)
				_, err := e.rp.FinishRegistration(ctx, alice, id, body)
				return err
			}, nil},
			{"unknown ceremony ID", func(e *env, alice, bob *auth.User) error {
				_, body := e.beginRegistration(alice, synced())
				_, err := e.rp.FinishRegistration(ctx, alice, strings.Repeat("A", 43), body)
				return err
			}, passkey.ErrCeremony},
			{"malformed ceremony ID", func(e *env, alice, bob *auth.User) error {
				_, body := e.beginRegistration(alice, synced())
				_, err := e.rp.FinishRegistration(ctx, alice, "", body)
				return err
			}, passkey.ErrCeremony},
			{"answer over 64 KiB", func(e *env, alice, bob *auth.User) error {
				id, body := e.beginRegistration(alice, synced())
				big := append(body[:len(body)-1], []byte(`,"padding":"`+strings.Repeat("x", passkey.MaxBodySize)+`"}`)...)
				_, err := e.rp.FinishRegistration(ctx, alice, id, big)
				return err
			}, passkey.ErrVerification},
			{"the same credential again, for the same user", func(e *env, alice, bob *auth.User) error {
				pk := e.register(alice, synced())
				// A second authenticator that reuses the ID, bypassing the
				// exclude list as a misbehaving client could.
				_, err := func() (*auth.Passkey, error) {
					options, id, _ := e.rp.BeginRegistration(ctx, alice, nil)
					body, _, _ := synced().Create(options, webauthntest.WithCredentialID(pk.CredentialID))
					return e.rp.FinishRegistration(ctx, alice, id, body)
				}()
				return err
			}, passkey.ErrNotAllowed},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, open)
				alice, bob := e.user("alice"), e.user("bob")
				err := tc.run(e, alice, bob)
				t.Logf("FinishRegistration() = %v", err)
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
					t.Errorf("FinishRegistration() = %v, want %v", err, tc.wantErr)
				}
			})
		}
	})
}

// loginFixture has alice with three passkeys (one per backup-flag kind) and
// bob with one.
type loginFixture struct {
	*env
	alice, bob                 *auth.User
	synced, device, eligible   *webauthntest.Authenticator
	bobs                       *webauthntest.Authenticator
	aliceHandle, bobHandle     []byte
	syncedPK, devicePK, bobsPK *auth.Passkey
}

func newLoginFixture(t *testing.T, open func(testing.TB) store.Store, tweak ...func(*passkey.Config)) *loginFixture {
	f := &loginFixture{env: newEnv(t, open, tweak...), synced: synced(), device: deviceBound(), eligible: eligible(), bobs: synced()}
	f.alice, f.bob = f.user("alice"), f.user("bob")
	f.syncedPK = f.register(f.alice, f.synced)
	f.devicePK = f.register(f.alice, f.device)
	f.register(f.alice, f.eligible)
	f.bobsPK = f.register(f.bob, f.bobs)
	f.aliceHandle, _ = f.store.UserHandle(ctx, f.alice.ID, false)
	f.bobHandle, _ = f.store.UserHandle(ctx, f.bob.ID, false)
	return f
}

// Each login case changes one thing about a good answer.
func TestLoginRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) store.Store) {
		f := newLoginFixture(t, open)
		flip := webauthntest.WithSignature(webauthntest.FlipLastByte)
		zero := webauthntest.WithSignature(func([]byte) []byte { return webauthntest.ZeroES256Signature })
		for _, tc := range []struct {
			name    string
			authr   *webauthntest.Authenticator
			opts    func(f *loginFixture) []webauthntest.Option
			wantErr error
		}{
			{"good", f.synced, nil, nil},
			{"good security key", f.device, nil, nil},
			{"origin https://evil.example", f.synced, opts(webauthntest.WithOrigin("https://evil.example")), passkey.ErrVerification},
			{"origin http://localhost:8443", f.synced, opts(webauthntest.WithOrigin("http://localhost:8443")), passkey.ErrVerification},
			{"origin https://localhost:8444", f.synced, opts(webauthntest.WithOrigin("https://localhost:8444")), passkey.ErrVerification},
			{"origin https://sub.localhost:8443", f.synced, opts(webauthntest.WithOrigin("https://sub.localhost:8443")), passkey.ErrVerification},
			{"crossOrigin true", f.synced, opts(webauthntest.WithCrossOrigin()), passkey.ErrVerification},
			{"topOrigin without crossOrigin", f.synced, opts(webauthntest.WithTopOrigin(origin)), passkey.ErrVerification},
			{"rpIdHash of evil.example", f.synced, opts(webauthntest.WithRPID("evil.example")), passkey.ErrVerification},
			{"type webauthn.create", f.synced, opts(webauthntest.WithType("webauthn.create")), passkey.ErrVerification},
			{"another challenge", f.synced, opts(webauthntest.WithChallenge(bytes.Repeat([]byte{2}, 32))), passkey.ErrVerification},
			{"UP=0", f.synced, opts(webauthntest.ClearFlags(webauthntest.FlagUP)), passkey.ErrVerification},
			{"UV=0 where required", f.synced, opts(webauthntest.ClearFlags(webauthntest.FlagUV)), passkey.ErrVerification},
			{"BS=1 with BE=0", f.device, opts(webauthntest.SetFlags(webauthntest.FlagBS)), passkey.ErrVerification},
			{"BE=1 on a credential stored with BE=0", f.device, opts(webauthntest.SetFlags(webauthntest.FlagBE)), passkey.ErrVerification},
			{"BE=0 on a credential stored with BE=1", f.eligible, opts(webauthntest.ClearFlags(webauthntest.FlagBE)), passkey.ErrVerification},
			{"BS turned on (it may)", f.eligible, opts(webauthntest.SetFlags(webauthntest.FlagBS)), nil},
			{"signature byte flipped", f.synced, opts(flip), passkey.ErrVerification},
			{"signature r=s=0", f.synced, opts(zero), passkey.ErrVerification},
			{"user handle of bob", f.synced, func(f *loginFixture) []webauthntest.Option {
				return []webauthntest.Option{webauthntest.WithUserHandle(f.bobHandle)}
			}, passkey.ErrNotAllowed},
			{"unknown user handle", f.synced, opts(webauthntest.WithUserHandle(bytes.Repeat([]byte{3}, 64))), passkey.ErrNotAllowed},
			{"bob's credential", f.synced, func(f *loginFixture) []webauthntest.Option {
				return []webauthntest.Option{webauthntest.WithCredential(f.bobs.Credentials()[0]), webauthntest.WithUserHandle(f.aliceHandle)}
			}, passkey.ErrNotAllowed},
		} {
			for _, discoverable := range []bool{false, true} {
				name := tc.name + ", username-first"
				who := f.alice
				if discoverable {
					name, who = tc.name+", discoverable", nil
				}
				t.Run(name, func(t *testing.T) {
					var o []webauthntest.Option
					if tc.opts != nil {
						o = tc.opts(f)
					}
					u, pk, err := f.login(who, tc.authr, o...)
					t.Logf("FinishLogin() = %v", err)
					if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
						t.Fatalf("FinishLogin() = %v, want %v", err, tc.wantErr)
					}
					if err != nil && (u != nil || pk != nil) {
						t.Errorf("refused FinishLogin() returned user %v, passkey %v", u, pk)
					}
					if err == nil && u.ID != f.alice.ID {
						t.Errorf("FinishLogin() signed in %q, want alice", u.Username)
					}
				})
			}
		}
		// No refusal marked a passkey.
		for _, p := range f.passkeys(f.alice) {
			if p.CloneWarning {
				t.Errorf("passkey %s marked as cloned", p.ID)
			}
		}
	})
}

func opts(o ...webauthntest.Option) func(*loginFixture) []webauthntest.Option {
	return func(*loginFixture) []webauthntest.Option { return o }
}

// Ceremony misuse at sign-in.
func TestLoginCeremonyRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) store.Store) {
		f := newLoginFixture(t, open)
		for _, tc := range []struct {
			name    string
			run     func(f *loginFixture) error
			wantErr error
		}{
			{"replayed assertion", func(f *loginFixture) error {
				id, body := f.beginLogin(nil, f.synced)
				if _, _, err := f.finishLogin(id, body); err != nil {
					return fmt.Errorf("first use: %w", err)
				}
				_, _, err := f.finishLogin(id, body)
				return err
			}, passkey.ErrCeremony},
			{"assertion replayed on a new ceremony", func(f *loginFixture) error {
				id, body := f.beginLogin(nil, f.synced)
				if _, _, err := f.finishLogin(id, body); err != nil {
					return fmt.Errorf("first use: %w", err)
				}
				_, id2, _ := f.rp.BeginLogin(ctx, nil, nil)
				_, _, err := f.finishLogin(id2, body)
				return err
			}, passkey.ErrVerification},
			{"expired", func(f *loginFixture) error {
				id, body := f.beginLogin(nil, f.synced)
				f.clock.Add(passkey.MaxTimeout)
				_, _, err := f.finishLogin(id, body)
				return err
			}, passkey.ErrCeremony},
			{"registration ceremony finished as login", func(f *loginFixture) error {
				_, regID, _ := f.rp.BeginRegistration(ctx, f.alice, f.passkeys(f.alice))
				_, body := f.beginLogin(nil, f.synced)
				_, _, err := f.finishLogin(regID, body)
				return err
			}, passkey.ErrCeremony},
			{"challenge of bob's ceremony answered by alice", func(f *loginFixture) error {
				options, id, _ := f.rp.BeginLogin(ctx, f.bob, f.passkeys(f.bob))
				body, err := f.synced.Get(options, webauthntest.WithCredential(f.synced.Credentials()[0]))
				if err != nil {
					return err
				}
				_, _, err = f.finishLogin(id, body)
				return err
			}, passkey.ErrNotAllowed},
			{"bob's credential in alice's username-first ceremony", func(f *loginFixture) error {
				options, id, _ := f.rp.BeginLogin(ctx, f.alice, f.passkeys(f.alice))
				body, err := f.bobs.Get(options, webauthntest.WithCredential(f.bobs.Credentials()[0]))
				if err != nil {
					return err
				}
				_, _, err = f.finishLogin(id, body)
				return err
			}, passkey.ErrNotAllowed},
			{"discoverable answer without a user handle", func(f *loginFixture) error {
				id, body := f.beginLogin(nil, f.synced, webauthntest.WithUserHandle(nil))
				_, _, err := f.finishLogin(id, body)
				return err
			}, passkey.ErrVerification},
			{"username-first answer without a user handle", func(f *loginFixture) error {
				id, body := f.beginLogin(f.alice, f.synced, webauthntest.WithUserHandle(nil))
				_, _, err := f.finishLogin(id, body)
				return err
			}, nil},
			{"answer over 64 KiB", func(f *loginFixture) error {
				id, body := f.beginLogin(nil, f.synced)
				big := append(body[:len(body)-1], []byte(`,"padding":"`+strings.Repeat("x", passkey.MaxBodySize)+`"}`)...)
				_, _, err := f.finishLogin(id, big)
				return err
			}, passkey.ErrVerification},
			{"passkey deleted after begin", func(f *loginFixture) error {
				a := synced()
				pk := f.register(f.alice, a)
				id, body := f.beginLogin(f.alice, a)
				if err := f.store.DeletePasskey(ctx, f.alice.ID, pk.ID); err != nil {
					return err
				}
				_, _, err := f.finishLogin(id, body)
				return err
			}, passkey.ErrNotAllowed},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.run(f)
				t.Logf("FinishLogin() = %v", err)
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
					t.Errorf("FinishLogin() = %v, want %v", err, tc.wantErr)
				}
			})
		}
	})
}

func TestUserVerificationPreferred(t *testing.T) {
	f := newLoginFixture(t, storetest.Backends[0].Open, func(c *passkey.Config) { c.UserVerification = "preferred" })
	if f.rp.UserVerificationRequired() {
		t.Fatal("UserVerificationRequired() = true under preferred")
	}
	for _, who := range []*auth.User{f.alice, nil} {
		if _, _, err := f.login(who, f.synced, webauthntest.ClearFlags(webauthntest.FlagUV)); err != nil {
			t.Errorf("FinishLogin(UV=0, preferred) = %v, want success", err)
		}
		if _, _, err := f.login(who, f.synced, webauthntest.ClearFlags(webauthntest.FlagUP)); !errors.Is(err, passkey.ErrVerification) {
			t.Errorf("FinishLogin(UP=0, preferred) = %v, want ErrVerification", err)
		}
	}
}

// WA-07: the counter policy of the package documentation.
func TestSignCount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) store.Store) {
		for _, tc := range []struct {
			name      string
			stored    uint32 // the counter after a first sign-in
			got       uint32
			wantClone bool
		}{
			{"0 then 0 (synced passkeys do not count)", 0, 0, false},
			{"0 then 1", 0, 1, false},
			{"10 then 11", 10, 11, false},
			{"10 then 4000000000", 10, 4000000000, false},
			{"10 then 5", 10, 5, true},
			{"10 then 10", 10, 10, true},
			{"10 then 0", 10, 0, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, open)
				alice := e.user("alice")
				a := synced()
				pk := e.register(alice, a)
				if _, _, err := e.login(alice, a, webauthntest.WithSignCount(tc.stored)); err != nil {
					t.Fatalf("first sign-in (counter %d) = %v", tc.stored, err)
				}
				_, _, err := e.login(alice, a, webauthntest.WithSignCount(tc.got))
				if tc.wantClone != errors.Is(err, passkey.ErrPossibleClone) || tc.wantClone != errors.Is(err, passkey.ErrVerification) || (!tc.wantClone && err != nil) {
					t.Fatalf("sign-in with counter %d after %d = %v, want possible clone: %v", tc.got, tc.stored, err, tc.wantClone)
				}
				stored, _ := e.store.FindPasskeyByCredentialID(ctx, pk.CredentialID)
				wantCount := tc.got
				if tc.wantClone {
					wantCount = tc.stored
				}
				if stored.CloneWarning != tc.wantClone || stored.SignCount != wantCount {
					t.Errorf("stored passkey: clone warning %v, counter %d; want %v, %d", stored.CloneWarning, stored.SignCount, tc.wantClone, wantCount)
				}
				if !tc.wantClone {
					return
				}
				// A marked passkey stays refused, even with a higher counter.
				if _, _, err := e.login(nil, a, webauthntest.WithSignCount(tc.stored+100)); !errors.Is(err, passkey.ErrPossibleClone) {
					t.Errorf("sign-in with a marked passkey = %v, want ErrPossibleClone", err)
				}
			})
		}
		// A forged low counter with a bad signature marks nothing.
		e := newEnv(t, open)
		alice := e.user("alice")
		a := synced()
		pk := e.register(alice, a)
		e.login(alice, a, webauthntest.WithSignCount(10))
		_, _, err := e.login(alice, a, webauthntest.WithSignCount(1), webauthntest.WithSignature(webauthntest.FlipLastByte))
		if errors.Is(err, passkey.ErrPossibleClone) || !errors.Is(err, passkey.ErrVerification) {
			t.Errorf("low counter, bad signature = %v, want ErrVerification only", err)
		}
		if stored, _ := e.store.FindPasskeyByCredentialID(ctx, pk.CredentialID); stored.CloneWarning {
			t.Error("an assertion with a bad signature marked the passkey as cloned")
		}
	})
}

// Of concurrent finishes of one ceremony, exactly one succeeds.
func TestConcurrentFinish(t *testing.T) {
	f := newLoginFixture(t, storetest.Backends[0].Open)
	id, body := f.beginLogin(nil, f.synced)
	var wins, spent atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := f.finishLogin(id, body)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, passkey.ErrCeremony):
				spent.Add(1)
			default:
				t.Errorf("FinishLogin() = %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || spent.Load() != 9 {
		t.Errorf("10 concurrent FinishLogin: %d succeeded, %d found the ceremony spent; want 1 and 9", wins.Load(), spent.Load())
	}
}

func TestNewConfig(t *testing.T) {
	st := storetest.OpenSQLite(t)
	good := passkey.Config{RPID: "example.com", Origins: []string{"https://auth.example.com"}, Store: st}
	for _, tc := range []struct {
		name  string
		tweak func(*passkey.Config)
		ok    bool
	}{
		{"defaults", func(*passkey.Config) {}, true},
		{"localhost over http", func(c *passkey.Config) { c.RPID, c.Origins = "localhost", []string{"http://localhost:8080"} }, true},
		{"origin with trailing slash", func(c *passkey.Config) { c.Origins = []string{"https://example.com/"} }, true},
		{"no store", func(c *passkey.Config) { c.Store = nil }, false},
		{"no RPID", func(c *passkey.Config) { c.RPID = "" }, false},
		{"RPID with scheme", func(c *passkey.Config) { c.RPID = "https://example.com" }, false},
		{"RPID with port", func(c *passkey.Config) { c.RPID = "example.com:443" }, false},
		{"RPID an IP address", func(c *passkey.Config) { c.RPID, c.Origins = "127.0.0.1", []string{"https://127.0.0.1"} }, false},
		{"no origins", func(c *passkey.Config) { c.Origins = nil }, false},
		{"origin off the RPID", func(c *passkey.Config) { c.Origins = []string{"https://example.org"} }, false},
		{"origin on a look-alike domain", func(c *passkey.Config) { c.Origins = []string{"https://evilexample.com"} }, false},
		{"origin with a path", func(c *passkey.Config) { c.Origins = []string{"https://example.com/login"} }, false},
		{"http off localhost", func(c *passkey.Config) { c.Origins = []string{"http://auth.example.com"} }, false},
		{"unknown user verification", func(c *passkey.Config) { c.UserVerification = "always" }, false},
		{"direct attestation", func(c *passkey.Config) { c.Attestation = "direct" }, false},
		{"timeout over 5m", func(c *passkey.Config) { c.Timeout = 10 * time.Minute }, false},
		{"negative timeout", func(c *passkey.Config) { c.Timeout = -time.Second }, false},
		{"short timeout", func(c *passkey.Config) { c.Timeout = time.Minute }, true},
	} {
		cfg := good
		cfg.Origins = append([]string(nil), good.Origins...)
		tc.tweak(&cfg)
		_, err := passkey.New(cfg)
		if (err == nil) != tc.ok {
			t.Errorf("New(%s) = %v, want ok: %v", tc.name, err, tc.ok)
		}
	}
}

func TestMemoryChallengeStore(t *testing.T) {
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := passkey.NewMemoryChallengeStore(clk.Now)
	for _, tc := range []struct {
		name      string
		put       bool
		wait      time.Duration
		wantFound bool
	}{
		{"fresh", true, 0, true},
		{"taken already", false, 0, false},
		{"just before expiry", true, time.Minute - time.Millisecond, true},
		{"at expiry", true, time.Minute, false},
	} {
		if tc.put {
			if err := s.Put(ctx, "k", []byte("v"), time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		clk.Add(tc.wait)
		data, found, err := s.Take(ctx, "k")
		if err != nil || found != tc.wantFound || (found && string(data) != "v") {
			t.Errorf("Take(%s) = %q, %v, %v; want found %v", tc.name, data, found, err, tc.wantFound)
		}
	}
	// Expired entries are swept.
	s.Put(ctx, "old", nil, time.Second)
	clk.Add(2 * time.Minute)
	s.Put(ctx, "new", nil, time.Second)
	if n := s.Len(); n != 1 {
		t.Errorf("Len() after sweep = %d, want 1", n)
	}
}
