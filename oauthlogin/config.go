package oauthlogin

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Provider kinds.
const (
	KindOIDC   = "oidc"   // any OpenID Connect provider, found by discovery from IssuerURL
	KindGoogle = "google" // Google: OpenID Connect with GoogleIssuer
	KindGitHub = "github" // GitHub: OAuth 2.0 plus the REST API for the user and addresses
)

// ProviderConfig describes one provider users can sign in with.
type ProviderConfig struct {
	// Name identifies the provider in URLs (/oauth/{name}/start) and in the
	// stored identities: 1–32 characters of lowercase letters, digits, '-'
	// and '_'. Required. Renaming a provider detaches the identities linked
	// under the old name.
	Name string `yaml:"name"`
	// DisplayName is shown on the sign-in button. Default: "Google" or
	// "GitHub" for those kinds, the Name otherwise.
	DisplayName string `yaml:"display_name"`
	// Icon names the button's icon for the hosted pages. Default: the Kind.
	Icon string `yaml:"icon"`
	// Kind is KindOIDC, KindGoogle or KindGitHub. Required.
	Kind string `yaml:"kind"`
	// ClientID is the client ID the provider issued to Gatehouse. Required.
	ClientID string `yaml:"client_id"`
	// ClientSecret is the client's secret. Required for Google and GitHub;
	// may be empty for an OpenID Connect provider that registered
	// Gatehouse as a public client (PKCE protects the code either way).
	ClientSecret string `yaml:"client_secret"`
	// IssuerURL is the OpenID Connect issuer; discovery reads
	// IssuerURL/.well-known/openid-configuration. Required for KindOIDC;
	// for KindGoogle it defaults to GoogleIssuer (set it only in tests).
	// Must be https, except on a loopback host.
	IssuerURL string `yaml:"issuer_url"`
	// Scopes to ask for. Default: openid, email, profile for OpenID Connect
	// (openid is added when missing); read:user, user:email for GitHub.
	Scopes []string `yaml:"scopes"`
	// TrustEmail links a sign-in to an existing account with the same
	// address without asking, when the provider says the address is
	// verified and the account's address is verified too. Set it only for
	// providers that own the addresses they vouch for (Google for gmail.com
	// and Workspace domains); see the package documentation. Default: false.
	TrustEmail bool `yaml:"trust_email"`
	// AuthURL, TokenURL and APIURL replace GitHub's endpoints, for GitHub
	// Enterprise Server and for tests. Defaults: GitHub.com's. Ignored for
	// other kinds, which discover their endpoints. Must be https, except on
	// a loopback host.
	AuthURL  string `yaml:"auth_url"`
	TokenURL string `yaml:"token_url"`
	APIURL   string `yaml:"api_url"`
}

// Config configures a Login.
type Config struct {
	// Providers are the providers users can sign in with, in the order the
	// sign-in page shows them. Default: none.
	Providers []ProviderConfig
	// HTTPClient talks to the providers. Default: a client with a
	// 10-second timeout.
	HTTPClient *http.Client
	// Logger receives the details of failed sign-ins, which users are not
	// shown. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

func validName(name string) bool {
	if name == "" || len(name) > 32 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// checkURL accepts an absolute https URL, or http on a loopback host (for
// development and tests): anything else would send codes and secrets in
// the clear.
func checkURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%s %q must be an absolute URL", what, raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("%s %q must use https", what, raw)
}

// withDefaults validates c and fills in its defaults.
func (c ProviderConfig) withDefaults() (ProviderConfig, error) {
	if !validName(c.Name) {
		return c, fmt.Errorf("provider name %q: use 1-32 lowercase letters, digits, - and _", c.Name)
	}
	errorf := func(format string, args ...any) error {
		return fmt.Errorf("provider %s: %s", c.Name, fmt.Sprintf(format, args...))
	}
	if c.ClientID == "" {
		return c, errorf("client_id is required")
	}
	switch c.Kind {
	case KindGoogle:
		if c.IssuerURL == "" {
			c.IssuerURL = GoogleIssuer
		}
		if c.DisplayName == "" {
			c.DisplayName = "Google"
		}
		fallthrough
	case KindOIDC:
		if c.Kind == KindGoogle && c.ClientSecret == "" {
			return c, errorf("client_secret is required")
		}
		if c.IssuerURL == "" {
			return c, errorf("issuer_url is required")
		}
		if err := checkURL("issuer_url", c.IssuerURL); err != nil {
			return c, errorf("%v", err)
		}
		if len(c.Scopes) == 0 {
			c.Scopes = []string{"openid", "email", "profile"}
		} else if !slices.Contains(c.Scopes, "openid") {
			c.Scopes = append([]string{"openid"}, c.Scopes...)
		}
	case KindGitHub:
		if c.ClientSecret == "" {
			return c, errorf("client_secret is required")
		}
		if c.DisplayName == "" {
			c.DisplayName = "GitHub"
		}
		if c.AuthURL == "" {
			c.AuthURL = githubAuthURL
		}
		if c.TokenURL == "" {
			c.TokenURL = githubTokenURL
		}
		if c.APIURL == "" {
			c.APIURL = githubAPIURL
		}
		c.APIURL = strings.TrimSuffix(c.APIURL, "/")
		for _, u := range []struct{ what, raw string }{{"auth_url", c.AuthURL}, {"token_url", c.TokenURL}, {"api_url", c.APIURL}} {
			if err := checkURL(u.what, u.raw); err != nil {
				return c, errorf("%v", err)
			}
		}
		if len(c.Scopes) == 0 {
			c.Scopes = []string{"read:user", "user:email"}
		}
	default:
		return c, errorf("kind %q: use oidc, google or github", c.Kind)
	}
	if c.DisplayName == "" {
		c.DisplayName = c.Name
	}
	if c.Icon == "" {
		c.Icon = c.Kind
	}
	return c, nil
}

func (cfg *Config) validate() error {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	seen := map[string]bool{}
	var errs []error
	for i, p := range cfg.Providers {
		p, err := p.withDefaults()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("provider %s: configured twice", p.Name))
		}
		seen[p.Name] = true
		cfg.Providers[i] = p
	}
	if len(errs) > 0 {
		return fmt.Errorf("oauthlogin: %w", errors.Join(errs...))
	}
	return nil
}
