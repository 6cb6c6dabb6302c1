//go:build e2e

package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/e2e"
	"github.com/gatehouse-dev/gatehouse/internal/oidctest"
)

// templatesDir holds the page templates, relative to this package.
const templatesDir = "../web/ui/templates"

// notPages are the templates that are never a page of their own.
var notPages = []string{
	"layout.html", // the frame every page renders in
}

// TestEveryPageScreenshot visits every hosted page and every admin page of
// Gatehouse, in each state a user meets it in (empty lists, forms refused
// with the reasons, spent links), and saves screenshots of each in the light
// and the dark colour scheme at the laptop and the phone width. Each page
// must fit the phone's width without scrolling sideways, have one h1 and a
// skip link, and show no page error. Finally every template in
// web/ui/templates must have been seen as a page, so that a new page cannot
// go without screenshots.
func TestEveryPageScreenshot(t *testing.T) {
	idp, providers := corpProvider(t)
	h := e2e.Start(t, e2e.WithConfig(func(c *gatehouse.Config) {
		c.OAuth.ProvidersFile = providers
		c.Email.Login = true
	}))
	tour := &pageTour{h: h, seen: map[string][]string{}}

	t.Run("public", func(t *testing.T) {
		b := h.Browser(t)
		link := h.SetupLink(t)

		// The outbox before any mail.
		tour.open(t, b, "/dev/mail", http.StatusOK)
		tour.shoot(t, b, "dev-mail-empty")

		// First start: the setup form, refused, then done, then spent.
		tour.open(t, b, link, http.StatusOK)
		tour.shoot(t, b, "setup")
		fillSetup(b, "root", "root@example.com", adminPassword, "another password")
		tour.expect(t, b, b.Submit(submitForm), http.StatusUnprocessableEntity, link)
		tour.shoot(t, b, "setup-errors")
		fillSetup(b, "root", "root@example.com", adminPassword, adminPassword)
		tour.expect(t, b, b.Submit(submitForm), http.StatusCreated, link)
		tour.shoot(t, b, "setup-done")
		tour.open(t, b, link, http.StatusUnauthorized)
		tour.shoot(t, b, "setup-spent")
		signOut(t, b) // the setup signed the new admin in; the tour goes on signed out

		// Keyboard: the first Tab reaches the skip link, which shows
		// itself and leads past the header to the page's own content.
		b.Navigate("/register")
		b.Keys("\t")
		var skip struct {
			Skip    bool
			Visible bool
		}
		b.Eval(`({Skip: document.activeElement.matches("a.skip"),
			Visible: document.activeElement.getBoundingClientRect().left >= 0})`, &skip)
		if !skip.Skip || !skip.Visible {
			t.Errorf("first Tab on /register: focus on the skip link = %v, shown = %v; want both", skip.Skip, skip.Visible)
		}
		b.Keys("\r")
		b.Keys("\t")
		var inMain bool
		b.Eval(`document.getElementById("main").contains(document.activeElement)`, &inMain)
		if !inMain {
			t.Error("Tab after following the skip link does not move into the page's content")
		}

		// Sign-in, refused.
		tour.open(t, b, "/login", http.StatusOK)
		tour.shoot(t, b, "login")
		b.Fill("#login", "nobody")
		b.Fill("#password", "not the password")
		tour.expect(t, b, b.Submit(submitForm), http.StatusUnauthorized, "/login")
		tour.shoot(t, b, "login-refused")

		// Registration, refused, then done: the mail to confirm.
		tour.open(t, b, "/register", http.StatusOK)
		tour.shoot(t, b, "register")
		fillRegister(b, "x", "not an address", "short", "shorter")
		tour.expect(t, b, b.Submit(submitForm), http.StatusUnprocessableEntity, "/register")
		tour.shoot(t, b, "register-errors")
		fillRegister(b, "grace", "grace@example.com", userPassword, userPassword)
		tour.expect(t, b, b.Submit(submitForm), http.StatusOK, "/register")
		tour.shoot(t, b, "register-done") // the new account's page
		tour.open(t, b, "/logout", http.StatusOK)
		tour.shoot(t, b, "logout")
		tour.expect(t, b, b.Submit("#confirm-logout"), http.StatusOK, "/logout")

		// The link to confirm the address, opened signed out.
		b.Navigate("/dev/mail")
		tour.shoot(t, b, "dev-mail")
		verify := mailLink(t, b, "/verify-email/")
		tour.open(t, b, verify, http.StatusOK)
		tour.shoot(t, b, "email-confirmed")
		tour.open(t, b, verify, http.StatusUnauthorized)
		tour.shoot(t, b, "email-link-spent")

		// Asking for a new confirmation link, and for a reset link.
		tour.open(t, b, "/verify-email", http.StatusOK)
		tour.shoot(t, b, "verify-request")
		tour.open(t, b, "/reset-password", http.StatusOK)
		tour.shoot(t, b, "reset-request")
		b.Fill("#email", "not an address")
		tour.expect(t, b, b.Submit(submitForm), http.StatusUnprocessableEntity, "/reset-password")
		tour.shoot(t, b, "reset-request-errors")
		b.Fill("#email", "grace@example.com")
		tour.expect(t, b, b.Submit(submitForm), http.StatusOK, "/reset-password")
		tour.shoot(t, b, "reset-sent")

		// The reset link: the form, refused, and a link that is no link.
		b.Navigate("/dev/mail")
		reset := mailLink(t, b, "/reset-password/")
		tour.open(t, b, reset, http.StatusOK)
		tour.shoot(t, b, "reset-password")
		b.Fill("#password", userPassword)
		b.Fill("#confirm_password", "a different password")
		tour.expect(t, b, b.Submit(submitForm), http.StatusUnprocessableEntity, reset)
		tour.shoot(t, b, "reset-password-errors")
		tour.open(t, b, "/reset-password/not-a-token", http.StatusUnauthorized)
		tour.shoot(t, b, "reset-bad-token")

		// Sign-in by email: the form, the code, a wrong code, the link.
		tour.open(t, b, "/login/email", http.StatusOK)
		tour.shoot(t, b, "login-email")
		b.Fill("#email", "grace@example.com")
		tour.expect(t, b, b.Submit(submitForm), http.StatusOK, "/login/email")
		tour.shoot(t, b, "login-email-code")
		b.Fill("#code", "000000")
		tour.expect(t, b, b.Submit(submitForm), http.StatusUnauthorized, "/login/email")
		tour.shoot(t, b, "login-email-code-refused")
		b.Navigate("/dev/mail")
		signInLink := mailLink(t, b, "/login/email/")
		tour.open(t, b, signInLink, http.StatusOK)
		tour.shoot(t, b, "login-email-link")

		// Signed out already, and pages that are not there.
		tour.open(t, b, "/logout", http.StatusOK)
		tour.shoot(t, b, "logout-signed-out")
		tour.open(t, b, "/no-such-page", http.StatusNotFound)
		tour.shoot(t, b, "not-found")
	})

	ada := h.CreateUser(t, accounts.Registration{Username: "ada", Email: "ada@example.com", Password: userPassword, EmailVerified: true})
	h.CreateUser(t, accounts.Registration{Username: "bob", Email: "bob@example.com", Password: userPassword})

	t.Run("provider", func(t *testing.T) {
		// A provider's account whose address an account here uses
		// already: Gatehouse asks to sign in and link it.
		idp.SetUser(oidctest.User{Subject: "e2e-ada", Email: "ada@example.com", EmailVerified: true, PreferredUsername: "ada"})
		b := h.Browser(t)
		b.Navigate("/login")
		tour.expect(t, b, b.Submit(`a[data-provider="corp"]`), http.StatusConflict, "/oauth/corp/callback")
		tour.shoot(t, b, "oauth-link")
	})

	t.Run("account", func(t *testing.T) {
		b := h.Browser(t)
		signInAs(t, b, "ada", userPassword)
		tour.shoot(t, b, "account")

		// A password change refused.
		b.Fill("#current_password", "not the password")
		b.Fill("#new_password", "short")
		b.Fill("#confirm_password", "shorter")
		tour.expect(t, b, b.Submit(`form[action$="/account/password"] button[type=submit]`), http.StatusUnprocessableEntity, "/account/password")
		tour.shoot(t, b, "account-password-errors")
		var focused string
		b.Eval(`document.activeElement.id`, &focused)
		if focused != "confirm_password" {
			t.Errorf("after a refused password change the focus is on %q, want the refused field confirm_password, so that the page opens at the reason", focused)
		}

		// Linking a provider: the page that sends the browser there,
		// stopped before its script moves on.
		b.Navigate("/account")
		b.Scripts(false)
		tour.expect(t, b, b.Submit(`button[data-link-provider="corp"]`), http.StatusOK, "/account/identities/corp/link")
		b.Scripts(true)
		tour.shoot(t, b, "oauth-continue")

		// Re-authentication, refused.
		tour.open(t, b, "/account/reauth", http.StatusOK)
		tour.shoot(t, b, "reauth")
		b.Fill("#password", "not the password")
		tour.expect(t, b, b.Submit(submitForm), http.StatusForbidden, "/account/reauth")
		tour.shoot(t, b, "reauth-refused")

		// Two-step verification: off, set-up, recovery codes, on.
		tour.open(t, b, "/account/mfa", http.StatusOK)
		tour.shoot(t, b, "mfa-off")
		tour.expect(t, b, b.Submit("#totp-setup"), http.StatusOK, "/account/mfa/totp/setup")
		tour.shoot(t, b, "mfa-setup")
		secret := strings.TrimSpace(b.Text("#totp-secret"))
		b.Fill("#totp-code", "000000")
		tour.expect(t, b, b.Submit("#totp-confirm"), http.StatusUnprocessableEntity, "/account/mfa/totp/confirm")
		tour.shoot(t, b, "mfa-setup-refused")
		b.Fill("#totp-code", totpCode(t, secret, time.Now()))
		tour.expect(t, b, b.Submit("#totp-confirm"), http.StatusOK, "/account/mfa/totp/confirm")
		tour.shoot(t, b, "mfa-recovery-codes")
		b.Navigate("/account/mfa")
		tour.shoot(t, b, "mfa-on")

		// Signing out, and in again with the second step.
		signOut(t, b)
		b.Navigate("/login")
		b.Fill("#login", "ada")
		b.Fill("#password", userPassword)
		tour.expect(t, b, b.Submit(submitForm), http.StatusOK, "/login")
		tour.shoot(t, b, "login-mfa")
		b.Fill("#code", "000000")
		tour.expect(t, b, b.Submit(submitForm), http.StatusUnauthorized, "/login/mfa")
		tour.shoot(t, b, "login-mfa-refused")
	})

	t.Run("admin", func(t *testing.T) {
		b := h.Browser(t)
		signInAs(t, b, "root", adminPassword)

		tour.open(t, b, "/admin", http.StatusOK)
		tour.shoot(t, b, "dashboard")
		b.Navigate("/admin/users")
		tour.shoot(t, b, "users")
		b.Navigate("/admin/users?q=nobody-by-that-name")
		tour.shoot(t, b, "users-no-match")
		if got, want := b.Text("#users-showing"), "No users match."; got != want {
			t.Errorf("users search without a match shows %q, want %q", got, want)
		}
		tour.open(t, b, "/admin/users/"+ada.ID, http.StatusOK)
		tour.shoot(t, b, "user")
		bob, err := h.Gatehouse.Store().FindUserByLogin(t.Context(), "bob")
		if err != nil {
			t.Fatalf("FindUserByLogin(bob): %v", err)
		}
		b.Navigate("/admin/users/" + bob.ID)
		tour.shoot(t, b, "user-never-signed-in")
		tour.open(t, b, "/admin/users/"+bob.ID+"/delete", http.StatusOK)
		tour.shoot(t, b, "user-delete")

		b.Navigate("/admin/audit")
		tour.shoot(t, b, "audit")
		b.Navigate("/admin/audit?type=no.such.event")
		tour.shoot(t, b, "audit-no-match")
		if got, want := b.Text("#audit-showing"), "No events match."; got != want {
			t.Errorf("audit filter without a match shows %q, want %q", got, want)
		}

		tour.open(t, b, "/admin/api-keys", http.StatusOK)
		tour.shoot(t, b, "api-keys-empty")
		tour.expect(t, b, b.Submit("#create-key"), http.StatusUnprocessableEntity, "/admin/api-keys")
		tour.shoot(t, b, "api-keys-errors")
		b.Fill("#key-name", "billing backend")
		b.Click("#scope-admin")
		tour.expect(t, b, b.Submit("#create-key"), http.StatusCreated, "/admin/api-keys")
		tour.shoot(t, b, "api-key-created")
		b.Navigate("/admin/api-keys")
		tour.shoot(t, b, "api-keys")

		tour.open(t, b, "/admin/sdk", http.StatusOK)
		tour.shoot(t, b, "sdk")
	})

	// Every template is a page the tour saw, or not a page at all.
	entries, err := os.ReadDir(templatesDir)
	if err != nil {
		t.Fatalf("list the templates: %v", err)
	}
	var missing []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".html") || slices.Contains(notPages, name) {
			continue
		}
		if len(tour.seen[strings.TrimSuffix(name, ".html")]) == 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("no screenshot of the page of %s: visit it in TestEveryPageScreenshot, or list it in notPages if it is not a page", strings.Join(missing, ", "))
	}
	n := 0
	for _, shots := range tour.seen {
		n += len(shots)
	}
	t.Logf("%d pages in %d states, %d screenshots", len(tour.seen), n, n*4)
}

// pageTour records which page templates TestEveryPageScreenshot has seen.
type pageTour struct {
	h    *e2e.Harness
	seen map[string][]string // template name without .html → screenshot names
}

// shoot saves screenshots of the page in the light and the dark scheme at
// both widths, checks what every page must have, and records the page's
// template, which the layout names in the body's data-page.
func (tr *pageTour) shoot(t *testing.T, b *e2e.Browser, name string) {
	t.Helper()
	page, _ := b.Attr("body", "data-page")
	if page == "" {
		t.Errorf("%s: the page at %s names no template in <body data-page>", name, b.Location())
	}
	tr.seen[page] = append(tr.seen[page], name)
	for _, scheme := range []string{"light", "dark"} {
		b.ColorScheme(scheme)
		b.Screenshot(name + "-" + scheme)
	}
	b.ColorScheme("")
	if over := b.PhoneOverflow(); over != "" {
		t.Errorf("%s (%s) scrolls sideways on a phone: %s", name, page, over)
	}
	var landmarks struct{ H1, Skip int }
	b.Eval(`({H1: document.querySelectorAll("h1").length,
		Skip: document.querySelectorAll('a.skip[href="#main"]').length + (document.getElementById("main") ? 0 : -1)})`, &landmarks)
	if landmarks.H1 != 1 {
		t.Errorf("%s (%s) has %d h1 headings, want 1", name, page, landmarks.H1)
	}
	if landmarks.Skip != 1 {
		t.Errorf("%s (%s) lacks the skip link to #main, or #main", name, page)
	}
}

// open navigates to a page and checks its HTTP status, as expect does.
func (tr *pageTour) open(t *testing.T, b *e2e.Browser, path string, want int) {
	t.Helper()
	b.Navigate(path)
	tr.expect(t, b, b.Status(), want, path)
}

// expect checks the HTTP status of the page the browser shows. A page that
// is an error on purpose makes the browser log a failed request, which is
// tolerated for exactly that status and URL.
func (tr *pageTour) expect(t *testing.T, b *e2e.Browser, got, want int, path string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got status %d, want %d", path, got, want)
	}
	if want >= 400 {
		b.AllowConsole(fmt.Sprintf("status of %d (%s) (%s", want, http.StatusText(want), b.URL(path)))
	}
}

// mailLink returns the newest link in the development mailbox, which the
// browser shows, whose path starts with prefix.
func mailLink(t *testing.T, b *e2e.Browser, prefix string) string {
	t.Helper()
	var href string
	b.Eval(fmt.Sprintf(`[...document.querySelectorAll(".dev-mail-text a")].map(a => a.href).find(h => new URL(h).pathname.startsWith(%q)) ?? ""`, prefix), &href)
	if href == "" {
		t.Fatalf("no link to %s… in the development mailbox", prefix)
	}
	return href
}

// signInAs signs in through /login and fails the test unless that leads to
// a page.
func signInAs(t *testing.T, b *e2e.Browser, login, password string) {
	t.Helper()
	b.Navigate("/login")
	b.Fill("#login", login)
	b.Fill("#password", password)
	if got := b.Submit(submitForm); got != http.StatusOK {
		t.Fatalf("sign in as %s: got status %d, want %d", login, got, http.StatusOK)
	}
}
