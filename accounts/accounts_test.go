package accounts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// fastHasher keeps tests quick; the production parameters are tested in
// package password.
func fastHasher(t testing.TB) *password.Hasher {
	h, err := password.New(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }
func newClock() *clock               { return &clock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)} }

// newService returns a Service over each backend in turn.
func forEachBackend(t *testing.T, fn func(t *testing.T, svc *accounts.Service, st auth.Store, clk *clock, logs *bytes.Buffer)) {
	for _, b := range storetest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			clk := newClock()
			var logs bytes.Buffer
			svc, err := accounts.New(accounts.Config{Store: st, Hasher: fastHasher(t), Now: clk.Now,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			fn(t, svc, st, clk, &logs)
		})
	}
}

func code(err error) string { return auth.ErrorCode(err) }

func TestRegisterValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, svc *accounts.Service, st auth.Store, _ *clock, _ *bytes.Buffer) {
		ctx := context.Background()
		for _, tc := range []struct {
			name   string
			reg    accounts.Registration
			fields []string
		}{
			{"short username", accounts.Registration{Username: "ab", Email: "a@example.com", Password: "long enough pw"}, []string{"username"}},
			{"bad chars", accounts.Registration{Username: "a b!", Email: "a@example.com", Password: "long enough pw"}, []string{"username"}},
			{"bad email", accounts.Registration{Username: "abc", Email: "not-an-email", Password: "long enough pw"}, []string{"email"}},
			{"display-name email", accounts.Registration{Username: "abc", Email: "Al <al@example.com>", Password: "long enough pw"}, []string{"email"}},
			{"short password", accounts.Registration{Username: "abc", Email: "a@example.com", Password: "short"}, []string{"password"}},
			{"password is username", accounts.Registration{Username: "abcdefgh", Email: "a@example.com", Password: "ABCDEFGH"}, []string{"password"}},
			{"no password", accounts.Registration{Username: "abc", Email: "a@example.com"}, []string{"password"}},
			{"huge password", accounts.Registration{Username: "abc", Email: "a@example.com", Password: strings.Repeat("x", 1<<20)}, []string{"password"}},
			{"everything", accounts.Registration{}, []string{"username", "email", "password"}},
		} {
			_, err := svc.Register(ctx, tc.reg)
			var e *auth.Error
			if !errors.As(err, &e) || e.Code != auth.EValidation {
				t.Errorf("Register(%s) = %v, want validation_failed", tc.name, err)
				continue
			}
			for _, f := range tc.fields {
				if e.Fields[f] == "" {
					t.Errorf("Register(%s) fields = %v, want a problem with %s", tc.name, e.Fields, f)
				}
			}
			if len(e.Fields) != len(tc.fields) {
				t.Errorf("Register(%s) fields = %v, want only %v", tc.name, e.Fields, tc.fields)
			}
		}
		// A passkey-only style account needs no password when allowed.
		u, err := svc.Register(ctx, accounts.Registration{Username: "nopw", Email: "nopw@example.com", AllowNoPassword: true})
		if err != nil || u.HasPassword() {
			t.Errorf("Register(no password allowed) = %+v, %v", u, err)
		}
		// A 64-character passphrase and Unicode passwords are fine (a unit
		// repeated, such as "ab c" 16 times, is not: see password.Policy).
		passphrase := "the quick brown fox jumps over the lazy dog, then naps till noon"
		if _, err := svc.Register(ctx, accounts.Registration{Username: "long", Email: "long@example.com", Password: passphrase}); err != nil {
			t.Errorf("Register(64-char passphrase) = %v", err)
		}
		u, err = svc.Register(ctx, accounts.Registration{Username: "uni", Email: "uni@example.com", Password: "ünïcødé pässphrâsé ✓"})
		if err != nil || len(u.Roles) != 1 || u.Roles[0] != "user" {
			t.Errorf("Register(unicode) = %+v, %v; want default role user", u, err)
		}
		if _, err := svc.Authenticate(ctx, "uni", "ünïcødé pässphrâsé ✓"); err != nil {
			t.Errorf("Authenticate(unicode) = %v", err)
		}
		_, err = svc.Register(ctx, accounts.Registration{Username: "UNI", Email: "x@example.com", Password: "long enough pw"})
		if code(err) != auth.EConflict {
			t.Errorf("Register(taken username) = %v, want conflict", err)
		}
	})
}

func TestAuthenticate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, svc *accounts.Service, st auth.Store, clk *clock, logs *bytes.Buffer) {
		ctx := context.Background()
		const pw = "correct horse battery staple"
		u, err := svc.Register(ctx, accounts.Registration{Username: "alice", Email: "alice@example.com", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$") {
			t.Errorf("stored hash = %q, want argon2id", u.PasswordHash)
		}
		var first *auth.Error
		for _, tc := range []struct{ name, login, password string }{
			{"unknown user", "nobody", pw},
			{"unknown email", "nobody@example.com", pw},
			{"wrong password", "alice", pw + "!"},
			{"swapped case", "alice", strings.ToUpper(pw)},
			{"empty password", "alice", ""},
			{"huge password", "alice", strings.Repeat("a", 1<<20)},
		} {
			_, err := svc.Authenticate(ctx, tc.login, tc.password)
			var e *auth.Error
			if !errors.As(err, &e) || e.Code != auth.EInvalidCredentials {
				t.Fatalf("Authenticate(%s) = %v, want invalid_credentials", tc.name, err)
			}
			if first == nil {
				first = e
			} else if e.Message != first.Message {
				t.Errorf("Authenticate(%s) message %q differs from %q", tc.name, e.Message, first.Message)
			}
		}
		clk.Add(time.Hour)
		got, err := svc.Authenticate(ctx, "ALICE@example.com", pw)
		if err != nil || got.ID != u.ID {
			t.Fatalf("Authenticate(right) = %v, %v", got, err)
		}
		if got.LastLoginAt == nil || !got.LastLoginAt.Equal(clk.Now()) {
			t.Errorf("LastLoginAt = %v, want %v", got.LastLoginAt, clk.Now())
		}
		// Disabled: refused with account_disabled only after a correct password.
		off := false
		st.UpdateUser(ctx, u.ID, auth.UserUpdate{Active: &off})
		if _, err := svc.Authenticate(ctx, "alice", "wrong password!"); code(err) != auth.EInvalidCredentials {
			t.Errorf("Authenticate(disabled, wrong) = %v, want invalid_credentials", err)
		}
		if _, err := svc.Authenticate(ctx, "alice", pw); code(err) != auth.EAccountDisabled {
			t.Errorf("Authenticate(disabled, right) = %v, want account_disabled", err)
		}
		if strings.Contains(logs.String(), pw) {
			t.Error("the log contains the password")
		}
	})
}

// Flask users sign in with their Werkzeug or bcrypt hashes, which are replaced
// by argon2id on the first successful sign-in.
func TestLegacyHashUpgradedOnLogin(t *testing.T) {
	// Hashes made by the real Werkzeug and bcrypt libraries (see
	// password/testdata/make_vectors.py): one of each format.
	raw, err := os.ReadFile("../password/testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct{ Format, Password, Hash string }
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	legacy := map[string]string{}
	for _, v := range vectors {
		if v.Password == "correct horse battery staple" && v.Format != "argon2id" && legacy[v.Format] == "" {
			legacy[v.Format] = v.Hash
		}
	}
	if len(legacy) != 3 {
		t.Fatalf("legacy vectors = %v, want werkzeug-pbkdf2, werkzeug-scrypt and bcrypt", legacy)
	}
	forEachBackend(t, func(t *testing.T, svc *accounts.Service, st auth.Store, _ *clock, _ *bytes.Buffer) {
		ctx := context.Background()
		for name, hash := range legacy {
			u := &auth.User{Username: "flask." + name, Email: name + "@example.com", Active: true, PasswordHash: hash, Roles: []string{"user"}}
			if err := st.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Authenticate(ctx, u.Username, "wrong"); code(err) != auth.EInvalidCredentials {
				t.Errorf("%s: wrong password = %v", name, err)
			}
			if got, _ := st.FindUserByID(ctx, u.ID); got.PasswordHash != hash {
				t.Errorf("%s: a failed sign-in changed the hash", name)
			}
			if _, err := svc.Authenticate(ctx, u.Username, "correct horse battery staple"); err != nil {
				t.Fatalf("%s: Authenticate = %v", name, err)
			}
			got, _ := st.FindUserByID(ctx, u.ID)
			if !strings.HasPrefix(got.PasswordHash, "$argon2id$") {
				t.Errorf("%s: hash after sign-in = %q, want argon2id", name, got.PasswordHash)
			}
			if _, err := svc.Authenticate(ctx, u.Username, "correct horse battery staple"); err != nil {
				t.Errorf("%s: sign-in with the upgraded hash = %v", name, err)
			}
		}
	})
}

func TestSetupLink(t *testing.T) {
	forEachBackend(t, func(t *testing.T, svc *accounts.Service, st auth.Store, clk *clock, _ *bytes.Buffer) {
		ctx := context.Background()
		reg := accounts.Registration{Username: "root", Email: "root@example.com", Password: "correct horse battery staple"}
		secret, expires, err := svc.CreateSetupLink(ctx)
		if err != nil || !strings.HasPrefix(secret, accounts.SetupPrefix) || !expires.Equal(clk.Now().Add(time.Hour)) {
			t.Fatalf("CreateSetupLink() = %q, %v, %v", secret, expires, err)
		}
		if err := svc.CheckSetupLink(ctx, secret+"x"); code(err) != auth.EInvalidToken {
			t.Errorf("CheckSetupLink(wrong) = %v", err)
		}
		// A validation problem does not spend the link.
		bad := reg
		bad.Password = "short"
		if _, err := svc.CompleteSetup(ctx, secret, bad); code(err) != auth.EValidation {
			t.Errorf("CompleteSetup(bad) = %v, want validation_failed", err)
		}
		if err := svc.CheckSetupLink(ctx, secret); err != nil {
			t.Errorf("CheckSetupLink after a refused form = %v, want still usable", err)
		}
		u, err := svc.CompleteSetup(ctx, secret, reg)
		if err != nil || !u.HasRole(auth.RoleAdmin) || !u.EmailVerified {
			t.Fatalf("CompleteSetup() = %+v, %v; want a verified admin", u, err)
		}
		if ok, _ := svc.AdminExists(ctx); !ok {
			t.Error("AdminExists() = false after setup")
		}
		reg.Username, reg.Email = "root2", "root2@example.com"
		if _, err := svc.CompleteSetup(ctx, secret, reg); code(err) != auth.EInvalidToken {
			t.Errorf("CompleteSetup(second use) = %v, want invalid_token", err)
		}
	})
}

func TestSetupLinkExpiresAndIsReplaced(t *testing.T) {
	forEachBackend(t, func(t *testing.T, svc *accounts.Service, st auth.Store, clk *clock, _ *bytes.Buffer) {
		ctx := context.Background()
		reg := accounts.Registration{Username: "root", Email: "root@example.com", Password: "correct horse battery staple"}
		old, _, _ := svc.CreateSetupLink(ctx)
		newer, _, _ := svc.CreateSetupLink(ctx)
		if err := svc.CheckSetupLink(ctx, old); code(err) != auth.EInvalidToken {
			t.Errorf("CheckSetupLink(replaced) = %v, want invalid_token", err)
		}
		clk.Add(time.Hour + time.Second)
		if _, err := svc.CompleteSetup(ctx, newer, reg); code(err) != auth.EInvalidToken {
			t.Errorf("CompleteSetup(expired) = %v, want invalid_token", err)
		}
	})
}

// Of ten concurrent uses of one setup link, exactly one creates an admin.
func TestSetupLinkRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, svc *accounts.Service, st auth.Store, _ *clock, _ *bytes.Buffer) {
		ctx := context.Background()
		secret, _, _ := svc.CreateSetupLink(ctx)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := "root" + string(rune('a'+i))
				if _, err := svc.CompleteSetup(ctx, secret, accounts.Registration{Username: name, Email: name + "@example.com", Password: "correct horse battery staple"}); err == nil {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		yes := true
		n, _ := st.CountUsers(ctx, auth.UserFilter{Role: auth.RoleAdmin, Active: &yes})
		if wins.Load() != 1 || n != 1 {
			t.Errorf("concurrent setup: %d succeeded, %d admins; want 1 and 1", wins.Load(), n)
		}
	})
}
