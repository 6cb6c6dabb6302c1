package passkey_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/webauthntest"
	"github.com/gatehouse-dev/gatehouse/passkey"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

var ctx = context.Background()

// The relying party of the tests, on the same host and port as the checklist
// (security.md §9) uses.
const (
	rpID   = "localhost"
	origin = "https://localhost:8443"
)

// clock is a clock that tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a relying party on a real store, with a movable clock.
type env struct {
	t     testing.TB
	store store.Store
	rp    *passkey.RelyingParty
	clock *clock
}

func newEnv(t testing.TB, open func(testing.TB) store.Store, tweak ...func(*passkey.Config)) *env {
	t.Helper()
	e := &env{t: t, store: open(t), clock: &clock{now: time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)}}
	cfg := passkey.Config{RPID: rpID, Origins: []string{origin}, Store: e.store, Now: e.clock.Now}
	for _, f := range tweak {
		f(&cfg)
	}
	rp, err := passkey.New(cfg)
	if err != nil {
		t.Fatalf("passkey.New() = %v", err)
	}
	e.rp = rp
	return e
}

// forEachBackend runs fn on SQLite and, when configured, PostgreSQL.
func forEachBackend(t *testing.T, fn func(t *testing.T, open func(testing.TB) store.Store)) {
	for _, b := range storetest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.Open) })
	}
}

func (e *env) user(name string) *auth.User {
	e.t.Helper()
	u := &auth.User{Username: name, Email: name + "@example.com", Active: true}
	if err := e.store.CreateUser(ctx, u); err != nil {
		e.t.Fatalf("CreateUser(%q) = %v", name, err)
	}
	return u
}

func (e *env) passkeys(u *auth.User) []*auth.Passkey {
	e.t.Helper()
	ps, err := e.store.FindPasskeysByUser(ctx, u.ID)
	if err != nil {
		e.t.Fatalf("FindPasskeysByUser() = %v", err)
	}
	return ps
}

// beginRegistration begins a registration for u and has a answer it.
func (e *env) beginRegistration(u *auth.User, a *webauthntest.Authenticator, opts ...webauthntest.Option) (id string, body []byte) {
	e.t.Helper()
	options, id, err := e.rp.BeginRegistration(ctx, u, e.passkeys(u))
	if err != nil {
		e.t.Fatalf("BeginRegistration() = %v", err)
	}
	body, _, err = a.Create(options, opts...)
	if err != nil {
		e.t.Fatalf("authenticator Create() = %v", err)
	}
	return id, body
}

// register adds a passkey made by a to u's account.
func (e *env) register(u *auth.User, a *webauthntest.Authenticator, opts ...webauthntest.Option) *auth.Passkey {
	e.t.Helper()
	id, body := e.beginRegistration(u, a, opts...)
	pk, err := e.rp.FinishRegistration(ctx, u, id, body)
	if err != nil {
		e.t.Fatalf("FinishRegistration() = %v", err)
	}
	return pk
}

// beginLogin begins a login, username-first for u or discoverable for nil,
// and has a answer it.
func (e *env) beginLogin(u *auth.User, a *webauthntest.Authenticator, opts ...webauthntest.Option) (id string, body []byte) {
	e.t.Helper()
	var ps []*auth.Passkey
	if u != nil {
		ps = e.passkeys(u)
	}
	options, id, err := e.rp.BeginLogin(ctx, u, ps)
	if err != nil {
		e.t.Fatalf("BeginLogin() = %v", err)
	}
	body, err = a.Get(options, opts...)
	if err != nil {
		e.t.Fatalf("authenticator Get() = %v", err)
	}
	return id, body
}

func (e *env) finishLogin(id string, body []byte) (*auth.User, *auth.Passkey, error) {
	return e.rp.FinishLogin(ctx, id, body, passkey.StoreLookup(ctx, e.store))
}

// login signs in, username-first for u or discoverable for nil.
func (e *env) login(u *auth.User, a *webauthntest.Authenticator, opts ...webauthntest.Option) (*auth.User, *auth.Passkey, error) {
	e.t.Helper()
	id, body := e.beginLogin(u, a, opts...)
	return e.finishLogin(id, body)
}

// Authenticators of the three kinds the backup flags allow.
func synced() *webauthntest.Authenticator { return webauthntest.New(origin) } // BE=1 BS=1, no counter

func deviceBound() *webauthntest.Authenticator { // BE=0 BS=0, counts, packed self attestation
	a := webauthntest.New(origin)
	a.BackupEligible, a.BackupState, a.Counter, a.Attestation, a.Attachment = false, false, true, "packed", "cross-platform"
	return a
}

func eligible() *webauthntest.Authenticator { // BE=1 BS=0: may sync, has not yet
	a := webauthntest.New(origin)
	a.BackupState = false
	return a
}
