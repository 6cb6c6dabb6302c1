//go:build e2e

package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/e2e"
	"github.com/gatehouse-dev/gatehouse/internal/oidctest"
)

// corpProvider starts an OpenID Connect provider on loopback and returns it
// with a providers file that names it "corp" (shown as Corp ID); its client
// secret is in the environment, where Gatehouse reads it.
func corpProvider(t *testing.T) (*oidctest.Provider, string) {
	t.Helper()
	idp := oidctest.New(oidctest.Options{})
	t.Cleanup(idp.Close)
	providers := filepath.Join(t.TempDir(), "providers.yaml")
	file := fmt.Sprintf("providers:\n  - name: corp\n    kind: oidc\n    display_name: Corp ID\n    issuer_url: %s\n    client_id: %s\n",
		idp.Issuer, idp.ClientID)
	if err := os.WriteFile(providers, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GATEHOUSE_OAUTH_CORP_CLIENT_SECRET", idp.ClientSecret)
	return idp, providers
}

// TestOAuthSignUpAndSignIn signs up through an OpenID Connect provider on
// loopback from the sign-in page's button, signs out, and signs in again the
// same way, in a real browser: the flow cookie, the provider's redirects and
// the pages' Content-Security-Policy all take part.
func TestOAuthSignUpAndSignIn(t *testing.T) {
	for _, store := range e2e.Stores() {
		t.Run(string(store), func(t *testing.T) {
			idp, providers := corpProvider(t)
			idp.SetUser(oidctest.User{Subject: "e2e-1", Email: "grace@example.com", EmailVerified: true, PreferredUsername: "grace"})
			h := e2e.Start(t, e2e.WithStore(store), e2e.WithConfig(func(c *gatehouse.Config) { c.OAuth.ProvidersFile = providers }))
			b := h.Browser(t)

			b.Navigate("/login")
			if got := b.Text(`a[data-provider="corp"]`); !strings.Contains(got, "Continue with Corp ID") {
				t.Fatalf("sign-in page button = %q, want Continue with Corp ID", got)
			}
			b.Screenshot("login-buttons")
			if got := b.Submit(`a[data-provider="corp"]`); got != http.StatusOK {
				t.Fatalf("sign up with the provider: got status %d, want %d", got, http.StatusOK)
			}
			if got, want := b.Location(), h.URL+"/account"; got != want {
				t.Fatalf("sign-up with the provider leads to %s, want %s", got, want)
			}
			if got := b.Text("#account-username"); got != "grace" {
				t.Errorf("account username = %q, want grace", got)
			}
			if got := b.Text("#identities"); !strings.Contains(got, "Corp ID") || !strings.Contains(got, "grace@example.com") {
				t.Errorf("linked accounts = %q, want Corp ID with grace@example.com", got)
			}
			if c := b.Cookie("gatehouse_oauth"); c != nil {
				t.Errorf("the flow cookie outlived the callback")
			}
			checkSessionCookie(t, b, false)
			b.Screenshot("account-after-sign-up")

			signOut(t, b)
			b.Navigate("/register")
			if got := b.Submit(`a[data-provider="corp"]`); got != http.StatusOK {
				t.Fatalf("sign in with the provider: got status %d, want %d", got, http.StatusOK)
			}
			if got := b.Text("#account-username"); got != "grace" {
				t.Errorf("account username after signing in again = %q, want grace", got)
			}
			if n := len(idp.AuthRequests()); n != 2 {
				t.Errorf("provider saw %d authorization requests, want 2", n)
			}
		})
	}
}
