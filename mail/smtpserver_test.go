package mail

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message the test server accepted.
type received struct {
	From   string
	To     []string
	Data   []byte
	Authed bool // the client authenticated with AUTH PLAIN
	TLS    bool // the message came over TLS
}

// testServer is a real SMTP server on loopback that records what it
// receives. With user set it offers AUTH PLAIN and requires it; rejects lists
// recipients it refuses for good (550).
type testServer struct {
	t          *testing.T
	mode       TLSMode // how the server listens: starttls offers STARTTLS, implicit speaks TLS at once
	user, pass string
	rejects    map[string]bool
	serverTLS  *tls.Config
	clientTLS  *tls.Config // trusts the server's certificate

	mu   sync.Mutex
	addr string
	srv  *smtp.Server
	msgs []received
}

// newTestServer makes a server that is not yet listening.
func newTestServer(t *testing.T, mode TLSMode, user, pass string) *testServer {
	t.Helper()
	serverTLS, clientTLS := testCertificates(t)
	s := &testServer{t: t, mode: mode, user: user, pass: pass, rejects: map[string]bool{},
		serverTLS: serverTLS, clientTLS: clientTLS, addr: "127.0.0.1:0"}
	t.Cleanup(s.stop)
	return s
}

// startTestServer makes a server and starts it on a free port.
func startTestServer(t *testing.T, mode TLSMode, user, pass string) *testServer {
	s := newTestServer(t, mode, user, pass)
	s.start()
	return s
}

// reservePort picks a free port for a server that starts later.
func (s *testServer) reservePort() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	s.addr = l.Addr().String()
	l.Close()
}

// start listens on s.addr (the same port again after stop).
func (s *testServer) start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var l net.Listener
	var err error
	for range 50 { // a port just released may take a moment to be free again
		if l, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("test SMTP server: listen on %s: %v", s.addr, err)
	}
	s.addr = l.Addr().String()
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	srv.ErrorLog = discardLogger{}
	switch s.mode {
	case TLSStartTLS:
		srv.TLSConfig = s.serverTLS
	case TLSImplicit:
		l = tls.NewListener(l, s.serverTLS)
	case TLSNone:
		srv.AllowInsecureAuth = true // for credentials to a relay on loopback
	}
	s.srv = srv
	go srv.Serve(l)
}

func (s *testServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// url returns the smtp:// URL of the server, with its credentials.
func (s *testServer) url(mode TLSMode) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	creds := ""
	if s.user != "" {
		creds = s.user + ":" + s.pass + "@"
	}
	if mode == TLSImplicit {
		return "smtps://" + creds + s.addr
	}
	return "smtp://" + creds + s.addr + "?tls=" + string(mode)
}

func (s *testServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// waitFor waits until the server holds n messages.
func (s *testServer) waitFor(n int, within time.Duration) []received {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		msgs := s.messages()
		if len(msgs) >= n || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *testServer) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &testSession{s: s, conn: c}, nil
}

type testSession struct {
	s      *testServer
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (ss *testSession) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *testSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.user || password != ss.s.pass {
			return errors.New("invalid username or password")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.s.rejects[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *testSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, received{From: ss.from, To: ss.to, Data: b, Authed: ss.authed, TLS: isTLS})
	ss.s.mu.Unlock()
	return nil
}

func (ss *testSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *testSession) Logout() error { return nil }

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// testCertificates makes a self-signed certificate for 127.0.0.1 and
// localhost, and a client configuration that trusts it.
func testCertificates(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test SMTP server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	return server, &tls.Config{RootCAs: pool}
}

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
