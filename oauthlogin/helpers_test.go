package oauthlogin

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/oidctest"
	"github.com/gatehouse-dev/gatehouse/masterkey"
)

var ctx = context.Background()

const redirectURL = "https://gatehouse.example/oauth/test/callback"

func testKey(t testing.TB) *masterkey.Key {
	t.Helper()
	k, err := masterkey.New("0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type env struct {
	login *Login
	key   *masterkey.Key
	clock *clock
	logs  *syncBuffer
}

func newEnv(t *testing.T, providers ...ProviderConfig) *env {
	t.Helper()
	e := &env{key: testKey(t), clock: &clock{t: time.Now()}, logs: &syncBuffer{}}
	l, err := New(Config{
		Providers: providers,
		Logger:    slog.New(slog.NewTextHandler(e.logs, nil)),
		Now:       e.clock.Now,
	})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	e.login = l
	return e
}

// oidcProvider starts a test provider, closed with the test, and its config.
func oidcProvider(t *testing.T, name string, opts oidctest.Options) (*oidctest.Provider, ProviderConfig) {
	t.Helper()
	p := oidctest.New(opts)
	t.Cleanup(p.Close)
	return p, ProviderConfig{Name: name, Kind: KindOIDC, ClientID: p.ClientID, ClientSecret: p.ClientSecret, IssuerURL: p.Issuer}
}

// start begins a flow and plays the browser at the provider, returning the
// flow state as it comes back from the cookie and the callback query.
func (e *env) start(t *testing.T, provider string) (*FlowState, url.Values) {
	t.Helper()
	authURL, fs, err := e.login.Start(ctx, provider, redirectURL, "/after")
	if err != nil {
		t.Fatalf("Start(%s) = %v", provider, err)
	}
	q, err := oidctest.Callback(authURL)
	if err != nil {
		t.Fatalf("authorize at %s: %v", provider, err)
	}
	c, err := fs.Cookie(e.key, true)
	if err != nil {
		t.Fatal(err)
	}
	back, err := OpenFlowState(e.key, c.Value)
	if err != nil {
		t.Fatalf("OpenFlowState(own cookie) = %v", err)
	}
	return back, q
}

// signIn runs a whole flow.
func (e *env) signIn(t *testing.T, provider string) (*Claims, error) {
	t.Helper()
	fs, q := e.start(t, provider)
	return e.login.Finish(ctx, provider, fs, q)
}
