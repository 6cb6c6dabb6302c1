package mail

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		raw     string
		want    *SMTPServer
		wantErr string // part of the error; "" for success
	}{
		{"smtp://mail.example.com", &SMTPServer{Host: "mail.example.com", Port: 587, TLS: TLSStartTLS}, ""},
		{"smtp://u:p@mail.example.com:2525", &SMTPServer{Host: "mail.example.com", Port: 2525, Username: "u", Password: "p", TLS: TLSStartTLS}, ""},
		{"smtp://mail.example.com?tls=starttls", &SMTPServer{Host: "mail.example.com", Port: 587, TLS: TLSStartTLS}, ""},
		{"smtp://mail.example.com?tls=implicit", &SMTPServer{Host: "mail.example.com", Port: 465, TLS: TLSImplicit}, ""},
		{"smtp://mail.example.com?tls=none", &SMTPServer{Host: "mail.example.com", Port: 25, TLS: TLSNone}, ""},
		{"smtps://u:p@mail.example.com", &SMTPServer{Host: "mail.example.com", Port: 465, Username: "u", Password: "p", TLS: TLSImplicit}, ""},
		{"smtps://mail.example.com:10465?tls=implicit", &SMTPServer{Host: "mail.example.com", Port: 10465, TLS: TLSImplicit}, ""},
		{"smtp://mail.example.com/", &SMTPServer{Host: "mail.example.com", Port: 587, TLS: TLSStartTLS}, ""},
		// Percent-encoded credentials, as a password with @ or : needs.
		{"smtp://apikey:p%40ss%3Aw0rd@smtp.example.com:587", &SMTPServer{Host: "smtp.example.com", Port: 587, Username: "apikey", Password: "p@ss:w0rd", TLS: TLSStartTLS}, ""},
		{"smtp://[::1]:25?tls=none", &SMTPServer{Host: "::1", Port: 25, TLS: TLSNone}, ""},
		// Credentials in the clear only to a relay on this machine.
		{"smtp://u:p@localhost:25?tls=none", &SMTPServer{Host: "localhost", Port: 25, Username: "u", Password: "p", TLS: TLSNone}, ""},
		{"smtp://u:p@127.0.0.1:1025?tls=none", &SMTPServer{Host: "127.0.0.1", Port: 1025, Username: "u", Password: "p", TLS: TLSNone}, ""},
		{"smtp://u:secret@mail.example.com:25?tls=none", nil, "password in the clear"},

		{"", nil, "must start with smtp://"},
		{"mail.example.com:587", nil, "must start with smtp://"},
		{"http://mail.example.com", nil, "must start with smtp://"},
		{"smtp://", nil, "names no host"},
		{"smtp:mail.example.com", nil, "names no host"},
		{"smtp://mail.example.com/path", nil, "no path"},
		{"smtp://mail.example.com#x", nil, "no fragment"},
		{"smtp://mail.example.com?tls=always", nil, "tls must be one of starttls, implicit, none"},
		{"smtp://mail.example.com?tls=", nil, "tls must be one of"},
		{"smtp://mail.example.com?tsl=none", nil, `unknown parameter "tsl"`},
		{"smtps://mail.example.com?tls=starttls", nil, "smtps:// always uses implicit TLS"},
		{"smtps://mail.example.com?tls=none", nil, "smtps:// always uses implicit TLS"},
		{"smtp://mail.example.com:0", nil, "port must be"},
		{"smtp://mail.example.com:70000", nil, "port must be"},
		{"smtp://u@mail.example.com", nil, "both a user and a password"},
		{"smtp://:secret@mail.example.com", nil, "both a user and a password"},
		{"smtp://u:secret@mail.example.com:x", nil, "does not parse"},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := ParseSMTPURL(tc.raw)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSMTPURL(%q) = %v, %v; want an error saying %q", tc.raw, got, err, tc.wantErr)
				}
				// The password must never reach an error (and so a log).
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("ParseSMTPURL(%q) error %q repeats the password", tc.raw, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSMTPURL(%q) = %v", tc.raw, err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ParseSMTPURL(%q) mismatch (-want +got):\n%s", tc.raw, d)
			}
		})
	}
}

func TestSMTPServerString(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"smtp://u:secret@mail.example.com", "smtp://u:xxxxx@mail.example.com:587?tls=starttls"},
		{"smtps://mail.example.com", "smtps://mail.example.com:465"},
		{"smtp://[::1]?tls=none", "smtp://[::1]:25?tls=none"},
	}
	for _, tc := range tests {
		s, err := ParseSMTPURL(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.String(); got != tc.want {
			t.Errorf("ParseSMTPURL(%q).String() = %q, want %q", tc.raw, got, tc.want)
		}
		for _, format := range []string{"%v", "%+v", "%s"} {
			if got := fmt.Sprintf(format, *s) + fmt.Sprintf(format, s); strings.Contains(got, "secret") {
				t.Errorf("Sprintf(%q) of the server = %q; it shows the password", format, got)
			}
		}
		if again, err := ParseSMTPURL(strings.Replace(s.String(), "xxxxx", "secret", 1)); err != nil || *again != *s {
			t.Errorf("String() of %q does not parse back: %v, %v", tc.raw, again, err)
		}
	}
}

func TestNewSMTPSender(t *testing.T) {
	tests := []struct {
		name    string
		cfg     SMTPConfig
		wantErr string
	}{
		{"defaults", SMTPConfig{URL: "smtp://mail.example.com"}, ""},
		{"full", SMTPConfig{URL: "smtps://u:p@mail.example.com", From: "Example <no-reply@example.com>", Timeout: 5 * time.Second, HELO: "gatehouse.example.com"}, ""},
		{"no URL", SMTPConfig{}, "no SMTP URL"},
		{"bad URL", SMTPConfig{URL: "smtp://mail.example.com?tls=maybe"}, "tls must be"},
		{"bad From", SMTPConfig{URL: "smtp://mail.example.com", From: "not an address"}, "sender address"},
		{"negative timeout", SMTPConfig{URL: "smtp://mail.example.com", Timeout: -1}, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSMTPSender(tc.cfg)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("NewSMTPSender(%+v) = %v, want error %q", tc.cfg, err, tc.wantErr)
			}
		})
	}
}

func TestMessageID(t *testing.T) {
	a, b := messageID("no-reply@example.com"), messageID("no-reply@example.com")
	if a == b || !strings.HasSuffix(a, "@example.com") || len(a) < 32 {
		t.Errorf("messageID() = %q, %q; want two different IDs @example.com", a, b)
	}
}
