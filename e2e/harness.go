//go:build e2e

package e2e

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// Store names the database a Gatehouse under test runs on.
type Store string

// The stores Start can run Gatehouse on.
const (
	// SQLite is a database file in the test's temporary directory; it
	// always runs.
	SQLite Store = "sqlite"
	// Postgres is a schema of its own on the server that
	// GATEHOUSE_TEST_POSTGRES_URL names; without that variable the test
	// that asks for it is skipped.
	Postgres Store = "postgres"
)

// Stores returns every store, for scenarios that run once on each:
//
//	for _, s := range e2e.Stores() {
//		t.Run(string(s), func(t *testing.T) { h := e2e.Start(t, e2e.WithStore(s)); … })
//	}
func Stores() []Store { return []Store{SQLite, Postgres} }

// Option changes how Start sets up Gatehouse.
type Option interface{ apply(*settings) }

type settings struct {
	store     Store
	configure []func(*gatehouse.Config)
}

type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

// WithStore runs Gatehouse on s instead of SQLite.
func WithStore(s Store) Option { return optionFunc(func(o *settings) { o.store = s }) }

// WithConfig lets a scenario change the configuration after Start has filled
// in its own values (database, data directory, public URL, cheap password
// hashing) and before Gatehouse is built. Changing PublicURL or DatabaseURL
// breaks the harness.
func WithConfig(f func(*gatehouse.Config)) Option {
	return optionFunc(func(o *settings) { o.configure = append(o.configure, f) })
}

// Harness is a Gatehouse running in the test's process on a loopback port of
// its own, with its own database and data directory. Start makes one; it
// stops when the test ends.
type Harness struct {
	// URL is Gatehouse's public URL, http://127.0.0.1:<port>, without a
	// trailing slash.
	URL string

	// Gatehouse is the instance under test, for scenarios that prepare or
	// check state directly: creating users, making setup links, reading the
	// store.
	Gatehouse *gatehouse.Gatehouse
}

// Start runs Gatehouse for one test: it listens on 127.0.0.1:0 first, so
// that the public URL can name the port, then builds Gatehouse with that URL,
// a database of its own (SQLite in t.TempDir() unless WithStore says
// otherwise) and password hashing cheap enough that a sign-in takes
// milliseconds. Gatehouse's log goes to t.Log, so it shows when the test
// fails or runs with -v. Everything is shut down when the test ends.
func Start(t testing.TB, opts ...Option) *Harness {
	t.Helper()
	o := settings{store: SQLite}
	for _, opt := range opts {
		opt.apply(&o)
	}

	// Registered first so that it runs last: nothing may write to t's log
	// once the test has finished.
	logs := &testLog{t: t}
	t.Cleanup(logs.stop)

	dir := t.TempDir()
	cfg := gatehouse.DefaultConfig()
	cfg.DataDir = dir
	switch o.store {
	case SQLite:
		cfg.DatabaseURL = "sqlite://" + filepath.Join(dir, "gatehouse.db")
	case Postgres:
		cfg.DatabaseURL = storetest.PostgresURL(t) // skips the test when not configured
	default:
		t.Fatalf("e2e.Start: unknown store %q", o.store)
	}
	// The cheapest Argon2id settings that are still valid: the suite tests
	// flows, not hashing, and the default costs 19 MiB and tens of
	// milliseconds per password.
	cfg.Password.Argon2MemoryKiB = 1024
	cfg.Password.Argon2Iterations = 1

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on a loopback port: %v", err)
	}
	cfg.Listen = ln.Addr().String()
	cfg.PublicURL = "http://" + ln.Addr().String()
	for _, f := range o.configure {
		f(&cfg)
	}

	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	g, err := gatehouse.New(cfg, gatehouse.WithLogger(logger))
	if err != nil {
		ln.Close()
		t.Fatalf("start Gatehouse: %v", err)
	}
	t.Cleanup(func() { g.Close() })

	srv := &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		// Shutdown waits for requests in flight, so that none of them
		// touches the store after g.Close.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("stop Gatehouse's HTTP server: %v", err)
			srv.Close()
		}
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Gatehouse's HTTP server: %v", err)
		}
	})
	return &Harness{URL: cfg.PublicURL, Gatehouse: g}
}

// SetupLink returns a new one-time link that creates the first admin
// account. It fails the test when an admin exists already.
func (h *Harness) SetupLink(t testing.TB) string {
	t.Helper()
	link, _, err := h.Gatehouse.SetupLink(context.Background())
	if err != nil {
		t.Fatalf("SetupLink: %v", err)
	}
	if link == "" {
		t.Fatal("SetupLink: an admin exists already, so there is no setup link")
	}
	return link
}

// CreateUser registers an account directly, without the browser, and fails
// the test if that does not work. Roles nil gives the default roles.
func (h *Harness) CreateUser(t testing.TB, r accounts.Registration) *auth.User {
	t.Helper()
	u, err := h.Gatehouse.Accounts().Register(context.Background(), r)
	if err != nil {
		t.Fatalf("register %q: %v", r.Username, err)
	}
	return u
}

// Browser starts a new headless Chromium for t, with an empty profile (and
// so an empty cookie jar) of its own; see Browser's doc for what it checks.
// Relative URLs given to its Navigate are resolved against Gatehouse's URL.
func (h *Harness) Browser(t testing.TB) *Browser {
	t.Helper()
	return NewBrowser(t, h.URL)
}

// testLog writes Gatehouse's log lines to the test's log until stop.
type testLog struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (l *testLog) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}
