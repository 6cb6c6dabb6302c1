package mail

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"
)

func TestRenderEveryKind(t *testing.T) {
	d := Data{
		Product:   "Example",
		PublicURL: "https://auth.example.com",
		UserName:  "alice",
		Link:      "/action#token=abc123",
		Code:      "123456",
		ExpiresIn: time.Hour,
		Method:    "a passkey",
		NewEmail:  "new@example.com",
	}
	tests := []struct {
		kind     string
		subject  string
		mentions []string // in both the text and the HTML
	}{
		{KindVerifyEmail, "Confirm your email address for Example", []string{"expires in 1 hour"}},
		{KindPasswordReset, "Reset your Example password", []string{"expires in 1 hour", "reset the password"}},
		{KindPasswordChanged, "Your Example password was changed", []string{"password of your Example account was just changed"}},
		{KindEmailLogin, "Sign in to Example", []string{"123456", "expire in 1 hour"}},
		{KindEmailChanged, "The email address of your Example account was changed", []string{"new@example.com"}},
		{KindNewSignInMethod, "A new way to sign in was added to your Example account", []string{"a passkey"}},
		{KindAccountExists, "You already have an account with Example", []string{"no new account was made"}},
		{KindMFAEnabled, "Two-step verification was turned on for your Example account", []string{"needs a code from your authenticator app"}},
		{KindMFADisabled, "Two-step verification was turned off for your Example account", []string{"no longer needs a code"}},
		{KindRecoveryCodesRenewed, "New recovery codes were made for your Example account", []string{"old recovery codes no longer work"}},
	}
	if len(tests) != len(Kinds()) {
		t.Fatalf("the test covers %d kinds, Kinds() has %d", len(tests), len(Kinds()))
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			subject, text, html, err := Render(tc.kind, d)
			if err != nil {
				t.Fatalf("Render(%q) = %v", tc.kind, err)
			}
			if subject != tc.subject {
				t.Errorf("Render(%q) subject = %q, want %q", tc.kind, subject, tc.subject)
			}
			for _, want := range append(tc.mentions, "https://auth.example.com/action#token=abc123", "Hi alice,") {
				if !strings.Contains(text, want) {
					t.Errorf("Render(%q) text lacks %q:\n%s", tc.kind, want, text)
				}
				if !strings.Contains(html, want) {
					t.Errorf("Render(%q) HTML lacks %q:\n%s", tc.kind, want, html)
				}
			}
			if !strings.HasPrefix(html, "<!DOCTYPE html>") || !strings.Contains(html, "<title>"+tc.subject+"</title>") {
				t.Errorf("Render(%q) HTML does not start with the layout:\n%.300s", tc.kind, html)
			}
			// Email clients drop <style> and <link>: everything must be inline.
			for _, banned := range []string{"<style", "<link", "<script", "class="} {
				if strings.Contains(html, banned) {
					t.Errorf("Render(%q) HTML has %q; only inline styles work in mail", tc.kind, banned)
				}
			}
			if strings.Contains(text, "<p") || strings.Contains(text, "{{") || strings.Contains(html, "{{") {
				t.Errorf("Render(%q) left markup or template text behind:\n%s", tc.kind, text)
			}
		})
	}
}

func TestRenderEscapesUserData(t *testing.T) {
	evil := `<script>alert("x")</script>&`
	for _, kind := range Kinds() {
		d := Data{PublicURL: "https://auth.example.com", UserName: evil, Link: "/x", Code: "123456",
			Method: evil, NewEmail: evil}
		_, text, html, err := Render(kind, d)
		if err != nil {
			t.Fatalf("Render(%q) = %v", kind, err)
		}
		if strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;") {
			t.Errorf("Render(%q) HTML does not escape the user name:\n%s", kind, html)
		}
		// text/plain is not interpreted, so it shows the name as typed.
		if !strings.Contains(text, "Hi "+evil+",") {
			t.Errorf("Render(%q) text = %q, want the name as typed", kind, text)
		}
	}
}

func TestRenderLinks(t *testing.T) {
	tests := []struct {
		name, public, link string
		want               string // the link in the text; "" when an error is expected
		err                error
	}{
		{"path joined", "https://auth.example.com", "/reset#t=1", "https://auth.example.com/reset#t=1", nil},
		{"path joined, slash", "https://auth.example.com/", "/reset", "https://auth.example.com/reset", nil},
		{"path under a prefix", "https://example.com/auth", "/reset", "https://example.com/auth/reset", nil},
		{"absolute under public", "https://auth.example.com", "https://auth.example.com/reset?t=1", "https://auth.example.com/reset?t=1", nil},
		{"absolute, no public URL", "", "https://auth.example.com/reset", "https://auth.example.com/reset", nil},
		{"other host", "https://auth.example.com", "https://evil.test/reset", "", ErrForeignLink},
		{"look-alike host", "https://auth.example.com", "https://auth.example.com.evil.test/reset", "", ErrForeignLink},
		{"user info trick", "https://auth.example.com", "https://auth.example.com@evil.test/reset", "", ErrForeignLink},
		{"other scheme", "https://auth.example.com", "http://auth.example.com/reset", "", ErrForeignLink},
		{"outside the prefix", "https://example.com/auth", "https://example.com/authz/reset", "", ErrForeignLink},
		{"scheme-relative", "https://auth.example.com", "//evil.test/reset", "", ErrForeignLink},
		{"javascript", "", "javascript:alert(1)", "", ErrForeignLink},
		{"path without public URL", "", "/reset", "", ErrForeignLink},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, text, _, err := Render(KindPasswordReset, Data{PublicURL: tc.public, Link: tc.link})
			if !errors.Is(err, tc.err) {
				t.Fatalf("Render(public %q, link %q) error = %v, want %v", tc.public, tc.link, err, tc.err)
			}
			if tc.err == nil && FirstLink(text) != tc.want {
				t.Errorf("Render(public %q, link %q) link = %q, want %q", tc.public, tc.link, FirstLink(text), tc.want)
			}
		})
	}
}

func TestRenderRefuses(t *testing.T) {
	tests := []struct {
		name string
		kind string
		d    Data
		want string
	}{
		{"unknown kind", "welcome", Data{}, "unknown kind"},
		{"reset without link", KindPasswordReset, Data{PublicURL: "https://a.example"}, "needs a link"},
		{"verify without link", KindVerifyEmail, Data{}, "needs a link"},
		{"sign-in without code", KindEmailLogin, Data{PublicURL: "https://a.example", Link: "/l"}, "needs a code"},
		{"account exists without link", KindAccountExists, Data{}, "needs a link"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := Render(tc.kind, tc.d)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Render(%q) = %v, want an error saying %q", tc.kind, err, tc.want)
			}
		})
	}
	// Notices need no link.
	for _, kind := range []string{KindPasswordChanged, KindEmailChanged, KindNewSignInMethod,
		KindMFAEnabled, KindMFADisabled, KindRecoveryCodesRenewed} {
		if _, text, _, err := Render(kind, Data{}); err != nil || strings.Contains(text, "http") {
			t.Errorf("Render(%q, no link) = %v, text %q; want a notice without links", kind, err, text)
		}
	}
}

// An mfa_disabled notice says who turned two-step verification off: the
// user, or an administrator (who also ended every session).
func TestRenderMFADisabledByAdmin(t *testing.T) {
	for _, tc := range []struct {
		byAdmin   bool
		want, not string
	}{
		{false, "was just turned off", "An administrator"},
		{true, "An administrator turned off two-step verification", "was just turned off"},
	} {
		_, text, html, err := Render(KindMFADisabled, Data{ByAdmin: tc.byAdmin, PublicURL: "https://a.example", Link: "/account/mfa"})
		if err != nil {
			t.Fatalf("Render(%q, ByAdmin %v) = %v", KindMFADisabled, tc.byAdmin, err)
		}
		for name, body := range map[string]string{"text": text, "HTML": html} {
			if !strings.Contains(body, tc.want) || strings.Contains(body, tc.not) {
				t.Errorf("Render(%q, ByAdmin %v) %s lacks %q or has %q:\n%s", KindMFADisabled, tc.byAdmin, name, tc.want, tc.not, body)
			}
		}
	}
}

func TestRenderSubjectIsOneLine(t *testing.T) {
	subject, _, _, err := Render(KindPasswordChanged, Data{Product: "Evil\r\nBcc: victim@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(subject, "\r\n") {
		t.Errorf("subject = %q, want one line", subject)
	}
}

func TestEveryTemplateFileIsAKind(t *testing.T) {
	files, err := fs.Glob(templateFiles, "templates/*.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"layout": true}
	for _, k := range Kinds() {
		known[k] = true
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".tmpl")
		if !known[name] {
			t.Errorf("template %s belongs to no kind in Kinds()", f)
		}
	}
	if len(files) != len(Kinds())+1 {
		t.Errorf("%d template files, want one per kind plus the layout (%d)", len(files), len(Kinds())+1)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{time.Hour, "1 hour"},
		{24 * time.Hour, "24 hours"},
		{48 * time.Hour, "2 days"},
		{10 * time.Minute, "10 minutes"},
		{time.Minute, "1 minute"},
		{90 * time.Minute, "90 minutes"},
		{45 * time.Second, "45 seconds"},
		{1500 * time.Millisecond, "2 seconds"},
	}
	for _, tc := range tests {
		if got := formatDuration(tc.d); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestFirstLink(t *testing.T) {
	tests := []struct{ text, want string }{
		{"Open this link:\n\nhttps://a.example/reset#t=1\n\nthanks", "https://a.example/reset#t=1"},
		{"none here", ""},
		{"<a href=\"http://x.example/p\">", "http://x.example/p"},
	}
	for _, tc := range tests {
		if got := FirstLink(tc.text); got != tc.want {
			t.Errorf("FirstLink(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
