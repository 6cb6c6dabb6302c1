package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

var ctx = context.Background()

const publicURL = "https://auth.example.com"

// forEachStore runs fn on SQLite and, when configured, PostgreSQL.
func forEachStore(t *testing.T, fn func(t *testing.T, store auth.Store)) {
	for _, b := range storetest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.Open(t)) })
	}
}

func newOutbox(t *testing.T, notify func()) *Outbox {
	t.Helper()
	o, err := NewOutbox(OutboxConfig{Product: "Example", PublicURL: publicURL, Notify: notify})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func newSender(t *testing.T, srv *testServer, mode TLSMode) *SMTPSender {
	t.Helper()
	s, err := NewSMTPSender(SMTPConfig{URL: srv.url(mode), From: "Example <no-reply@example.com>",
		Timeout: 2 * time.Second, TLSConfig: srv.clientTLS, HELO: "gatehouse.test"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fastOptions make a worker that polls and backs off in milliseconds.
func fastOptions(log *syncBuffer) WorkerOptions {
	o := WorkerOptions{PollInterval: 20 * time.Millisecond, Lease: 5 * time.Second, SendTimeout: 2 * time.Second,
		Backoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, BatchSize: 3}
	if log != nil {
		o.Logger = slogTo(log)
	}
	return o
}

func newWorker(t *testing.T, store auth.OutboxStore, sender Sender, opts WorkerOptions) *Worker {
	t.Helper()
	w, err := NewWorker(store, sender, opts)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// run starts w.Run and stops it when the test ends, checking that it stops.
func run(t *testing.T, w *Worker) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Worker.Run did not return after its context ended")
		}
	})
}

// message is a received mail, taken apart.
type message struct {
	header     netmail.Header
	text, html string
}

func parseMessage(t *testing.T, data []byte) message {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	p := message{header: msg.Header}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(part)
		ct, ctParams, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if ctParams["charset"] != "UTF-8" {
			t.Errorf("part %s charset = %q, want UTF-8", ct, ctParams["charset"])
		}
		switch ct {
		case "text/plain":
			p.text = string(body)
		case "text/html":
			p.html = string(body)
		default:
			t.Errorf("unexpected part %q", ct)
		}
	}
	return p
}

func TestDelivery(t *testing.T) {
	tests := []struct {
		name       string
		server     TLSMode // how the server listens
		client     TLSMode // what the URL asks for
		user, pass string
	}{
		{"STARTTLS with AUTH PLAIN", TLSStartTLS, TLSStartTLS, "mailer", "s3cret"},
		{"implicit TLS with AUTH PLAIN", TLSImplicit, TLSImplicit, "mailer", "s3cret"},
		{"no TLS, no AUTH", TLSNone, TLSNone, "", ""},
		{"no TLS, AUTH on loopback", TLSNone, TLSNone, "mailer", "s3cret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, store auth.Store) {
				srv := startTestServer(t, tc.server, tc.user, tc.pass)
				logBuf := &syncBuffer{}
				w := newWorker(t, store, newSender(t, srv, tc.client), fastOptions(logBuf))
				outbox := newOutbox(t, w.Notify)
				err := outbox.Enqueue(ctx, store, KindPasswordReset, "alice@example.com",
					Data{UserName: "Alice <3", Link: "/reset-password#token=SECRET-TOKEN", ExpiresIn: time.Hour})
				if err != nil {
					t.Fatalf("Enqueue() = %v", err)
				}
				if n, err := w.Flush(ctx); n != 1 || err != nil {
					t.Fatalf("Flush() = %d, %v; want 1 mail", n, err)
				}
				msgs := srv.messages()
				if len(msgs) != 1 {
					t.Fatalf("server received %d messages, want 1; log:\n%s", len(msgs), logBuf)
				}
				got := msgs[0]
				if got.From != "no-reply@example.com" || len(got.To) != 1 || got.To[0] != "alice@example.com" {
					t.Errorf("envelope = from %q to %q, want no-reply@example.com to alice@example.com", got.From, got.To)
				}
				if got.TLS != (tc.server != TLSNone) || got.Authed != (tc.user != "") {
					t.Errorf("received over TLS %v, authenticated %v; want %v, %v", got.TLS, got.Authed, tc.server != TLSNone, tc.user != "")
				}
				p := parseMessage(t, got.Data)
				from, _ := p.header.AddressList("From")
				to, _ := p.header.AddressList("To")
				if len(from) != 1 || from[0].Name != "Example" || from[0].Address != "no-reply@example.com" {
					t.Errorf("From = %v, want Example <no-reply@example.com>", from)
				}
				if len(to) != 1 || to[0].Address != "alice@example.com" {
					t.Errorf("To = %v, want alice@example.com", to)
				}
				subject, _ := new(mime.WordDecoder).DecodeHeader(p.header.Get("Subject"))
				for _, h := range []struct{ name, got, want string }{
					{"Subject", subject, "Reset your Example password"},
					{"Auto-Submitted", p.header.Get("Auto-Submitted"), "auto-generated"},
					{"MIME-Version", p.header.Get("MIME-Version"), "1.0"},
					{"User-Agent", p.header.Get("User-Agent"), ""},
					{"X-Mailer", p.header.Get("X-Mailer"), ""},
				} {
					if h.got != h.want {
						t.Errorf("header %s = %q, want %q", h.name, h.got, h.want)
					}
				}
				if id := p.header.Get("Message-ID"); !strings.HasSuffix(id, "@example.com>") {
					t.Errorf("Message-ID = %q, want one in the sender's domain", id)
				}
				if _, err := p.header.Date(); err != nil {
					t.Errorf("Date header: %v", err)
				}
				link := publicURL + "/reset-password#token=SECRET-TOKEN"
				if !strings.Contains(p.text, link) || !strings.Contains(p.text, "Hi Alice <3,") {
					t.Errorf("text part lacks the link or greeting:\n%s", p.text)
				}
				if !strings.Contains(p.html, `href="`+link+`"`) || !strings.Contains(p.html, "Hi Alice &lt;3,") {
					t.Errorf("HTML part lacks the link or the escaped greeting:\n%s", p.html)
				}
				mails, _ := store.FindMails(ctx, 10)
				if len(mails) != 1 || mails[0].SentAt == nil || mails[0].Attempts != 1 || mails[0].Kind != KindPasswordReset {
					t.Errorf("outbox after delivery = %+v, want one sent mail after one attempt", mails)
				}
				if strings.Contains(logBuf.String(), "SECRET-TOKEN") {
					t.Errorf("the log holds the mail's secret:\n%s", logBuf)
				}
			})
		})
	}
}

// With the mail server down, the worker fails, backs off and tries again; the
// mail arrives once the server is up, on the same port.
func TestOutage(t *testing.T) {
	forEachStore(t, func(t *testing.T, store auth.Store) {
		srv := newTestServer(t, TLSStartTLS, "mailer", "s3cret")
		srv.reservePort()
		logBuf := &syncBuffer{}
		w := newWorker(t, store, newSender(t, srv, TLSStartTLS), fastOptions(logBuf))
		run(t, w)
		outbox := newOutbox(t, w.Notify)
		if err := outbox.Enqueue(ctx, store, KindVerifyEmail, "bob@example.com", Data{Link: "/verify-email/SECRET"}); err != nil {
			t.Fatal(err)
		}
		// Wait for a failure or two to be recorded.
		deadline := time.Now().Add(5 * time.Second)
		var m *auth.OutboxMail
		for {
			mails, err := store.FindMails(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if m = mails[0]; m.Attempts >= 2 && m.LastError != "" || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if m.Attempts < 2 || m.LastError == "" || m.SentAt != nil || m.GaveUpAt != nil {
			t.Fatalf("mail while the server is down = %+v; want failed attempts, neither sent nor given up", m)
		}
		if len(lines(logBuf.String(), "will retry")) == 0 {
			t.Errorf("no retry in the log:\n%s", logBuf)
		}
		srv.start()
		msgs := srv.waitFor(1, 5*time.Second)
		if len(msgs) != 1 || msgs[0].To[0] != "bob@example.com" {
			t.Fatalf("after the outage the server received %d messages, want bob's; log:\n%s", len(msgs), logBuf)
		}
		deadline = time.Now().Add(5 * time.Second)
		for {
			if n, _ := store.CountPendingMails(ctx); n == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		mails, _ := store.FindMails(ctx, 1)
		if mails[0].SentAt == nil || mails[0].LastError != "" {
			t.Errorf("mail after the outage = %+v, want sent with no error", mails[0])
		}
		if strings.Contains(logBuf.String(), "SECRET") || strings.Contains(logBuf.String(), "s3cret") {
			t.Errorf("the log holds a secret:\n%s", logBuf)
		}
	})
}

// Two workers on one outbox deliver every mail exactly once.
func TestConcurrentWorkers(t *testing.T) {
	forEachStore(t, func(t *testing.T, store auth.Store) {
		srv := startTestServer(t, TLSNone, "", "")
		const mails = 20
		var workers []*Worker
		for range 2 {
			w := newWorker(t, store, newSender(t, srv, TLSNone), fastOptions(nil))
			workers = append(workers, w)
		}
		outbox := newOutbox(t, func() {
			for _, w := range workers {
				w.Notify()
			}
		})
		for i := range mails {
			if err := outbox.Enqueue(ctx, store, KindPasswordChanged, fmt.Sprintf("user%02d@example.com", i), Data{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, w := range workers {
			run(t, w)
		}
		msgs := srv.waitFor(mails, 10*time.Second)
		time.Sleep(100 * time.Millisecond) // room for a duplicate to show up
		msgs = srv.messages()
		count := map[string]int{}
		for _, m := range msgs {
			count[m.To[0]]++
		}
		for i := range mails {
			to := fmt.Sprintf("user%02d@example.com", i)
			if count[to] != 1 {
				t.Errorf("%s got %d mails, want 1", to, count[to])
			}
		}
		if len(msgs) != mails {
			t.Errorf("server received %d messages, want %d", len(msgs), mails)
		}
		if n, _ := store.CountPendingMails(ctx); n != 0 {
			t.Errorf("CountPendingMails() = %d after delivery, want 0", n)
		}
	})
}

// clock is a time source the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// The back-off doubles from Backoff up to MaxBackoff, and a mail is given up,
// loudly, GiveUpAfter after it was enqueued.
func TestBackoffAndGiveUp(t *testing.T) {
	forEachStore(t, func(t *testing.T, store auth.Store) {
		t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		clk := &clock{now: t0}
		logBuf := &syncBuffer{}
		failing := SenderFunc(func(context.Context, string, string, string, string) error {
			return errors.New("451 4.3.0 try again later")
		})
		w := newWorker(t, store, failing, WorkerOptions{Now: clk.Now, Logger: slogTo(logBuf)})
		outbox, _ := NewOutbox(OutboxConfig{PublicURL: publicURL, Now: clk.Now})
		if err := outbox.Enqueue(ctx, store, KindPasswordReset, "carol@example.com", Data{Link: "/reset#SECRET-TOKEN"}); err != nil {
			t.Fatal(err)
		}
		// The defaults: 30 s, doubling, capped at 1 h.
		for i, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute,
			8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour} {
			if n, err := w.Flush(ctx); n != 1 || err != nil {
				t.Fatalf("attempt %d: Flush() = %d, %v; want 1 mail", i+1, n, err)
			}
			m, _ := store.FindMails(ctx, 1)
			if got := m[0].NextAttemptAt.Sub(clk.Now()); got != want || m[0].Attempts != i+1 {
				t.Errorf("after attempt %d: next attempt in %v (attempts %d), want %v (%d)", i+1, got, m[0].Attempts, want, i+1)
			}
			if n, _ := w.Flush(ctx); n != 0 {
				t.Errorf("after attempt %d: Flush() before the back-off ends took %d mails, want 0", i+1, n)
			}
			clk.Set(m[0].NextAttemptAt)
		}
		if strings.Contains(logBuf.String(), "GIVING UP") {
			t.Fatalf("gave up too early:\n%s", logBuf)
		}
		clk.Set(t0.Add(24 * time.Hour))
		if n, _ := w.Flush(ctx); n != 1 {
			t.Fatalf("Flush() after a day = %d, want 1", n)
		}
		m, _ := store.FindMails(ctx, 1)
		if m[0].GaveUpAt == nil || !m[0].GaveUpAt.Equal(clk.Now()) || m[0].LastError != "451 4.3.0 try again later" {
			t.Errorf("mail after a day of failures = %+v, want given up now with the last error", m[0])
		}
		if n, _ := store.CountPendingMails(ctx); n != 0 {
			t.Errorf("CountPendingMails() = %d, want 0 after giving up", n)
		}
		if got := lines(logBuf.String(), "GIVING UP"); len(got) != 1 || !strings.Contains(got[0], "level=ERROR") {
			t.Errorf("log lines about giving up = %q, want one error", got)
		}
		if strings.Contains(logBuf.String(), "SECRET-TOKEN") {
			t.Errorf("the log holds the mail's secret:\n%s", logBuf)
		}
	})
}

// How a failure is handled depends on what failed.
func TestFailureKinds(t *testing.T) {
	tests := []struct {
		name    string
		server  TLSMode // the server wants mailer:s3cret, except without TLS, where it wants nothing
		client  TLSMode
		creds   string // in the URL
		to      string
		giveUp  bool // at once, or retry
		errSays string
	}{
		{"recipient refused for good", TLSStartTLS, TLSStartTLS, "mailer:s3cret", "nobody@example.com", true, "550"},
		{"malformed recipient", TLSStartTLS, TLSStartTLS, "mailer:s3cret", "not an address", true, "rejected"},
		{"wrong password", TLSStartTLS, TLSStartTLS, "mailer:hunter2-wrong", "dave@example.com", false, "AUTH"},
		{"no credentials", TLSStartTLS, TLSStartTLS, "", "dave@example.com", false, "authenticate"},
		{"no STARTTLS offered", TLSNone, TLSStartTLS, "", "dave@example.com", false, "STARTTLS"},
		{"untrusted certificate", TLSImplicit, TLSImplicit, "mailer:s3cret", "dave@example.com", false, "certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := storetest.OpenSQLite(t)
			user, pass := "mailer", "s3cret"
			if tc.server == TLSNone {
				user, pass = "", ""
			}
			srv := newTestServer(t, tc.server, user, pass)
			srv.Reject("nobody@example.com")
			srv.start()
			url := strings.Replace(srv.url(tc.client), user+":"+pass+"@", "", 1)
			if tc.creds != "" {
				url = strings.Replace(url, "://", "://"+tc.creds+"@", 1)
			}
			clientTLS := srv.clientTLS
			if tc.name == "untrusted certificate" {
				clientTLS = nil // the system roots, which do not know the test certificate
			}
			sender, err := NewSMTPSender(SMTPConfig{URL: url, TLSConfig: clientTLS, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			logBuf := &syncBuffer{}
			w := newWorker(t, store, sender, WorkerOptions{Logger: slogTo(logBuf)})
			if err := store.EnqueueMail(ctx, &auth.OutboxMail{To: tc.to, Subject: "s", Text: "t", Kind: "test"}); err != nil {
				t.Fatal(err)
			}
			if n, err := w.Flush(ctx); n != 1 || err != nil {
				t.Fatalf("Flush() = %d, %v", n, err)
			}
			m, _ := store.FindMails(ctx, 1)
			if (m[0].GaveUpAt != nil) != tc.giveUp || m[0].SentAt != nil {
				t.Errorf("after one failure: GaveUpAt %v, SentAt %v; want given up: %v", m[0].GaveUpAt, m[0].SentAt, tc.giveUp)
			}
			if !strings.Contains(m[0].LastError, tc.errSays) {
				t.Errorf("LastError = %q, want it to mention %q", m[0].LastError, tc.errSays)
			}
			if len(srv.messages()) != 0 {
				t.Errorf("server received a message")
			}
			if log := logBuf.String(); strings.Contains(log, "hunter2") || strings.Contains(log, "s3cret") {
				t.Errorf("the log holds the SMTP password:\n%s", log)
			}
		})
	}
}

// A mail taken more often than MaxAttempts allows (its workers died
// mid-send) is given up without another try.
func TestGiveUpAfterTooManyClaims(t *testing.T) {
	store := storetest.OpenSQLite(t)
	sent := 0
	counting := SenderFunc(func(context.Context, string, string, string, string) error { sent++; return nil })
	t0 := time.Now()
	if err := store.EnqueueMail(ctx, &auth.OutboxMail{To: "erin@example.com", Subject: "s", Text: "t", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // three workers that claimed the mail and died
		if _, err := store.ClaimMails(ctx, t0.Add(time.Duration(i)*time.Minute), time.Minute, 1); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{now: t0.Add(10 * time.Minute)}
	logBuf := &syncBuffer{}
	w := newWorker(t, store, counting, WorkerOptions{MaxAttempts: 3, Now: clk.Now, Logger: slogTo(logBuf)})
	if n, err := w.Flush(ctx); n != 1 || err != nil {
		t.Fatalf("Flush() = %d, %v", n, err)
	}
	m, _ := store.FindMails(ctx, 1)
	if sent != 0 || m[0].GaveUpAt == nil || !strings.Contains(m[0].LastError, "taken 4 times") {
		t.Errorf("sent %d times, mail %+v; want given up unsent", sent, m[0])
	}
}

// Notify wakes a worker that would otherwise sleep for an hour.
func TestNotify(t *testing.T) {
	store := storetest.OpenSQLite(t)
	got := make(chan string, 1)
	w := newWorker(t, store, SenderFunc(func(_ context.Context, to, _, _, _ string) error {
		got <- to
		return nil
	}), WorkerOptions{PollInterval: time.Hour})
	run(t, w)
	time.Sleep(50 * time.Millisecond) // let Run make its first, empty pass
	outbox := newOutbox(t, w.Notify)
	if err := outbox.Enqueue(ctx, store, KindPasswordChanged, "frank@example.com", Data{}); err != nil {
		t.Fatal(err)
	}
	select {
	case to := <-got:
		if to != "frank@example.com" {
			t.Errorf("sent to %q, want frank@example.com", to)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Notify did not wake the worker")
	}
}

// When Run's context ends mid-send, the send finishes and is recorded, so
// the mail is not sent again.
func TestGracefulStop(t *testing.T) {
	store := storetest.OpenSQLite(t)
	started, release := make(chan struct{}), make(chan struct{})
	w := newWorker(t, store, SenderFunc(func(ctx context.Context, _, _, _, _ string) error {
		close(started)
		<-release
		return ctx.Err() // the send's context outlives Run's
	}), WorkerOptions{PollInterval: 10 * time.Millisecond})
	if err := store.EnqueueMail(ctx, &auth.OutboxMail{To: "gina@example.com", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(runCtx); close(done) }()
	<-started
	cancel()
	close(release)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	m, _ := store.FindMails(ctx, 1)
	if m[0].SentAt == nil {
		t.Errorf("mail in flight at shutdown = %+v, want it recorded as sent", m[0])
	}
}

// Retention deletes sent mails, and their secrets, from the outbox.
func TestRetention(t *testing.T) {
	store := storetest.OpenSQLite(t)
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	clk := &clock{now: t0}
	w := newWorker(t, store, SenderFunc(func(context.Context, string, string, string, string) error { return nil }),
		WorkerOptions{Now: clk.Now, PollInterval: 10 * time.Millisecond, Retention: time.Hour})
	if err := store.EnqueueMail(ctx, &auth.OutboxMail{To: "h@example.com", Subject: "s", Text: "t", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if n, _ := w.Flush(ctx); n != 1 {
		t.Fatal("mail not sent")
	}
	clk.Set(t0.Add(2 * time.Hour))
	run(t, w) // cleans up as it starts
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, _ := store.FindMails(ctx, 10)
		if len(m) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sent mail still in the outbox after the retention period: %+v", m[0])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNewWorkerOptions(t *testing.T) {
	store := storetest.OpenSQLite(t)
	nop := SenderFunc(func(context.Context, string, string, string, string) error { return nil })
	tests := []struct {
		name    string
		store   auth.OutboxStore
		sender  Sender
		opts    WorkerOptions
		wantErr string
	}{
		{"defaults", store, nop, WorkerOptions{}, ""},
		{"no store", nil, nop, WorkerOptions{}, "needs a store"},
		{"no sender", store, nil, WorkerOptions{}, "needs a store and a sender"},
		{"negative duration", store, nop, WorkerOptions{Backoff: -time.Second}, "negative"},
		{"negative batch", store, nop, WorkerOptions{BatchSize: -1}, "negative"},
		{"lease shorter than a send", store, nop, WorkerOptions{Lease: 10 * time.Second}, "lease"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewWorker(tc.store, tc.sender, tc.opts)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("NewWorker(%s) = %v, want error %q", tc.name, err, tc.wantErr)
			}
		})
	}
}

func TestOutboxEnqueue(t *testing.T) {
	store := storetest.OpenSQLite(t)
	notified := 0
	o := newOutbox(t, func() { notified++ })
	// A link outside the public URL is refused, and nothing is queued.
	err := o.Enqueue(ctx, store, KindPasswordReset, "i@example.com", Data{Link: "https://evil.test/reset"})
	if !errors.Is(err, ErrForeignLink) {
		t.Errorf("Enqueue(foreign link) = %v, want ErrForeignLink", err)
	}
	// Inside a transaction that rolls back, nothing is queued either.
	boom := errors.New("boom")
	err = store.InTx(ctx, func(tx auth.Store) error {
		if err := o.Enqueue(ctx, tx, KindPasswordReset, "i@example.com", Data{Link: "/reset"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx() = %v", err)
	}
	if n, _ := store.CountPendingMails(ctx); n != 0 {
		t.Errorf("CountPendingMails() = %d after rollback, want 0", n)
	}
	if err := o.Enqueue(ctx, store, KindPasswordReset, "i@example.com", Data{Link: "/reset"}); err != nil {
		t.Fatal(err)
	}
	m, _ := store.FindMails(ctx, 1)
	if m[0].Kind != KindPasswordReset || m[0].Subject != "Reset your Example password" || !strings.Contains(m[0].HTML, publicURL+"/reset") {
		t.Errorf("queued mail = %+v", m[0])
	}
	if notified != 2 {
		t.Errorf("Notify called %d times, want 2 (once per enqueue)", notified)
	}
	for _, bad := range []string{"", "auth.example.com", "ftp://auth.example.com"} {
		if _, err := NewOutbox(OutboxConfig{PublicURL: bad}); err == nil {
			t.Errorf("NewOutbox(PublicURL %q) succeeded, want an error", bad)
		}
	}
}

func TestDevSender(t *testing.T) {
	logBuf := &syncBuffer{}
	_, text, html, err := Render(KindEmailLogin, Data{PublicURL: publicURL, Link: "/login/email/TOKEN", Code: "123456"})
	if err != nil {
		t.Fatal(err)
	}
	if err := NewDevSender(slogTo(logBuf)).Send(ctx, "j@example.com", "Sign in", text, html); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	got := logBuf.String()
	for _, want := range []string{"to=j@example.com", `subject="Sign in"`, "link=" + publicURL + "/login/email/TOKEN"} {
		if !strings.Contains(got, want) {
			t.Errorf("DevSender log = %q, want %q in it", got, want)
		}
	}
	if strings.Contains(got, "123456") || strings.Contains(got, "<html") {
		t.Errorf("DevSender log = %q; it logs the body", got)
	}
}
