package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// OAuth configures sign-in through outside identity providers.
//
// The providers are a list of structures, which the key table (scalars and
// lists of strings, each with an environment variable and a flag) cannot
// express; rather than give the whole loader a second shape of value, they
// live in a YAML file of their own that this key names. Secrets need not be
// in that file: GATEHOUSE_OAUTH_<NAME>_CLIENT_SECRET (NAME the provider's
// name in capitals, '-' as '_') overrides a provider's client_secret, and
// GATEHOUSE_OAUTH_<NAME>_CLIENT_ID its client_id. See docs/social-login.md.
type OAuth struct {
	// ProvidersFile is the YAML file that lists the providers users can
	// sign in with (OAuthProvider). Default "" (no social sign-in).
	ProvidersFile string `yaml:"providers_file" env:"GATEHOUSE_OAUTH_PROVIDERS_FILE" flag:"oauth-providers-file" help:"YAML file listing the sign-in providers (Google, GitHub, OpenID Connect); secrets may come from GATEHOUSE_OAUTH_<NAME>_CLIENT_SECRET instead; empty turns social sign-in off."`
}

// MFA configures the second factor (TOTP from an authenticator app, with
// recovery codes).
type MFA struct {
	// RequiredRoles lists roles whose holders must turn TOTP on: until they
	// do, their sessions reach only the set-up pages (see
	// docs/social-login.md). Default empty.
	RequiredRoles []string `yaml:"required_roles" env:"GATEHOUSE_MFA_REQUIRED_ROLES" help:"Roles whose holders must set up two-step verification (TOTP); until they do, their sessions reach only the set-up pages and sign-out."`

	// Issuer is the name authenticator apps show above the account.
	// Default "" (product_name).
	Issuer string `yaml:"issuer" env:"GATEHOUSE_MFA_ISSUER" help:"Name authenticator apps show for Gatehouse accounts; empty means product_name."`
}

// OAuthProvider is one provider in the providers file. Its fields mirror
// oauthlogin.ProviderConfig, which documents each one and its default.
type OAuthProvider struct {
	Name         string   `yaml:"name"`
	Kind         string   `yaml:"kind"`
	DisplayName  string   `yaml:"display_name"`
	Icon         string   `yaml:"icon"`
	ClientID     string   `yaml:"client_id"`
	ClientSecret string   `yaml:"client_secret"`
	IssuerURL    string   `yaml:"issuer_url"`
	Scopes       []string `yaml:"scopes"`
	TrustEmail   bool     `yaml:"trust_email"`
	AuthURL      string   `yaml:"auth_url"`
	TokenURL     string   `yaml:"token_url"`
	APIURL       string   `yaml:"api_url"`
}

// providersFile is the shape of the providers file.
type providersFile struct {
	Providers []OAuthProvider `yaml:"providers"`
}

// OAuthEnv returns the environment variable that overrides a provider's
// field ("CLIENT_SECRET" or "CLIENT_ID"): GATEHOUSE_OAUTH_GOOGLE_CLIENT_SECRET
// for the provider named google.
func OAuthEnv(provider, field string) string {
	return "GATEHOUSE_OAUTH_" + strings.ToUpper(strings.ReplaceAll(provider, "-", "_")) + "_" + field
}

// OAuthProviders reads the providers file that OAuth.ProvidersFile names
// (none when it is empty), applies the environment overrides of client IDs
// and secrets through lookupEnv (nil reads none), and checks each entry's
// shape: a name, a known kind, no name twice. What each kind needs beyond
// that (a client ID, an issuer URL, a secret, any of which may come from the
// environment) is checked by package oauthlogin when Gatehouse starts. Unknown fields are errors, with their line, so a
// misspelt key cannot be silently ignored. Errors never repeat a secret.
func (c *Config) OAuthProviders(lookupEnv func(string) (string, bool)) ([]OAuthProvider, error) {
	path := c.OAuth.ProvidersFile
	if path == "" {
		return nil, nil
	}
	where := "oauth.providers_file " + path + ": "
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New(where + "file does not exist")
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, errors.New(where + err.Error())
	}
	var f providersFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, errors.New(where + strings.TrimPrefix(err.Error(), "yaml: "))
	}
	seen := map[string]bool{}
	for i := range f.Providers {
		p := &f.Providers[i]
		if lookupEnv != nil {
			if v, ok := lookupEnv(OAuthEnv(p.Name, "CLIENT_ID")); ok {
				p.ClientID = v
			}
			if v, ok := lookupEnv(OAuthEnv(p.Name, "CLIENT_SECRET")); ok {
				p.ClientSecret = v
			}
		}
		if problem := checkProvider(p); problem != "" {
			return nil, fmt.Errorf("%sprovider %d: %s", where, i+1, problem)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("%sprovider %q is listed twice", where, p.Name)
		}
		seen[p.Name] = true
	}
	return f.Providers, nil
}

func checkProvider(p *OAuthProvider) string {
	if p.Name == "" || len(p.Name) > 32 || strings.TrimFunc(p.Name, func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
	}) != "" {
		return fmt.Sprintf("name %q: use 1 to 32 lowercase letters, digits, - and _", p.Name)
	}
	if problem := oneOf(p.Kind, "google", "github", "oidc"); problem != "" {
		return p.Name + ": kind " + problem
	}
	return ""
}

// checkProvidersFile is the key's check: the file reads and each entry has
// its shape. Secrets may still come from the environment, so their absence
// is left to start-up.
func checkProvidersFile(c *Config) string {
	if _, err := c.OAuthProviders(nil); err != nil {
		msg := err.Error()
		return strings.TrimPrefix(msg, "oauth.providers_file ")
	}
	return ""
}

// checkRequiredRoles checks mfa.required_roles as role names.
func checkRequiredRoles(c *Config) string {
	return eachOf(c.MFA.RequiredRoles, func(r string) string {
		if auth.ValidateRoleName(r) != "" {
			return fmt.Sprintf("%q: must be a role name of 1 to 64 lowercase letters, digits and _ - . :", r)
		}
		return ""
	})
}
