//go:build e2e

package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/e2e"
)

// currentSession returns the session the account page marks "this device",
// failing the test unless there is exactly one.
func currentSession(t *testing.T, b *e2e.Browser) sessionItem {
	t.Helper()
	var current []sessionItem
	for _, s := range listSessions(b) {
		if s.Current {
			current = append(current, s)
		}
	}
	if len(current) != 1 {
		t.Fatalf("account page marks %d sessions \"this device\", want 1: %+v", len(current), current)
	}
	return current[0]
}

// TestRevokeOtherDevice signs one user in on two browsers and, from the
// first one's account page, signs the second one out.
func TestRevokeOtherDevice(t *testing.T) {
	for _, store := range e2e.Stores() {
		t.Run(string(store), func(t *testing.T) {
			const password = "a long user password"
			h := e2e.Start(t, e2e.WithStore(store))
			h.CreateUser(t, accounts.Registration{Username: "ada", Email: "ada@example.com", Password: password})
			first, second := h.Browser(t), h.Browser(t)

			if got := signIn(second, "second-login", "ada", password, true); got != http.StatusOK {
				t.Fatalf("sign in on the second browser: got status %d, want %d", got, http.StatusOK)
			}
			secondSession := currentSession(t, second)
			second.Screenshot("second-account")

			if got := signIn(first, "first-login", "ada", password, false); got != http.StatusOK {
				t.Fatalf("sign in on the first browser: got status %d, want %d", got, http.StatusOK)
			}
			firstSession := currentSession(t, first)
			sessions := listSessions(first)
			if len(sessions) != 2 {
				t.Fatalf("account page lists %d sessions with two browsers signed in, want 2: %+v", len(sessions), sessions)
			}
			var other *sessionItem
			for i := range sessions {
				if !sessions[i].Current {
					other = &sessions[i]
				}
			}
			if other == nil || other.ID != secondSession.ID {
				t.Fatalf("the session not marked \"this device\" = %+v, want the second browser's, %q", other, secondSession.ID)
			}
			first.Screenshot("two-devices")

			revoke := fmt.Sprintf("#sessions li.session[data-session-id=%q] button[type=submit]", other.ID)
			if got, want := first.Text(revoke), "Revoke"; got != want {
				t.Errorf("button of the other session = %q, want %q", got, want)
			}
			if got := first.Submit(revoke); got != http.StatusOK {
				t.Errorf("revoke the other session: got status %d, want %d", got, http.StatusOK)
			}
			if got, want := first.Location(), h.URL+"/account"; got != want {
				t.Errorf("revoking leads to %s, want %s", got, want)
			}
			if got, want := first.Text("main [role=status]"), "That device was signed out."; got != want {
				t.Errorf("notice after revoking = %q, want %q", got, want)
			}
			sessions = listSessions(first)
			if len(sessions) != 1 || sessions[0].ID != firstSession.ID || !sessions[0].Current {
				t.Errorf("sessions after revoking the other = %+v, want only this device's, %q", sessions, firstSession.ID)
			}
			first.Screenshot("revoked")

			// The second browser is signed out at its next request.
			second.Navigate("/account")
			if got, want := second.Location(), h.URL+"/login?return_to=%2Faccount"; got != want {
				t.Errorf("GET /account on the revoked browser leads to %s, want %s", got, want)
			}
			if got, want := second.Text("h1"), "Sign in"; got != want {
				t.Errorf("GET /account on the revoked browser shows %q, want the sign-in page", got)
			}
			second.Screenshot("second-signed-out")

			// The first browser is still signed in.
			first.Navigate("/account")
			if got, want := first.Location(), h.URL+"/account"; got != want {
				t.Errorf("GET /account on the first browser leads to %s, want %s", got, want)
			}
			if got, want := first.Text("#account-username"), "ada"; got != want {
				t.Errorf("account username on the first browser = %q, want %q", got, want)
			}
		})
	}
}

// TestSessionCookieNotReadableByScript checks that a script on Gatehouse's
// pages, such as one injected through a cross-site scripting hole, can
// neither read the session cookie nor replace it.
func TestSessionCookieNotReadableByScript(t *testing.T) {
	for _, store := range e2e.Stores() {
		t.Run(string(store), func(t *testing.T) {
			const password = "a long user password"
			h := e2e.Start(t, e2e.WithStore(store))
			h.CreateUser(t, accounts.Registration{Username: "ada", Email: "ada@example.com", Password: password})
			b := h.Browser(t)

			if got := signIn(b, "login", "ada", password, true); got != http.StatusOK {
				t.Fatalf("sign in: got status %d, want %d", got, http.StatusOK)
			}
			b.Screenshot("account")
			before := b.Cookie(sessionCookie)
			if before == nil {
				t.Fatalf("no %s cookie after sign-in", sessionCookie)
			}

			var visible string
			b.Eval(`document.cookie`, &visible)
			if strings.Contains(visible, sessionCookie) {
				t.Errorf("document.cookie = %q, want it without %s", visible, sessionCookie)
			}

			// Nor can a script plant a session of its choosing over it.
			b.Eval(`document.cookie = "`+sessionCookie+`=planted; path=/"`, nil)
			var count int
			for _, c := range b.Cookies() {
				if c.Name == sessionCookie {
					count++
					if c.Value != before.Value {
						t.Errorf("a script replaced the %s cookie", sessionCookie)
					}
				}
			}
			if count != 1 {
				t.Errorf("the browser holds %d %s cookies after a script set one, want 1", count, sessionCookie)
			}
			b.Navigate("/account")
			if got, want := b.Location(), h.URL+"/account"; got != want {
				t.Errorf("GET /account after a script set the cookie leads to %s, want %s", got, want)
			}
		})
	}
}
