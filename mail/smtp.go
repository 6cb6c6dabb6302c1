package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLSMode says how the connection to the mail server is protected.
type TLSMode string

// TLS modes, as the tls parameter of an SMTP URL names them.
const (
	// TLSStartTLS upgrades a plain connection with STARTTLS (RFC 3207), and
	// refuses to send when the server does not offer it. The default of
	// smtp:// URLs.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (RFC 8314 §3.3), as on port
	// 465. The only mode of smtps:// URLs.
	TLSImplicit TLSMode = "implicit"
	// TLSNone sends in the clear: only for a relay on the same machine, or
	// one across a private link.
	TLSNone TLSMode = "none"
)

// SMTPServer is a parsed SMTP URL.
type SMTPServer struct {
	Host     string
	Port     int
	Username string // "" for no authentication
	Password string
	TLS      TLSMode
}

// ParseSMTPURL parses smtp://user:pass@host:port?tls=starttls|implicit|none
// or smtps://user:pass@host:port. User and password are percent-encoded, as
// in any URL.
//
// The default TLS mode of smtp:// is starttls, and it is mandatory: when the
// server offers no STARTTLS, sending fails rather than falling back to plain
// text. A fallback would let anyone on the path strip the server's STARTTLS
// offer and read every mail, with its reset links (RFC 3207 §6). For a relay
// without TLS, say so with tls=none.
//
// The default port is 587 for starttls, 465 for implicit TLS and 25 for none.
//
// Credentials are never sent in the clear: with tls=none, a URL that holds
// them is refused unless the host is a loopback address or "localhost".
// Errors never repeat the password.
func ParseSMTPURL(raw string) (*SMTPServer, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, password included: do not wrap it.
		return nil, errors.New("mail: the SMTP URL does not parse as a URL")
	}
	shown := u.Redacted()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("mail: SMTP URL %q: %s", shown, fmt.Sprintf(format, args...))
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return nil, bad("must start with smtp:// or smtps://")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, bad("names no host")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, bad("must have no path")
	}
	if u.Fragment != "" {
		return nil, bad("must have no fragment")
	}
	s := &SMTPServer{Host: u.Hostname(), TLS: TLSStartTLS}
	if u.Scheme == "smtps" {
		s.TLS = TLSImplicit
	}
	q := u.Query()
	for name := range q {
		if name != "tls" {
			return nil, bad("unknown parameter %q (only tls is known)", name)
		}
	}
	if q.Has("tls") {
		switch mode := TLSMode(q.Get("tls")); mode {
		case TLSStartTLS, TLSImplicit, TLSNone:
			if u.Scheme == "smtps" && mode != TLSImplicit {
				return nil, bad("smtps:// always uses implicit TLS; use smtp:// with tls=%s", mode)
			}
			s.TLS = mode
		default:
			return nil, bad("tls must be one of starttls, implicit, none")
		}
	}
	switch s.TLS {
	case TLSStartTLS:
		s.Port = 587
	case TLSImplicit:
		s.Port = 465
	case TLSNone:
		s.Port = 25
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, bad("port must be a number from 1 to 65535")
		}
		s.Port = n
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		if s.Username == "" || s.Password == "" {
			return nil, bad("give both a user and a password, or neither")
		}
		if s.TLS == TLSNone && !isLoopback(s.Host) {
			return nil, bad("tls=none would send the password in the clear; use starttls or implicit, or a relay on localhost")
		}
	}
	return s, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String returns the server as a URL, with the password hidden, so that
// printing or logging an SMTPServer never shows the password.
func (s SMTPServer) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port))}
	if s.TLS == TLSImplicit {
		u.Scheme = "smtps"
	} else {
		u.RawQuery = "tls=" + string(s.TLS)
	}
	if s.Username != "" {
		u.User = url.UserPassword(s.Username, "xxxxx")
	}
	return u.String()
}

// SMTPConfig configures an SMTPSender.
type SMTPConfig struct {
	// URL names the mail server; see ParseSMTPURL. Required.
	URL string
	// From is the sender of every mail, as net/mail parses it. Default
	// "Gatehouse <no-reply@localhost>".
	From string
	// Timeout bounds one delivery: connecting, and each exchange with the
	// server after that. Default 30 seconds.
	Timeout time.Duration
	// TLSConfig is used for STARTTLS and implicit TLS. Default: the system's
	// roots, verifying the host of URL, TLS 1.2 or newer. When given
	// without a ServerName, the host of URL is filled in.
	TLSConfig *tls.Config
	// HELO is the name Gatehouse gives itself in EHLO. Default: the host name
	// of the machine.
	HELO string
}

// SMTPSender delivers mails to an SMTP server, one connection per mail. It
// is safe for concurrent use.
type SMTPSender struct {
	server  *SMTPServer
	from    *mail.Address
	timeout time.Duration
	opts    []gomail.Option
}

// NewSMTPSender checks cfg and returns a sender. It does not connect.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if cfg.URL == "" {
		return nil, errors.New("mail: no SMTP URL")
	}
	server, err := ParseSMTPURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.From == "" {
		cfg.From = "Gatehouse <no-reply@localhost>"
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: sender address %q: %w", cfg.From, err)
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("mail: negative SMTP timeout")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = server.Host
	}
	opts := []gomail.Option{
		gomail.WithPort(server.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tlsConfig),
	}
	if cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(cfg.HELO))
	}
	switch server.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if server.Username != "" {
		opts = append(opts, gomail.WithUsername(server.Username), gomail.WithPassword(server.Password))
		if server.TLS == TLSNone {
			// Only a loopback relay gets here (ParseSMTPURL sees to it), where
			// plain-text mechanisms are as safe as the machine.
			opts = append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256,
				gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc))
		} else {
			// The strongest mechanism the server offers, over TLS.
			opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover))
		}
	}
	return &SMTPSender{server: server, from: from, timeout: cfg.Timeout, opts: opts}, nil
}

// Server returns the server the sender delivers to.
func (s *SMTPSender) Server() SMTPServer { return *s.server }

// Send implements Sender.
func (s *SMTPSender) Send(ctx context.Context, to, subject, text, html string) error {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.To(to); err != nil {
		return fmt.Errorf("%w: %v", ErrRejected, err)
	}
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(messageID(s.from.Address))
	// RFC 3834 §5: an automatic mail, which auto-responders must not answer.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, text)
	if html != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, html)
	}
	client, err := gomail.NewClient(s.server.Host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() {
			return fmt.Errorf("%w: %v", ErrRejected, err)
		}
		return fmt.Errorf("smtp %s:%d: %w", s.server.Host, s.server.Port, err)
	}
	return nil
}

// messageID makes a Message-ID (RFC 5322 §3.6.4) in the sender's domain,
// rather than one that names the machine Gatehouse runs on.
func messageID(from string) string {
	domain := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:]) + "@" + domain
}
