// Package smtptest runs a real SMTP server on loopback for tests, built on
// github.com/emersion/go-smtp: it speaks STARTTLS or implicit TLS with a
// certificate made for the test, can require AUTH PLAIN, can refuse chosen
// recipients for good, and records every message it accepts. It can be
// stopped and started again on the same port, to stage an outage.
//
// Tests that send mail use it instead of a fake mailer, so that the SMTP
// client, its TLS and its error handling are exercised as in production.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// How the server protects connections; the same words as the tls parameter
// of Gatehouse's SMTP URLs.
const (
	StartTLS = "starttls" // plain, offering STARTTLS
	Implicit = "implicit" // TLS from the first byte
	None     = "none"     // plain only
)

// Message is one message the server accepted.
type Message struct {
	From   string
	To     []string
	Data   []byte
	Authed bool // the client authenticated with AUTH PLAIN
	TLS    bool // the message came over TLS
}

// Server is a real SMTP server on loopback that records what it receives.
type Server struct {
	// ClientTLS is a client configuration that trusts the server's
	// certificate, for STARTTLS and implicit TLS.
	ClientTLS *tls.Config

	t          testing.TB
	mode       string
	user, pass string
	serverTLS  *tls.Config

	mu      sync.Mutex
	addr    string
	srv     *smtp.Server
	msgs    []Message
	rejects map[string]bool
}

// New makes a server that is not yet listening. mode is StartTLS, Implicit
// or None; with user set, the server offers AUTH PLAIN and requires it. The
// server stops when the test ends.
func New(t testing.TB, mode, user, pass string) *Server {
	t.Helper()
	serverTLS, clientTLS := certificates(t)
	s := &Server{t: t, mode: mode, user: user, pass: pass, rejects: map[string]bool{},
		serverTLS: serverTLS, ClientTLS: clientTLS, addr: "127.0.0.1:0"}
	t.Cleanup(s.Stop)
	return s
}

// Start makes a server and starts it on a free port.
func Start(t testing.TB, mode, user, pass string) *Server {
	t.Helper()
	s := New(t, mode, user, pass)
	s.Start()
	return s
}

// Reject makes the server refuse the recipient addr for good (550).
func (s *Server) Reject(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects[addr] = true
}

// ReservePort picks a free port for a server that starts later, so that a
// client can be pointed at it while it is down.
func (s *Server) ReservePort() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.addr = l.Addr().String()
	s.mu.Unlock()
	l.Close()
}

// Start listens on the server's address: a free port the first time, the
// same port again after Stop.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var l net.Listener
	var err error
	for range 100 { // a port just released may take a moment to be free again
		if l, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("smtptest: listen on %s: %v", s.addr, err)
	}
	s.addr = l.Addr().String()
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	srv.ErrorLog = discardLogger{}
	switch s.mode {
	case StartTLS:
		srv.TLSConfig = s.serverTLS
	case Implicit:
		l = tls.NewListener(l, s.serverTLS)
	case None:
		srv.AllowInsecureAuth = true // for credentials to a relay on loopback
	}
	s.srv = srv
	go srv.Serve(l)
}

// Stop closes the server; Start starts it again on the same port.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// Addr returns the server's host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL returns an SMTP URL for the server, with its credentials, asking for
// the given TLS mode (which need not be the server's, to test refusals).
func (s *Server) URL(mode string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	creds := ""
	if s.user != "" {
		creds = s.user + ":" + s.pass + "@"
	}
	if mode == Implicit {
		return "smtps://" + creds + s.addr
	}
	return "smtp://" + creds + s.addr + "?tls=" + mode
}

// Messages returns the messages received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitFor waits until the server holds at least n messages, or within has
// passed, and returns what it holds.
func (s *Server) WaitFor(n int, within time.Duration) []Message {
	deadline := time.Now().Add(within)
	for {
		msgs := s.Messages()
		if len(msgs) >= n || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// To returns the messages received for addr.
func (s *Server) To(addr string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// Parsed is a received message taken apart.
type Parsed struct {
	Header  netmail.Header
	Subject string
	Text    string // the text/plain part, decoded
	HTML    string // the text/html part, decoded; "" without one
}

// Parse decodes the message: its headers, and its plain-text and HTML parts
// (quoted-printable and base64 undone).
func (m Message) Parse() (*Parsed, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return nil, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return nil, err
	}
	p := &Parsed{Header: msg.Header, Subject: subject}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		body, err := io.ReadAll(msg.Body)
		if err != nil {
			return nil, err
		}
		p.Text = string(body)
		return p, nil
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // undoes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(part)
		if err != nil {
			return nil, err
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			p.Text = string(body)
		case "text/html":
			p.HTML = string(body)
		}
	}
	return p, nil
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// Links returns the http(s) links in the plain-text part.
func (p *Parsed) Links() []string { return linkPattern.FindAllString(p.Text, -1) }

// Link returns the first link in the plain-text part that contains
// substring, or "".
func (p *Parsed) Link(substring string) string {
	for _, l := range p.Links() {
		if strings.Contains(l, substring) {
			return l
		}
	}
	return ""
}

// MustParse is Parse that fails the test on error.
func (m Message) MustParse(t testing.TB) *Parsed {
	t.Helper()
	p, err := m.Parse()
	if err != nil {
		t.Fatalf("smtptest: received message does not parse: %v\n%s", err, m.Data)
	}
	return p
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c}, nil
}

type session struct {
	s      *Server
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.user || password != ss.s.pass {
			return errors.New("invalid username or password")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	rejected := ss.s.rejects[to]
	ss.s.mu.Unlock()
	if rejected {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, Message{From: ss.from, To: ss.to, Data: b, Authed: ss.authed, TLS: isTLS})
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// certificates makes a self-signed certificate for 127.0.0.1 and localhost,
// and a client configuration that trusts it.
func certificates(t testing.TB) (server, client *tls.Config) {
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

// String describes the server, for test logs.
func (s *Server) String() string { return fmt.Sprintf("smtptest server %s (%s)", s.Addr(), s.mode) }
