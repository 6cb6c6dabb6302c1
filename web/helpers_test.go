package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/audit"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/masterkey"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/session"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
	"github.com/gatehouse-dev/gatehouse/token"
)

// testEnv is a Gatehouse web server on a real store, served by httptest.
type testEnv struct {
	t        testing.TB
	srv      *httptest.Server
	web      *Server
	store    store.Store
	accounts *accounts.Service
	sessions *session.Manager
	keys     *token.Keyring
	logs     *bytes.Buffer
}

// forEachBackend runs fn against SQLite and, when configured, PostgreSQL.
func forEachBackend(t *testing.T, fn func(t *testing.T, env *testEnv)) {
	for _, b := range storetest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, newEnv(t, b.Open(t))) })
	}
}

// newEnv starts a server on st; each tweak may change its Config first.
func newEnv(t testing.TB, st store.Store, tweaks ...func(*Config)) *testEnv {
	t.Helper()
	hasher, err := password.New(password.Params{Memory: 1024, Iterations: 1})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	rec := audit.New(st, nil, logger)
	sessions, err := session.New(session.Config{Store: st, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sessions.Close)
	acc, err := accounts.New(accounts.Config{Store: st, Hasher: hasher, Logger: logger, Audit: rec, Sessions: sessions})
	if err != nil {
		t.Fatal(err)
	}
	env := &testEnv{t: t, store: st, accounts: acc, sessions: sessions, logs: &logs}
	env.srv = httptest.NewUnstartedServer(nil)
	public := "http://" + env.srv.Listener.Addr().String()
	key, err := masterkey.New("0123456789abcdef0123456789abcdef-test")
	if err != nil {
		t.Fatal(err)
	}
	env.keys, err = token.NewKeyring(context.Background(), st, key, token.Config{Issuer: public, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Accounts: acc, Sessions: sessions, Audit: rec, Tokens: env.keys, Ready: map[string]Pinger{"database": st}, PublicURL: public, Logger: logger}
	for _, tweak := range tweaks {
		tweak(&cfg)
	}
	env.web, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env.srv.Config.Handler = env.web
	env.srv.Start()
	t.Cleanup(env.srv.Close)
	return env
}

// client returns an HTTP client with its own cookie jar that does not follow
// redirects, so tests see each step.
func (e *testEnv) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request and reads the whole response.
func (e *testEnv) do(c *http.Client, method, path string, body io.Reader, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if c == nil {
		c = e.client()
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// postForm posts form values.
func (e *testEnv) postForm(c *http.Client, path string, v url.Values, headers ...string) response {
	e.t.Helper()
	return e.do(c, http.MethodPost, path, strings.NewReader(v.Encode()), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, headers...)...)
}

// mustRegister creates an active user with a password.
func (e *testEnv) mustRegister(username, pw string, roles ...string) *auth.User {
	e.t.Helper()
	reg := accounts.Registration{Username: username, Email: username + "@example.com", Password: pw}
	if len(roles) > 0 {
		reg.Roles = roles
	}
	u, err := e.accounts.Register(context.Background(), reg)
	if err != nil {
		e.t.Fatalf("Register(%s) = %v", username, err)
	}
	return u
}

func storetestSQLite(t *testing.T) store.Store { return storetest.OpenSQLite(t) }

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newAccountsForBench(tb testing.TB, st store.Store) *accounts.Service {
	hasher, err := password.New(password.Params{Memory: 1024, Iterations: 1})
	if err != nil {
		tb.Fatal(err)
	}
	acc, err := accounts.New(accounts.Config{Store: st, Hasher: hasher, Logger: discardLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	return acc
}

func httptestRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}
