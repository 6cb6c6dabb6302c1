package oauthlogin

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/oidctest"
)

func githubProvider(t *testing.T) (*oidctest.GitHub, ProviderConfig) {
	t.Helper()
	gh := oidctest.NewGitHub(oidctest.GitHubOptions{})
	t.Cleanup(gh.Close)
	return gh, ProviderConfig{Name: "github", Kind: KindGitHub, ClientID: gh.ClientID, ClientSecret: gh.ClientSecret,
		AuthURL: gh.AuthURL(), TokenURL: gh.TokenURL(), APIURL: gh.URL}
}

func TestGitHub(t *testing.T) {
	tests := []struct {
		name   string
		user   oidctest.GitHubUser
		emails []oidctest.GitHubEmail
		want   Claims
	}{
		{
			name: "verified primary address",
			user: oidctest.GitHubUser{ID: 583231, Login: "octocat", Name: "The Octocat", Email: "public@example.com"},
			emails: []oidctest.GitHubEmail{
				{Email: "other@example.com", Verified: true},
				{Email: "Octocat@Example.com", Primary: true, Verified: true},
			},
			want: Claims{Subject: "583231", Email: "octocat@example.com", EmailVerified: true, Name: "The Octocat", Username: "octocat"},
		},
		{
			name:   "unverified primary address",
			user:   oidctest.GitHubUser{ID: 7, Login: "newbie"},
			emails: []oidctest.GitHubEmail{{Email: "newbie@example.com", Primary: true}, {Email: "old@example.com", Verified: true}},
			want:   Claims{Subject: "7", Email: "newbie@example.com", Username: "newbie"},
		},
		{
			// The public profile address is not used: GitHub does not
			// promise it is verified.
			name: "no addresses readable",
			user: oidctest.GitHubUser{ID: 8, Login: "private", Email: "public@example.com"},
			want: Claims{Subject: "8", Username: "private"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gh, pc := githubProvider(t)
			gh.SetUser(tc.user, tc.emails...)
			e := newEnv(t, pc)
			got, err := e.signIn(t, "github")
			if err != nil {
				t.Fatalf("Finish() = %v", err)
			}
			want := tc.want
			want.Provider, want.Issuer = "github", gh.URL
			if d := cmp.Diff(&want, got); d != "" {
				t.Errorf("Finish() claims (-want +got):\n%s", d)
			}
			auths, toks := gh.AuthRequests(), gh.TokenRequests()
			if len(auths) != 1 || auths[0].CodeChallengeMethod != "S256" || auths[0].Nonce != "" ||
				auths[0].Scope != "read:user user:email" {
				t.Errorf("authorization requests = %+v; want one with S256 PKCE, no nonce, read:user user:email", auths)
			}
			if len(toks) != 1 || toks[0].Error != "" || toks[0].ClientAuth != "post" ||
				oauth2.S256ChallengeFromVerifier(toks[0].CodeVerifier) != auths[0].CodeChallenge {
				t.Errorf("token requests = %+v; want one, authenticated in the body, with the verifier", toks)
			}
		})
	}
}

func TestGitHubRejects(t *testing.T) {
	tests := []struct {
		name  string
		setup func(gh *oidctest.GitHub)
		query func(q map[string][]string)
		want  error
	}{
		{name: "user cancels", setup: func(gh *oidctest.GitHub) { gh.SetDeny(true) }, want: ErrDenied},
		{name: "tampered state", query: func(q map[string][]string) { q["state"] = []string{"x"} }, want: ErrInvalidState},
		{name: "iss that is not GitHub", query: func(q map[string][]string) { q["iss"] = []string{"https://evil.example"} }, want: ErrInvalidState},
		{name: "unknown code", query: func(q map[string][]string) { q["code"] = []string{"forged"} }, want: ErrExchange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gh, pc := githubProvider(t)
			if tc.setup != nil {
				tc.setup(gh)
			}
			e := newEnv(t, pc)
			fs, q := e.start(t, "github")
			if tc.query != nil {
				tc.query(q)
			}
			c, err := e.login.Finish(ctx, "github", fs, q)
			if c != nil || !errors.Is(err, tc.want) {
				t.Errorf("Finish() = %+v, %v; want %v", c, err, tc.want)
			}
			if msg := auth.ErrorMessage(err); strings.Contains(msg, "denied your application") {
				t.Errorf("message %q leaks GitHub's error", msg)
			}
		})
	}
}

func TestGitHubIssuer(t *testing.T) {
	l, err := New(Config{Providers: []ProviderConfig{{Name: "github", Kind: KindGitHub, ClientID: "id", ClientSecret: "s"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.providers["github"].b.issuer(); got != "https://github.com" {
		t.Errorf("GitHub.com issuer = %q, want https://github.com", got)
	}
}
