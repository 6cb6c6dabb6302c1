//go:build e2e

package e2e_test

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/e2e"
)

// forgedSetup is a page on another site that, once opened, posts the setup
// form to Gatehouse with the attacker's account in it. The script is inline
// and nonce-less: this is the attacker's page, not Gatehouse's.
var forgedSetup = template.Must(template.New("attack").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Win a prize</title></head>
<body>
<form method="post" action="{{.}}">
  <input name="username" value="mallory">
  <input name="email" value="mallory@example.com">
  <input name="password" value="mallory's password">
  <input name="confirm_password" value="mallory's password">
</form>
<script>document.forms[0].submit()</script>
</body>
</html>`))

// TestCrossOriginFormRefused proves in a real browser that a form posted to
// Gatehouse from another origin changes nothing: not from another site, and
// not from another origin on the same site either, where SameSite cookies
// would not help.
func TestCrossOriginFormRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		from func(*e2e.Site) string
	}{
		{"cross-site", func(s *e2e.Site) string { return s.URL }},
		{"same-site", func(s *e2e.Site) string { return s.SameSiteURL }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := e2e.Start(t)
			link := h.SetupLink(t)
			site := e2e.NewSite(t)
			var page bytes.Buffer
			if err := forgedSetup.Execute(&page, link); err != nil {
				t.Fatal(err)
			}
			site.Page("/prize", page.String())
			b := h.Browser(t)
			b.AllowConsole("status of 403") // the refusal is a failed request to the browser

			b.Navigate(tc.from(site) + "/prize")
			b.WaitURL(link)
			if got := b.Status(); got != http.StatusForbidden {
				t.Errorf("forged POST: got status %d, want %d", got, http.StatusForbidden)
			}
			if got := b.Text("main"); !strings.Contains(got, "This request came from another site and was refused.") {
				t.Errorf("forged POST shows %q, want it to say the request came from another site", got)
			}
			b.Screenshot("refused")

			ctx := context.Background()
			if exists, err := h.Gatehouse.Accounts().AdminExists(ctx); err != nil || exists {
				t.Errorf("AdminExists() after a forged POST = %v, %v; want false, nil", exists, err)
			}
			if _, err := h.Gatehouse.Store().FindUserByLogin(ctx, "mallory"); !auth.IsNotFound(err) {
				t.Errorf("FindUserByLogin(%q) after a forged POST = %v, want not found", "mallory", err)
			}

			// The link is untouched and still works for its owner.
			b.Navigate(link)
			if got := b.Status(); got != http.StatusOK {
				t.Errorf("GET setup link after a forged POST: got status %d, want %d", got, http.StatusOK)
			}
			if got, want := b.Text("h1"), "Create the first admin account"; got != want {
				t.Errorf("setup page heading after a forged POST = %q, want %q", got, want)
			}
		})
	}
}

// forgedPasswordChange is a page on another site that, once opened, posts
// Gatehouse's change-password form with the signed-in visitor's session
// cookie, if the browser sends it along, and a password of the attacker's
// choosing.
var forgedPasswordChange = template.Must(template.New("attack").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Win a prize</title></head>
<body>
<form method="post" action="{{.Action}}">
  <input name="current_password" value="{{.Current}}">
  <input name="new_password" value="mallory's password">
  <input name="confirm_password" value="mallory's password">
</form>
<script>document.forms[0].submit()</script>
</body>
</html>`))

// TestCrossOriginPasswordChangeRefused proves in a real browser that a
// signed-in user who opens a page on another origin cannot have their
// password changed by it. From another origin on the same site the browser
// sends the SameSite=Lax session cookie along, so only Gatehouse's
// cross-origin check stands in the way; the forged form even knows the
// current password, so that nothing else would stop it.
func TestCrossOriginPasswordChangeRefused(t *testing.T) {
	for _, store := range e2e.Stores() {
		t.Run(string(store), func(t *testing.T) {
			for _, tc := range []struct {
				name string
				from func(*e2e.Site) string
			}{
				{"same-site", func(s *e2e.Site) string { return s.SameSiteURL }},
				{"cross-site", func(s *e2e.Site) string { return s.URL }},
			} {
				t.Run(tc.name, func(t *testing.T) {
					const password = "ada's own password"
					h := e2e.Start(t, e2e.WithStore(store))
					h.CreateUser(t, accounts.Registration{Username: "ada", Email: "ada@example.com", Password: password})
					site := e2e.NewSite(t)
					var page bytes.Buffer
					err := forgedPasswordChange.Execute(&page, struct{ Action, Current string }{h.URL + "/account/password", password})
					if err != nil {
						t.Fatal(err)
					}
					site.Page("/prize", page.String())
					b := h.Browser(t)
					b.AllowConsole("status of 403") // the refusal is a failed request to the browser

					if got := signIn(b, "login", "ada", password, false); got != http.StatusOK {
						t.Fatalf("sign in: got status %d, want %d", got, http.StatusOK)
					}
					b.Screenshot("account")

					b.Navigate(tc.from(site) + "/prize")
					b.WaitURL(h.URL + "/account/password")
					if got := b.Status(); got != http.StatusForbidden {
						t.Errorf("forged POST: got status %d, want %d", got, http.StatusForbidden)
					}
					if got := b.Text("main"); !strings.Contains(got, "This request came from another site and was refused.") {
						t.Errorf("forged POST shows %q, want it to say the request came from another site", got)
					}
					b.Screenshot("refused")

					ctx := context.Background()
					if _, err := h.Gatehouse.Accounts().Authenticate(ctx, "ada", password); err != nil {
						t.Errorf("Authenticate with the old password after a forged POST: %v", err)
					}
					if _, err := h.Gatehouse.Accounts().Authenticate(ctx, "ada", "mallory's password"); err == nil {
						t.Errorf("Authenticate with the forged password succeeded")
					}

					// The victim is still signed in, on the same session.
					b.Navigate("/account")
					if got := b.Status(); got != http.StatusOK {
						t.Errorf("GET /account after a forged POST: got status %d, want %d", got, http.StatusOK)
					}
					if got, want := b.Location(), h.URL+"/account"; got != want {
						t.Errorf("GET /account after a forged POST leads to %s, want %s", got, want)
					}
					if got, want := b.Text("#account-username"), "ada"; got != want {
						t.Errorf("account username after a forged POST = %q, want %q", got, want)
					}
					if sessions := listSessions(b); len(sessions) != 1 || !sessions[0].Current {
						t.Errorf("sessions after a forged POST = %+v, want this device's only", sessions)
					}
					b.Screenshot("account-after")
				})
			}
		})
	}
}
