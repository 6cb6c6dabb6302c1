package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
)

// Kinds of mail, one template each.
const (
	KindVerifyEmail     = "verify_email"       // confirm an address: Link
	KindPasswordReset   = "password_reset"     // choose a new password: Link
	KindPasswordChanged = "password_changed"   // notice; Link (optional) to reset the password
	KindEmailLogin      = "email_login"        // passwordless sign-in: Link and Code
	KindEmailChanged    = "email_changed"      // notice to the old address; NewEmail, optional Link
	KindNewSignInMethod = "new_sign_in_method" // notice: Method, optional Link to review
	KindAccountExists   = "account_exists"     // a sign-up with a taken address: Link to sign in
	// Notices of changes to two-step verification, each with an optional
	// Link to review it. KindMFADisabled says who turned it off: ByAdmin.
	KindMFAEnabled           = "mfa_enabled"
	KindMFADisabled          = "mfa_disabled"
	KindRecoveryCodesRenewed = "recovery_codes_renewed"
)

// Kinds lists every kind of mail Render knows.
func Kinds() []string {
	return []string{KindVerifyEmail, KindPasswordReset, KindPasswordChanged, KindEmailLogin,
		KindEmailChanged, KindNewSignInMethod, KindAccountExists,
		KindMFAEnabled, KindMFADisabled, KindRecoveryCodesRenewed}
}

// What each kind cannot do without: a mail that asks the user to act is
// refused without its link, rather than queued broken.
var required = map[string]struct{ link, code bool }{
	KindVerifyEmail:     {link: true},
	KindPasswordReset:   {link: true},
	KindPasswordChanged: {},
	KindEmailLogin:      {link: true, code: true},
	KindEmailChanged:    {},
	KindNewSignInMethod: {},
	KindAccountExists:   {link: true},

	KindMFAEnabled:           {},
	KindMFADisabled:          {},
	KindRecoveryCodesRenewed: {},
}

// Data is what the templates show. Only Product and PublicURL come from
// configuration; the rest is per mail.
type Data struct {
	// Product names the service in subjects and text. Default "Gatehouse".
	Product string
	// PublicURL is the address users reach Gatehouse at, such as
	// https://auth.example.com. Every link must lie under it. Default ""
	// (then Link must be absolute, and nothing checks where it points).
	PublicURL string
	// UserName greets the user; "" greets nobody by name.
	UserName string
	// Link is what the mail asks the user to open. A path ("/reset-password…")
	// is joined to PublicURL; an absolute URL must start with PublicURL.
	Link string
	// Code is the one-time code of an email_login mail.
	Code string
	// ExpiresIn is how long Link and Code stay good; 0 says nothing about it.
	ExpiresIn time.Duration
	// Method describes what new_sign_in_method reports, e.g. `a passkey named "Laptop"`.
	Method string
	// NewEmail is the address an email_changed notice reports.
	NewEmail string
	// ByAdmin says an administrator made the change a notice reports (an
	// mfa_disabled notice), rather than the user.
	ByAdmin bool
}

// Errors from Render.
var (
	// ErrUnknownKind reports a kind that is not one of Kinds().
	ErrUnknownKind = errors.New("mail: unknown kind of mail")
	// ErrForeignLink reports a link that does not start with PublicURL: the
	// defence against reset-link poisoning, where a forged Host header would
	// otherwise choose the origin of the link in the mail.
	ErrForeignLink = errors.New("mail: link outside the public URL")
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

type kindTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

var funcs = map[string]any{"duration": formatDuration}

// parsed holds each kind's templates, parsed once. Each kind gets its own set
// (the layout plus its file), since every kind defines the same names.
var parsed = sync.OnceValues(func() (map[string]kindTemplates, error) {
	out := map[string]kindTemplates{}
	for _, kind := range Kinds() {
		files := []string{"templates/layout.tmpl", "templates/" + kind + ".tmpl"}
		t, err := texttemplate.New(kind).Funcs(funcs).ParseFS(templateFiles, files...)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", kind, err)
		}
		h, err := htmltemplate.New(kind).Funcs(funcs).ParseFS(templateFiles, files...)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", kind, err)
		}
		out[kind] = kindTemplates{text: t, html: h}
	}
	return out, nil
})

// Render makes the subject, the plain-text body and the HTML body of a mail
// of the given kind. The HTML body escapes everything in d; the plain-text
// body shows it as it is, which is safe in text/plain.
func Render(kind string, d Data) (subject, text, html string, err error) {
	sets, err := parsed()
	if err != nil {
		return "", "", "", err
	}
	set, ok := sets[kind]
	if !ok {
		return "", "", "", fmt.Errorf("%w %q", ErrUnknownKind, kind)
	}
	if d.Product == "" {
		d.Product = "Gatehouse"
	}
	if d.Link, err = resolveLink(d.PublicURL, d.Link); err != nil {
		return "", "", "", err
	}
	if need := required[kind]; need.link && d.Link == "" {
		return "", "", "", fmt.Errorf("mail: a %s mail needs a link", kind)
	} else if need.code && d.Code == "" {
		return "", "", "", fmt.Errorf("mail: a %s mail needs a code", kind)
	}
	var b bytes.Buffer
	if err := set.text.ExecuteTemplate(&b, "subject", d); err != nil {
		return "", "", "", fmt.Errorf("render %s subject: %w", kind, err)
	}
	// A subject is one header line; a line break in it would start new headers.
	subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := set.text.ExecuteTemplate(&b, "text", d); err != nil {
		return "", "", "", fmt.Errorf("render %s text: %w", kind, err)
	}
	text = b.String()
	b.Reset()
	if err := set.html.ExecuteTemplate(&b, "html", d); err != nil {
		return "", "", "", fmt.Errorf("render %s html: %w", kind, err)
	}
	return subject, text, b.String(), nil
}

// resolveLink joins a path to the public URL, and checks that an absolute
// link starts with it. It fails closed: a link it cannot vouch for is an error.
func resolveLink(public, link string) (string, error) {
	if link == "" {
		return "", nil
	}
	base := strings.TrimSuffix(public, "/")
	if strings.HasPrefix(link, "/") && !strings.HasPrefix(link, "//") {
		if base == "" {
			return "", fmt.Errorf("%w: a path needs a public URL to join", ErrForeignLink)
		}
		return base + link, nil
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%w: not an http(s) URL", ErrForeignLink)
	}
	// Compare as strings, with the separator, so that
	// https://auth.example.com.evil.test never passes for https://auth.example.com.
	if base != "" && link != base && !strings.HasPrefix(link, base+"/") &&
		!strings.HasPrefix(link, base+"?") && !strings.HasPrefix(link, base+"#") {
		return "", ErrForeignLink
	}
	return link, nil
}

// formatDuration writes a lifetime the way a person would: "1 hour",
// "10 minutes", "2 days".
func formatDuration(d time.Duration) string {
	unit := func(n int64, what string) string {
		if n == 1 {
			return "1 " + what
		}
		return fmt.Sprintf("%d %ss", n, what)
	}
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	default:
		return unit(int64((d+time.Second-1)/time.Second), "second")
	}
}
