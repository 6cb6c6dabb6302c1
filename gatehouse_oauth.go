package gatehouse

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/masterkey"
	"github.com/gatehouse-dev/gatehouse/oauthlogin"
	"github.com/gatehouse-dev/gatehouse/totp"
)

// newOAuth builds sign-in through the providers that cfg's providers file
// lists, with client IDs and secrets from the process environment where
// GATEHOUSE_OAUTH_<NAME>_CLIENT_ID and _CLIENT_SECRET are set. It returns
// nil, turning social sign-in off, when no provider is configured; a
// provider configured wrongly stops New, naming it.
func newOAuth(cfg Config, log *slog.Logger, now func() time.Time) (*oauthlogin.Login, error) {
	list, err := cfg.OAuthProviders(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, nil
	}
	providers := make([]oauthlogin.ProviderConfig, 0, len(list))
	for _, p := range list {
		providers = append(providers, oauthlogin.ProviderConfig{
			Name: p.Name, DisplayName: p.DisplayName, Icon: p.Icon, Kind: p.Kind,
			ClientID: p.ClientID, ClientSecret: p.ClientSecret, IssuerURL: p.IssuerURL, Scopes: p.Scopes,
			TrustEmail: p.TrustEmail, AuthURL: p.AuthURL, TokenURL: p.TokenURL, APIURL: p.APIURL,
		})
	}
	login, err := oauthlogin.New(oauthlogin.Config{Providers: providers, Logger: log, Now: now})
	if err != nil {
		return nil, fmt.Errorf("oauth.providers_file %s: %w", cfg.OAuth.ProvidersFile, err)
	}
	return login, nil
}

// newTOTP builds the second factor: TOTP secrets sealed with the master key,
// shown in authenticator apps under mfa.issuer (the product name by
// default).
func newTOTP(cfg Config, st auth.MFAStore, key *masterkey.Key, now func() time.Time) (*totp.Service, error) {
	issuer := cfg.MFA.Issuer
	if issuer == "" {
		issuer = cfg.ProductName
	}
	return totp.New(totp.Config{Store: st, Sealer: key, Issuer: issuer, Now: now})
}
