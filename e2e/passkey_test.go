//go:build e2e

package e2e_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/e2e"
)

// onLocalhost serves Gatehouse at http://localhost:<port> rather than
// http://127.0.0.1:<port>: WebAuthn needs a host name for the relying party
// ID, and browsers treat localhost as a secure context.
func onLocalhost(c *gatehouse.Config) {
	_, port, _ := net.SplitHostPort(c.Listen)
	c.PublicURL = "http://localhost:" + port
}

// startWithPasskeys runs Gatehouse on store with passkeys on.
func startWithPasskeys(t *testing.T, store e2e.Store) *e2e.Harness {
	t.Helper()
	h := e2e.Start(t, e2e.WithStore(store), e2e.WithConfig(onLocalhost))
	if !strings.HasPrefix(h.URL, "http://localhost:") {
		t.Fatalf("Gatehouse runs at %s, want http://localhost:<port>", h.URL)
	}
	return h
}

// passkeyItems reads the names on the account page's list of passkeys.
func passkeyItems(b *e2e.Browser) []string {
	var names []string
	b.Eval(`[...document.querySelectorAll("#passkeys li[data-passkey-id] .passkey-name")].map(e => e.textContent.trim())`, &names)
	return names
}

// signInWithPasskey signs in from /login with the passkey button and waits
// for the account page. The browser must be WithoutPasskeyAutofill, or the
// autofill request signs in before the button is pressed.
func signInWithPasskey(t *testing.T, h *e2e.Harness, b *e2e.Browser, shot string) {
	t.Helper()
	b.Navigate("/login")
	if got, _ := b.Attr("#login", "autocomplete"); got != "username webauthn" {
		t.Errorf("username field autocomplete = %q, want %q (passkey autofill)", got, "username webauthn")
	}
	b.WaitVisible("#passkey-login")
	b.Screenshot(shot)
	b.Click("#passkey-login")
	b.WaitURL("/account")
	if got, want := b.Location(), h.URL+"/account"; got != want {
		t.Fatalf("passkey sign-in leads to %s, want %s", got, want)
	}
}

// TestPasskeyAddThenSignIn adds a passkey from the account page of a user
// who signed in with a password, signs out, and signs back in with the
// passkey button: Chromium's virtual authenticator plays the user's device.
func TestPasskeyAddThenSignIn(t *testing.T) {
	for _, store := range e2e.Stores() {
		t.Run(string(store), func(t *testing.T) {
			const password = "a long user password"
			h := startWithPasskeys(t, store)
			ada := h.CreateUser(t, accounts.Registration{Username: "ada", Email: "ada@example.com", Password: password})
			b := h.Browser(t)
			device := b.AddVirtualAuthenticator()
			b.WithoutPasskeyAutofill()

			if got := signIn(b, "login-password", "ada", password, false); got != http.StatusOK {
				t.Fatalf("sign in with the password: got status %d, want %d", got, http.StatusOK)
			}
			if got := b.Text("#passkeys"); !strings.Contains(got, "You have no passkeys yet.") {
				t.Errorf("passkey list before adding one = %q", got)
			}
			b.Fill("#passkey-name", "Laptop")
			b.Click("#passkey-add")
			b.WaitVisible("#passkeys li[data-passkey-id]")
			if got := passkeyItems(b); len(got) != 1 || got[0] != "Laptop" {
				t.Fatalf("passkeys on the account page = %q, want [Laptop]", got)
			}
			if got := b.Text("#passkeys li[data-passkey-id]"); !strings.Contains(got, "synced") || !strings.Contains(got, "never used") {
				t.Errorf("passkey entry = %q, want it marked synced and never used", got)
			}
			creds := device.Credentials()
			if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
				t.Fatalf("the authenticator holds %+v, want one discoverable credential for localhost", creds)
			}
			stored, err := h.Gatehouse.Store().FindPasskeysByUser(context.Background(), ada.ID)
			if err != nil || len(stored) != 1 || string(stored[0].CredentialID) != string(creds[0].CredentialID) {
				t.Fatalf("stored passkeys = %v, %v; want the authenticator's credential", stored, err)
			}
			b.Screenshot("account-with-passkey")

			if got := b.Submit("header form button[type=submit]"); got != http.StatusOK {
				t.Fatalf("sign out: got status %d, want %d", got, http.StatusOK)
			}
			if c := b.Cookie(sessionCookie); c != nil {
				t.Fatalf("the browser still holds a %s cookie after sign-out", sessionCookie)
			}

			signInWithPasskey(t, h, b, "login-passkey")
			if got, want := b.Text("#account-username"), "ada"; got != want {
				t.Errorf("account username after the passkey sign-in = %q, want %q", got, want)
			}
			checkSessionCookie(t, b, false)
			if got := b.Text("#passkeys li[data-passkey-id]"); !strings.Contains(got, "last used") {
				t.Errorf("passkey entry after signing in with it = %q, want its last use", got)
			}
			if got := listSessions(b); len(got) != 1 || !got[0].Current {
				t.Errorf("sessions after signing out and in with the passkey = %+v, want this browser's alone", got)
			}
			b.Screenshot("account-after-passkey")

			events, _, err := h.Gatehouse.Store().FindEvents(context.Background(), auth.EventFilter{UserID: ada.ID, Type: auth.EventLoginSucceeded})
			if err != nil || len(events) == 0 || events[0].Data["method"] != "passkey" {
				t.Errorf("latest sign-in event = %v, %v; want one with method passkey", events, err)
			}
		})
	}
}

// TestPasskeySignUp creates an account with a passkey and no password from
// the registration page; the account page then offers no way to remove the
// only passkey. After signing out, the sign-in page's autofill request
// (mediation "conditional", which Chromium's virtual authenticator answers
// as if the user had picked the passkey from the username field's
// suggestions) signs the account back in.
func TestPasskeySignUp(t *testing.T) {
	for _, store := range e2e.Stores() {
		t.Run(string(store), func(t *testing.T) {
			h := startWithPasskeys(t, store)
			h.CreateUser(t, accounts.Registration{Username: "grace", Email: "grace@example.com", Password: "grace's own password"})
			b := h.Browser(t)
			b.AllowConsole("status of 409") // a taken username, refused before any passkey is made
			device := b.AddVirtualAuthenticator()

			b.Navigate("/register")
			b.Fill("#username", "grace")
			b.Fill("#email", "nora@example.com")
			b.Click("#passkey-signup")
			b.WaitVisible("#passkey-error")
			if got, want := b.Text("#passkey-error"), "Username is already taken."; got != want {
				t.Errorf("message for a taken username = %q, want %q", got, want)
			}
			if n := len(device.Credentials()); n != 0 {
				t.Errorf("the authenticator made %d credentials for a refused sign-up, want none", n)
			}

			// The user's device refuses to verify them, as when they cancel.
			device.SetUserVerified(false)
			b.Fill("#username", "nora")
			b.Click("#passkey-signup")
			b.Eval(`new Promise(r => { const poll = () => document.querySelector("#passkey-error").textContent.includes("cancelled") ? r() : setTimeout(poll, 20); poll(); })`, nil)
			if got := b.Text("#passkey-error"); !strings.Contains(got, "cancelled or timed out") {
				t.Errorf("message after a cancelled verification = %q", got)
			}
			b.Screenshot("register-cancelled")
			if _, err := h.Gatehouse.Store().FindUserByLogin(context.Background(), "nora"); !auth.IsNotFound(err) {
				t.Errorf("a cancelled sign-up left an account: %v", err)
			}
			device.SetUserVerified(true)

			b.Fill("#username", "nora")
			b.Fill("#email", "nora@example.com")
			b.Screenshot("register")
			b.Click("#passkey-signup")
			b.WaitURL("/account")
			if got, want := b.Text("main [role=status]"), "Welcome! Your account is ready."; got != want {
				t.Errorf("notice after the passkey sign-up = %q, want %q", got, want)
			}
			if got, want := b.Text("#account-username"), "nora"; got != want {
				t.Errorf("account username = %q, want %q", got, want)
			}
			if got := passkeyItems(b); len(got) != 1 {
				t.Errorf("passkeys after the sign-up = %q, want one", got)
			}
			if got, want := b.Text("#password-title"), "Set a password"; got != want {
				t.Errorf("password section of an account without one = %q, want %q", got, want)
			}
			var removable int
			b.Eval(`document.querySelectorAll("#passkeys form[action$='/delete']").length`, &removable)
			if removable != 0 || !strings.Contains(b.Text("#passkey-last"), "only way to sign in") {
				t.Errorf("account page offers %d removals of the only passkey, or does not say why not", removable)
			}
			var currentPassword int
			b.Eval(`document.querySelectorAll("#current_password").length`, &currentPassword)
			if currentPassword != 0 {
				t.Error("the password form asks a passkey-only account for its current password")
			}
			b.Screenshot("account")

			nora, err := h.Gatehouse.Store().FindUserByLogin(context.Background(), "nora")
			if err != nil || nora.HasPassword() {
				t.Fatalf("nora = %+v, %v; want an account without a password", nora, err)
			}
			before := b.Cookie(sessionCookie)
			if before == nil {
				t.Fatalf("no %s cookie after the passkey sign-up", sessionCookie)
			}

			// Signing out lands on /login, whose autofill request signs in.
			if got := b.Submit("header form button[type=submit]"); got != http.StatusOK {
				t.Fatalf("sign out: got status %d, want %d", got, http.StatusOK)
			}
			b.WaitURL("/account")
			if got, want := b.Text("#account-username"), "nora"; got != want {
				t.Errorf("account username after the autofill sign-in = %q, want %q", got, want)
			}
			after := b.Cookie(sessionCookie)
			if after == nil || after.Value == before.Value {
				t.Errorf("after signing out and in again the session cookie is %v, want a new session", after)
			}
			events, _, err := h.Gatehouse.Store().FindEvents(context.Background(), auth.EventFilter{UserID: nora.ID, Type: auth.EventLoginSucceeded})
			if err != nil || len(events) != 1 || events[0].Data["method"] != "passkey" {
				t.Errorf("sign-in events = %v, %v; want one with method passkey", events, err)
			}
			b.Screenshot("account-again")
		})
	}
}
