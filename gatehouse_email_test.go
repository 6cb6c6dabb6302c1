package gatehouse_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/internal/smtptest"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

func newMailGatehouse(t *testing.T, publicURL, smtpURL, databaseURL string) *gatehouse.Gatehouse {
	t.Helper()
	dir := t.TempDir()
	cfg := gatehouse.DefaultConfig()
	cfg.PublicURL = publicURL
	cfg.SMTPURL = smtpURL
	cfg.MailFrom = "Example <no-reply@example.com>"
	cfg.DatabaseURL = "sqlite://" + filepath.Join(dir, "gatehouse.db")
	if databaseURL != "" {
		cfg.DatabaseURL = databaseURL
	}
	cfg.DataDir = dir
	cfg.Password.Argon2MemoryKiB, cfg.Password.Argon2Iterations = 1024, 1
	gh, err := gatehouse.New(cfg, gatehouse.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	return gh
}

func post(t *testing.T, h http.Handler, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// New wires mail end to end: smtp_url gives an SMTP sender, New starts the
// worker, and a registration's confirmation mail reaches the server with a
// link on the public URL. Outside development mode /dev/mail does not exist.
func TestNewDeliversMailThroughSMTP(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dbURL := ""
			if backend == "postgres" {
				dbURL = storetest.PostgresURL(t)
			}
			srv := smtptest.Start(t, smtptest.None, "", "")
			gh := newMailGatehouse(t, "https://auth.example.test", srv.URL(smtptest.None), dbURL)
			rec := post(t, gh.Handler(), "/api/auth/register", `{"username":"alice","email":"alice@example.com","password":"correct horse battery staple"}`)
			if rec.Code != http.StatusCreated {
				t.Fatalf("register = %d %s", rec.Code, rec.Body)
			}
			msgs := srv.WaitFor(1, 10*time.Second)
			if len(msgs) != 1 {
				t.Fatalf("the SMTP server got %d mails, want the confirmation", len(msgs))
			}
			m := msgs[0].MustParse(t)
			if !strings.HasPrefix(m.Link("/verify-email/"), "https://auth.example.test/verify-email/ghverify_") ||
				m.Header.Get("From") != `"Example" <no-reply@example.com>` {
				t.Errorf("mail from %q with links %v, want the configured sender and a link on the public URL", m.Header.Get("From"), m.Links())
			}
			// The worker records the delivery just after the server takes it.
			n, err := gh.OutboxDepth(context.Background())
			for deadline := time.Now().Add(5 * time.Second); err == nil && n != 0 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
				n, err = gh.OutboxDepth(context.Background())
			}
			if err != nil || n != 0 {
				t.Errorf("OutboxDepth() = %d, %v; want 0 once delivered", n, err)
			}
			rec = httptest.NewRecorder()
			gh.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/dev/mail", nil))
			if rec.Code != http.StatusNotFound {
				t.Errorf("GET /dev/mail outside development mode = %d, want 404", rec.Code)
			}
			if err := gh.Close(); err != nil {
				t.Errorf("Close() = %v", err)
			}
		})
	}
}

// Without smtp_url, in development mode, mail stays in the outbox and the
// development mailbox shows it.
func TestNewDevOutbox(t *testing.T) {
	gh := newMailGatehouse(t, "http://localhost:8080", "", "")
	defer gh.Close()
	rec := post(t, gh.Handler(), "/api/auth/password-reset", `{"email":"nobody@example.com"}`)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("reset request = %d", rec.Code)
	}
	rec = post(t, gh.Handler(), "/api/auth/register", `{"username":"bob","email":"bob@example.com","password":"correct horse battery staple"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("register = %d %s", rec.Code, rec.Body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec = httptest.NewRecorder()
		gh.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/dev/mail", nil))
		if strings.Contains(rec.Body.String(), "bob@example.com") || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, `href="http://localhost:8080/verify-email/ghverify_`) || strings.Contains(body, "nobody@example.com") {
		t.Errorf("GET /dev/mail = %d, want bob's confirmation mail with its link and nothing for nobody:\n%s", rec.Code, body)
	}
}
