package web

import (
	"bytes"
	"context"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/audit"
	"github.com/gatehouse-dev/gatehouse/internal/smtptest"
	"github.com/gatehouse-dev/gatehouse/mail"
	"github.com/gatehouse-dev/gatehouse/masterkey"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/session"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
	"github.com/gatehouse-dev/gatehouse/token"
)

// mailEnv is a testEnv whose account service sends its mail through the
// outbox and a worker to a real SMTP server on loopback (STARTTLS, AUTH).
type mailEnv struct {
	*testEnv
	smtp   *smtptest.Server
	public string // the configured public URL
}

// mailOptions change how newMailEnv builds the server.
type mailOptions struct {
	verification string   // accounts.VerifyOptional (default) or VerifyRequired
	signUp       bool     // sign-in by email may create accounts
	limits       bool     // apply the default rate limits
	devMail      bool     // serve /dev/mail
	smtpDown     bool     // reserve the SMTP port but do not start the server
	origins      []string // http.allowed_origins
	metrics      bool     // count into metrics served at /metrics
}

// forEachMailBackend runs fn against SQLite and, when configured, PostgreSQL.
func forEachMailBackend(t *testing.T, o mailOptions, fn func(t *testing.T, env *mailEnv)) {
	for _, b := range storetest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, newMailEnv(t, b.Open(t), o)) })
	}
}

// lockedWriter lets the request handlers, the mail worker and the account
// service's queue log to one buffer.
type lockedWriter struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func newMailEnv(t *testing.T, st store.Store, o mailOptions) *mailEnv {
	t.Helper()
	srv := smtptest.New(t, smtptest.StartTLS, "mailer", "s3cret")
	if o.smtpDown {
		srv.ReservePort()
	} else {
		srv.Start()
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{b: &logs}, nil))
	httpSrv := httptest.NewUnstartedServer(nil)
	public := "http://" + httpSrv.Listener.Addr().String()

	sender, err := mail.NewSMTPSender(mail.SMTPConfig{URL: srv.URL(smtptest.StartTLS), TLSConfig: srv.ClientTLS,
		From: "Gatehouse <no-reply@example.com>", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	worker, err := mail.NewWorker(st, sender, mail.WorkerOptions{Logger: logger, PollInterval: 20 * time.Millisecond,
		Lease: 5 * time.Second, SendTimeout: 2 * time.Second, Backoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { worker.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	outbox, err := mail.NewOutbox(mail.OutboxConfig{PublicURL: public, Notify: worker.Notify})
	if err != nil {
		t.Fatal(err)
	}
	email := accounts.EmailConfig{Outbox: outbox, Verification: o.verification, Login: true, LoginSignUp: o.signUp}
	if o.limits {
		mem, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if email.Limits, err = ratelimit.NewPolicy(ratelimit.PolicyConfig{Limiter: mem}); err != nil {
			t.Fatal(err)
		}
	}

	hasher, err := password.New(password.Params{Memory: 1024, Iterations: 1})
	if err != nil {
		t.Fatal(err)
	}
	rec := audit.New(st, nil, logger)
	sessions, err := session.New(session.Config{Store: st, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sessions.Close)
	acc, err := accounts.New(accounts.Config{Store: st, Hasher: hasher, Logger: logger, Audit: rec, Sessions: sessions, Email: email})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(acc.Close)
	key, err := masterkey.New("0123456789abcdef0123456789abcdef-test")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := token.NewKeyring(context.Background(), st, key, token.Config{Issuer: public, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	var m *metrics.Metrics
	if o.metrics {
		m = metrics.New()
	}
	w, err := New(Config{Accounts: acc, Sessions: sessions, Audit: rec, Tokens: keys, Ready: map[string]Pinger{"database": st},
		PublicURL: public, Logger: logger, DevMail: o.devMail, AllowedOrigins: o.origins, Metrics: m, ServeMetrics: o.metrics})
	if err != nil {
		t.Fatal(err)
	}
	httpSrv.Config.Handler = w
	httpSrv.Start()
	t.Cleanup(httpSrv.Close)
	env := &testEnv{t: t, srv: httpSrv, web: w, store: st, accounts: acc, sessions: sessions, keys: keys, logs: &logs}
	return &mailEnv{testEnv: env, smtp: srv, public: public}
}

// mails waits until n mails to addr have arrived and returns them, parsed,
// oldest first.
func (e *mailEnv) mails(addr string, n int) []*smtptest.Parsed {
	e.t.Helper()
	e.accounts.Flush()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := e.smtp.To(addr)
		if len(got) >= n {
			var out []*smtptest.Parsed
			for _, m := range got {
				out = append(out, m.MustParse(e.t))
			}
			return out
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d mails to %s arrived within 10s, want %d", len(got), addr, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lastMail waits for the nth mail to addr and returns it.
func (e *mailEnv) lastMail(addr string, n int) *smtptest.Parsed {
	e.t.Helper()
	return e.mails(addr, n)[n-1]
}

// noMail checks, after every queued request is done and the outbox drained,
// that addr got no mail.
func (e *mailEnv) noMail(addr string) {
	e.t.Helper()
	e.accounts.Flush()
	e.drain()
	if got := e.smtp.To(addr); len(got) != 0 {
		e.t.Errorf("%s got %d mails, want none", addr, len(got))
	}
}

// drain waits until the outbox has nothing left to send.
func (e *mailEnv) drain() {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := e.store.CountPendingMails(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d mails still pending after 10s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// path returns the path (and query) of a link in a mail, after checking that
// it is on the public URL.
func (e *mailEnv) path(link string) string {
	e.t.Helper()
	if !strings.HasPrefix(link, e.public+"/") {
		e.t.Fatalf("link %q is not under the public URL %s", link, e.public)
	}
	u, err := url.Parse(link)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.RequestURI()
}

// linkIn returns the path of the link in p that contains substring.
func (e *mailEnv) linkIn(p *smtptest.Parsed, substring string) string {
	e.t.Helper()
	l := p.Link(substring)
	if l == "" {
		e.t.Fatalf("no link with %q in the mail %q:\n%s", substring, p.Subject, p.Text)
	}
	return e.path(l)
}

// tokenOf returns the last segment of a link's path: the secret.
func tokenOf(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }

// signIn signs a new browser in with a password and returns it.
func (e *mailEnv) signIn(login, pw string) *http.Client {
	e.t.Helper()
	c := e.client()
	if r := e.postForm(c, "/login", url.Values{"login": {login}, "password": {pw}}); r.status != http.StatusSeeOther {
		e.t.Fatalf("sign in as %s = %d, want 303:\n%s", login, r.status, r.body)
	}
	return c
}

// rawJSON is a JSON request body, as written.
func rawJSON(s string) *strings.Reader { return strings.NewReader(s) }

const jsonCT = "application/json"
