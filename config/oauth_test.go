package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/config"
)

const providersYAML = `
providers:
  - name: google
    kind: google
    client_id: 123.apps.googleusercontent.com
    trust_email: true
  - name: corp-sso
    kind: oidc
    display_name: Corp SSO
    icon: key
    issuer_url: https://login.corp.example
    client_id: gatehouse
    client_secret: from-the-file
    scopes: [openid, email]
`

func writeProviders(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "providers.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOAuthProviders(t *testing.T) {
	c := config.Default()
	c.OAuth.ProvidersFile = writeProviders(t, providersYAML)
	env := map[string]string{
		"GATEHOUSE_OAUTH_GOOGLE_CLIENT_SECRET":   "google-secret",
		"GATEHOUSE_OAUTH_CORP_SSO_CLIENT_SECRET": "corp-secret",
	}
	got, err := c.OAuthProviders(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("OAuthProviders() = %v", err)
	}
	want := []config.OAuthProvider{
		{Name: "google", Kind: "google", ClientID: "123.apps.googleusercontent.com", ClientSecret: "google-secret", TrustEmail: true},
		{Name: "corp-sso", Kind: "oidc", DisplayName: "Corp SSO", Icon: "key", IssuerURL: "https://login.corp.example",
			ClientID: "gatehouse", ClientSecret: "corp-secret", Scopes: []string{"openid", "email"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OAuthProviders() mismatch (-want +got):\n%s", diff)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}

	c.OAuth.ProvidersFile = ""
	if got, err := c.OAuthProviders(nil); err != nil || got != nil {
		t.Errorf("OAuthProviders(no file) = %v, %v; want none", got, err)
	}
}

func TestOAuthProvidersErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", "providers:\n  - name: x\n    kind: oidc\n    client_secrt: s\n", "line 4: field client_secrt not found"},
		{"bad kind", "providers:\n  - name: x\n    kind: facebook\n", `provider 1: x: kind "facebook": must be one of google, github, oidc`},
		{"bad name", "providers:\n  - name: Big Co\n    kind: oidc\n", `provider 1: name "Big Co"`},
		{"twice", "providers:\n  - {name: x, kind: github}\n  - {name: x, kind: google}\n", `provider "x" is listed twice`},
		{"not a list", "providers: google\n", "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			c.OAuth.ProvidersFile = writeProviders(t, tt.yaml)
			_, err := c.OAuthProviders(nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("OAuthProviders() = %v, want an error containing %q", err, tt.want)
			}
			if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "oauth.providers_file: ") {
				t.Errorf("Validate() = %v, want an error naming oauth.providers_file", err)
			}
		})
	}

	c := config.Default()
	c.OAuth.ProvidersFile = filepath.Join(t.TempDir(), "missing.yaml")
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "file does not exist") {
		t.Errorf("Validate(missing file) = %v, want file does not exist", err)
	}
	// The secret is never repeated in an error.
	c.OAuth.ProvidersFile = writeProviders(t, "providers:\n  - name: x\n    kind: nope\n    client_secret: hunter2-secret\n")
	if _, err := c.OAuthProviders(nil); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("OAuthProviders() = %v, want an error without the secret", err)
	}
}

func TestMFARequiredRoles(t *testing.T) {
	c := config.Default()
	c.MFA.RequiredRoles = []string{"admin", "Bad Role"}
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "mfa.required_roles: ") {
		t.Errorf("Validate() = %v, want an error naming mfa.required_roles", err)
	}
	c.MFA.RequiredRoles = []string{"admin"}
	c.Session.ReauthWindow = 0
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "session.reauth_window: ") {
		t.Errorf("Validate() = %v, want an error naming session.reauth_window", err)
	}
}
