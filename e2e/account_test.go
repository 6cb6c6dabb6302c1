//go:build e2e

package e2e_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/e2e"
)

// sessionCookie is the name of Gatehouse's session cookie.
const sessionCookie = "gatehouse_session"

// rememberFor is how long a remember-me sign-in lasts by default.
const rememberFor = 14 * 24 * time.Hour

// browserDevice is how the account page names a session of the suite's
// browser: "Headless Chrome 140 on Linux", or without "Headless " for a
// browser that does not say it is headless.
var browserDevice = regexp.MustCompile(`^(Headless )?Chrom(e|ium) \d+\b`)

// submitForm is the submit button of the page's own form in main, not the
// "Sign out" button that the header shows to signed-in users.
const submitForm = "main form button[type=submit]"

// fillRegister fills the registration form.
func fillRegister(b *e2e.Browser, username, email, password, confirm string) {
	b.Fill("#username", username)
	b.Fill("#email", email)
	b.Fill("#password", password)
	b.Fill("#confirm_password", confirm)
}

// signIn signs in through /login, saving a screenshot of the form as shot,
// and returns the status of the page it leads to.
func signIn(b *e2e.Browser, shot, login, password string, remember bool) int {
	b.Navigate("/login")
	b.Fill("#login", login)
	b.Fill("#password", password)
	if remember {
		b.Click("#remember")
	}
	b.Screenshot(shot)
	return b.Submit(submitForm)
}

// sessionItem is one device in the account page's list of sessions.
type sessionItem struct {
	ID      string
	Device  string
	Current bool
	Text    string
}

// listSessions reads the list of sessions on the account page.
func listSessions(b *e2e.Browser) []sessionItem {
	var items []sessionItem
	b.Eval(`[...document.querySelectorAll("#sessions li.session")].map(li => ({
		ID: li.dataset.sessionId,
		Device: li.querySelector("strong")?.textContent.trim() ?? "",
		Current: [...li.querySelectorAll(".badge")].some(b => b.textContent.trim() === "this device"),
		Text: li.innerText,
	}))`, &items)
	return items
}

// checkSessionCookie checks the flags of the session cookie: HttpOnly,
// SameSite=Lax, Path=/, and persistent for about rememberFor when remembered,
// a browser-session cookie otherwise.
func checkSessionCookie(t *testing.T, b *e2e.Browser, remembered bool) {
	t.Helper()
	c := b.Cookie(sessionCookie)
	if c == nil {
		t.Errorf("no %s cookie after sign-in", sessionCookie)
		return
	}
	if !c.HTTPOnly {
		t.Errorf("%s cookie is not HttpOnly", sessionCookie)
	}
	if c.SameSite != network.CookieSameSiteLax {
		t.Errorf("%s cookie SameSite = %q, want %q", sessionCookie, c.SameSite, network.CookieSameSiteLax)
	}
	if c.Path != "/" {
		t.Errorf("%s cookie Path = %q, want %q", sessionCookie, c.Path, "/")
	}
	if !remembered {
		if !c.Session {
			t.Errorf("%s cookie without remember-me expires at %v, want a browser-session cookie", sessionCookie, time.Unix(int64(c.Expires), 0).UTC())
		}
		return
	}
	if c.Session {
		t.Errorf("%s cookie with remember-me is a browser-session cookie, want one that expires in %v", sessionCookie, rememberFor)
		return
	}
	ahead := time.Until(time.Unix(int64(c.Expires), 0))
	if ahead < rememberFor-5*time.Minute || ahead > rememberFor+time.Minute {
		t.Errorf("%s cookie with remember-me expires in %v, want about %v", sessionCookie, ahead.Round(time.Second), rememberFor)
	}
}

// TestRegisterLoginAccountLogout follows a new user through the hosted pages:
// registration, signing out, signing in with remember-me, the account page,
// signing out again, and the way back to the account page through the
// sign-in page.
func TestRegisterLoginAccountLogout(t *testing.T) {
	for _, store := range e2e.Stores() {
		t.Run(string(store), func(t *testing.T) {
			t.Run("journey", func(t *testing.T) { testJourney(t, store) })
			t.Run("field errors", func(t *testing.T) { testRegisterFieldErrors(t, store) })
		})
	}
}

func testJourney(t *testing.T, store e2e.Store) {
	const password = "a long user password"
	h := e2e.Start(t, e2e.WithStore(store))
	b := h.Browser(t)

	// Registration signs the new user in and shows the account page.
	b.Navigate("/register")
	if got := b.Status(); got != http.StatusOK {
		t.Fatalf("GET /register: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := b.Text("h1"), "Create an account"; got != want {
		t.Errorf("registration page heading = %q, want %q", got, want)
	}
	fillRegister(b, "ada", "Ada@Example.com", password, password)
	b.Screenshot("register")
	if got := b.Submit(submitForm); got != http.StatusOK {
		t.Errorf("submit registration: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := b.Location(), h.URL+"/account"; got != want {
		t.Fatalf("registration leads to %s, want %s", got, want)
	}
	if got, want := b.Text("main [role=status]"), "Welcome! Your account is ready."; got != want {
		t.Errorf("notice after registration = %q, want %q", got, want)
	}
	if got, want := b.Text("#account-username"), "ada"; got != want {
		t.Errorf("account username after registration = %q, want %q", got, want)
	}
	if got := b.Text("#account-roles"); !strings.Contains(got, "user") {
		t.Errorf("account roles after registration = %q, want them to include user", got)
	}
	b.Screenshot("welcome")
	if _, err := h.Gatehouse.Accounts().Authenticate(context.Background(), "ada@example.com", password); err != nil {
		t.Errorf("Authenticate(%q) after registration: %v", "ada@example.com", err)
	}

	// Signing out through the confirmation page.
	b.Navigate("/logout")
	if got := b.Status(); got != http.StatusOK {
		t.Errorf("GET /logout: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := b.Text("h1"), "Sign out?"; got != want {
		t.Errorf("sign-out page heading = %q, want %q", got, want)
	}
	if b.Cookie(sessionCookie) == nil {
		t.Errorf("GET /logout dropped the %s cookie; only the form may sign out", sessionCookie)
	}
	b.Screenshot("logout-confirm")
	if got := b.Submit("#confirm-logout"); got != http.StatusOK {
		t.Errorf("confirm sign-out: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := b.Location(), h.URL+"/login"; got != want {
		t.Errorf("sign-out leads to %s, want %s", got, want)
	}
	if got, want := b.Text("main [role=status]"), "You have been signed out."; got != want {
		t.Errorf("notice after sign-out = %q, want %q", got, want)
	}
	if c := b.Cookie(sessionCookie); c != nil {
		t.Errorf("the browser still holds a %s cookie after sign-out", sessionCookie)
	}
	b.Screenshot("signed-out")

	// Signing in with remember-me.
	if got := signIn(b, "login-remember", "ada", password, true); got != http.StatusOK {
		t.Errorf("sign in: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := b.Location(), h.URL+"/account"; got != want {
		t.Fatalf("sign-in leads to %s, want %s", got, want)
	}
	checkSessionCookie(t, b, true)

	// The account page: one session, this browser's.
	if got, want := b.Text("#account-username"), "ada"; got != want {
		t.Errorf("account username = %q, want %q", got, want)
	}
	sessions := listSessions(b)
	if len(sessions) != 1 {
		t.Errorf("account page lists %d sessions, want 1: %+v", len(sessions), sessions)
	}
	for _, s := range sessions {
		if !s.Current {
			t.Errorf("session %q is not marked \"this device\": %q", s.Device, s.Text)
		}
		if !browserDevice.MatchString(s.Device) {
			t.Errorf("session device = %q, want the browser's name, such as \"Headless Chrome 140 on Linux\"", s.Device)
		}
		if !strings.Contains(s.Text, "remembered") {
			t.Errorf("remember-me session is not marked \"remembered\": %q", s.Text)
		}
	}
	b.Screenshot("account")

	// Signing out through the header's button.
	if got := b.Submit("header form button[type=submit]"); got != http.StatusOK {
		t.Errorf("sign out from the header: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := b.Location(), h.URL+"/login"; got != want {
		t.Errorf("sign-out leads to %s, want %s", got, want)
	}
	if c := b.Cookie(sessionCookie); c != nil {
		t.Errorf("the browser still holds a %s cookie after sign-out", sessionCookie)
	}
	b.Screenshot("signed-out-again")

	// The account page now asks to sign in, and leads back afterwards.
	b.Navigate("/account")
	if got, want := b.Location(), h.URL+"/login?return_to=%2Faccount"; got != want {
		t.Errorf("GET /account signed out leads to %s, want %s", got, want)
	}
	if got := b.Status(); got != http.StatusOK {
		t.Errorf("GET /account signed out: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := b.Text("h1"), "Sign in"; got != want {
		t.Errorf("GET /account signed out shows %q, want the sign-in page", got)
	}
	if got, _ := b.Attr("input[name=return_to]", "value"); got != "/account" {
		t.Errorf("sign-in form return_to = %q, want %q", got, "/account")
	}
	b.Fill("#login", "ada@example.com")
	b.Fill("#password", password)
	b.Screenshot("login-return")
	if got := b.Submit(submitForm); got != http.StatusOK {
		t.Errorf("sign in to return to /account: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := b.Location(), h.URL+"/account"; got != want {
		t.Errorf("sign-in with return_to leads to %s, want %s", got, want)
	}
	if got, want := b.Text("#account-username"), "ada"; got != want {
		t.Errorf("account username = %q, want %q", got, want)
	}
	checkSessionCookie(t, b, false)
	b.Screenshot("account-again")
}

// testRegisterFieldErrors submits the registration form with mistakes and
// checks that each is shown next to its field.
func testRegisterFieldErrors(t *testing.T, store e2e.Store) {
	const password = "a long user password"
	h := e2e.Start(t, e2e.WithStore(store))
	h.CreateUser(t, accounts.Registration{Username: "grace", Email: "grace@example.com", Password: "grace's own password"})
	b := h.Browser(t)
	b.AllowConsole("status of 422") // passwords that differ
	b.AllowConsole("status of 409") // an email that is taken

	b.Navigate("/register")
	fillRegister(b, "ada", "ada@example.com", password, "a long user passwort")
	if got := b.Submit(submitForm); got != http.StatusUnprocessableEntity {
		t.Errorf("register with different passwords: got status %d, want %d", got, http.StatusUnprocessableEntity)
	}
	if got, want := b.Text("#confirm-error"), "Passwords do not match."; got != want {
		t.Errorf("error next to the confirmation = %q, want %q", got, want)
	}
	if got, _ := b.Attr("#confirm_password", "aria-invalid"); got != "true" {
		t.Errorf("confirmation field aria-invalid = %q, want %q", got, "true")
	}
	b.Screenshot("mismatch")

	fillRegister(b, "ada", "Grace@Example.com", password, password)
	if got := b.Submit(submitForm); got != http.StatusConflict {
		t.Errorf("register with a taken email: got status %d, want %d", got, http.StatusConflict)
	}
	if got, want := b.Text("#email-error"), "Email is already registered."; got != want {
		t.Errorf("error next to the email = %q, want %q", got, want)
	}
	if got, _ := b.Attr("#email", "aria-invalid"); got != "true" {
		t.Errorf("email field aria-invalid = %q, want %q", got, "true")
	}
	b.Screenshot("email-taken")

	if c := b.Cookie(sessionCookie); c != nil {
		t.Errorf("the browser holds a %s cookie after refused registrations", sessionCookie)
	}
	if _, err := h.Gatehouse.Store().FindUserByLogin(context.Background(), "ada"); !auth.IsNotFound(err) {
		t.Errorf("FindUserByLogin(%q) after refused registrations = %v, want not found", "ada", err)
	}
}
