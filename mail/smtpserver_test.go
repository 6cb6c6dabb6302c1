package mail

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/smtptest"
)

// received is one message the test server accepted.
type received = smtptest.Message

// testServer is a real SMTP server on loopback (internal/smtptest) that
// records what it receives. With user set it offers AUTH PLAIN and requires
// it; Reject names recipients it refuses for good (550).
type testServer struct {
	*smtptest.Server
	clientTLS *tls.Config // trusts the server's certificate
}

// newTestServer makes a server that is not yet listening; mode says how it
// listens: starttls offers STARTTLS, implicit speaks TLS at once.
func newTestServer(t *testing.T, mode TLSMode, user, pass string) *testServer {
	t.Helper()
	s := smtptest.New(t, string(mode), user, pass)
	return &testServer{Server: s, clientTLS: s.ClientTLS}
}

// startTestServer makes a server and starts it on a free port.
func startTestServer(t *testing.T, mode TLSMode, user, pass string) *testServer {
	s := newTestServer(t, mode, user, pass)
	s.start()
	return s
}

func (s *testServer) reservePort() { s.ReservePort() }

// start listens (on the same port again after stop).
func (s *testServer) start() { s.Start() }

func (s *testServer) stop() { s.Stop() }

// url returns the smtp:// URL of the server, with its credentials.
func (s *testServer) url(mode TLSMode) string { return s.URL(string(mode)) }

func (s *testServer) messages() []received { return s.Messages() }

// waitFor waits until the server holds n messages.
func (s *testServer) waitFor(n int, within time.Duration) []received { return s.WaitFor(n, within) }

// syncBuffer is a log destination that goroutines can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// slogTo logs at every level into a buffer the test can read.
func slogTo(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// lines returns the log lines that contain s.
func lines(log, s string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}
