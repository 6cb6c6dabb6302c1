//go:build e2e

package e2e_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/e2e"
)

// fillSetup fills the setup form.
func fillSetup(b *e2e.Browser, username, email, password, confirm string) {
	b.Fill("#username", username)
	b.Fill("#email", email)
	b.Fill("#password", password)
	b.Fill("#confirm_password", confirm)
}

func TestSetupFirstAdmin(t *testing.T) {
	for _, store := range e2e.Stores() {
		t.Run(string(store), func(t *testing.T) {
			h := e2e.Start(t, e2e.WithStore(store))
			link := h.SetupLink(t)
			b := h.Browser(t)
			// A spent link is answered 401, which the browser logs as a
			// failed request.
			b.AllowConsole("status of 401")

			b.Navigate(link)
			if got := b.Status(); got != http.StatusOK {
				t.Fatalf("GET setup link: got status %d, want %d", got, http.StatusOK)
			}
			if got, want := b.Text("h1"), "Create the first admin account"; got != want {
				t.Errorf("setup page heading = %q, want %q", got, want)
			}
			b.Screenshot("form")

			fillSetup(b, "root", "Root@Example.com", "a long admin password", "a long admin password")
			if got := b.Submit("button[type=submit]"); got != http.StatusCreated {
				t.Errorf("submit setup form: got status %d, want %d", got, http.StatusCreated)
			}
			if got, want := b.Text("h1"), "Admin account created"; got != want {
				t.Fatalf("heading after setup = %q, want %q", got, want)
			}
			if got := b.Text("main"); !strings.Contains(got, "root") {
				t.Errorf("page after setup does not name the account: %q", got)
			}
			b.Screenshot("created")

			u, err := h.Gatehouse.Store().FindUserByLogin(context.Background(), "root@example.com")
			if err != nil {
				t.Fatalf("FindUserByLogin(%q) = %v", "root@example.com", err)
			}
			if !slices.Contains(u.Roles, auth.RoleAdmin) || u.Username != "root" || !u.EmailVerified {
				t.Errorf("created user = {username %q, roles %v, email verified %v}, want {root, [.. admin ..], true}", u.Username, u.Roles, u.EmailVerified)
			}

			// The link works once.
			b.Navigate(link)
			if got := b.Status(); got != http.StatusUnauthorized {
				t.Errorf("GET spent setup link: got status %d, want %d", got, http.StatusUnauthorized)
			}
			if got := b.Text("main"); !strings.Contains(got, "This setup link is invalid, used or expired.") {
				t.Errorf("spent setup link shows %q, want it to say the link is invalid, used or expired", got)
			}
			b.Screenshot("spent")
		})
	}

	t.Run("passwords differ", func(t *testing.T) {
		h := e2e.Start(t)
		link := h.SetupLink(t)
		b := h.Browser(t)
		b.AllowConsole("status of 422") // the form is answered 422 Unprocessable Entity

		b.Navigate(link)
		fillSetup(b, "root", "root@example.com", "a long admin password", "a long admin passwort")
		if got := b.Submit("button[type=submit]"); got != http.StatusUnprocessableEntity {
			t.Errorf("submit with different passwords: got status %d, want %d", got, http.StatusUnprocessableEntity)
		}
		if got, want := b.Text("#confirm-error"), "Passwords do not match."; got != want {
			t.Errorf("error next to the confirmation = %q, want %q", got, want)
		}
		if got, _ := b.Attr("#confirm_password", "aria-describedby"); got != "confirm-error" {
			t.Errorf("confirmation field aria-describedby = %q, want %q", got, "confirm-error")
		}
		if got, _ := b.Attr("#confirm_password", "aria-invalid"); got != "true" {
			t.Errorf("confirmation field aria-invalid = %q, want %q", got, "true")
		}
		b.Screenshot("mismatch")
		if exists, err := h.Gatehouse.Accounts().AdminExists(context.Background()); err != nil || exists {
			t.Fatalf("AdminExists() after a refused form = %v, %v; want false, nil", exists, err)
		}

		// The typo did not burn the link, and what was typed is kept,
		// apart from the passwords.
		if got := b.Text("h1"); got != "Create the first admin account" {
			t.Errorf("heading after a refused form = %q, want the form again", got)
		}
		var kept struct{ Username, Email, Password string }
		b.Eval(`({Username: username.value, Email: email.value, Password: password.value})`, &kept)
		if kept.Username != "root" || kept.Email != "root@example.com" || kept.Password != "" {
			t.Errorf("form after refusal = %+v, want username and email kept and no password", kept)
		}
		b.Fill("#password", "a long admin password")
		b.Fill("#confirm_password", "a long admin password")
		if got := b.Submit("button[type=submit]"); got != http.StatusCreated {
			t.Errorf("submit corrected form: got status %d, want %d", got, http.StatusCreated)
		}
		if got, want := b.Text("h1"), "Admin account created"; got != want {
			t.Errorf("heading after the corrected form = %q, want %q", got, want)
		}
	})
}
