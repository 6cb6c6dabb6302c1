package oauthlogin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// oidcBackend signs in with an OpenID Connect provider (Google included):
// the endpoints and keys come from discovery, who signed in from the ID
// token.
type oidcBackend struct {
	cfg    ProviderConfig
	now    func() time.Time
	client *http.Client

	mu       sync.Mutex
	op       *oidc.Provider // nil until discovery succeeds
	verifier *oidc.IDTokenVerifier
	issParam bool // authorization_response_iss_parameter_supported
	style    oauth2.AuthStyle
}

// discover runs OpenID Connect discovery once it succeeds; until then, on
// every call. go-oidc checks that the document's issuer is the configured
// one (Discovery 1.0 §4.3).
func (b *oidcBackend) discover(ctx context.Context) (*oidc.Provider, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.op != nil {
		return b.op, nil
	}
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, b.client), b.cfg.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	var meta struct {
		IssParam    bool     `json:"authorization_response_iss_parameter_supported"`
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := op.Claims(&meta); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if op.Endpoint().AuthURL == "" || op.Endpoint().TokenURL == "" {
		return nil, errors.New("discovery: no authorization or token endpoint")
	}
	for _, u := range []string{op.Endpoint().AuthURL, op.Endpoint().TokenURL} {
		if err := checkURL("discovered endpoint", u); err != nil {
			return nil, fmt.Errorf("discovery: %w", err)
		}
	}
	b.op, b.issParam = op, meta.IssParam
	// One client authentication method, chosen from the metadata, rather
	// than x/oauth2's auto-detection, which on any failure sends the code a
	// second time the other way. Discovery 1.0 §3: client_secret_basic when
	// the provider does not say.
	b.style = oauth2.AuthStyleInHeader
	if b.cfg.ClientSecret == "" || len(meta.AuthMethods) > 0 &&
		!slices.Contains(meta.AuthMethods, "client_secret_basic") && slices.Contains(meta.AuthMethods, "client_secret_post") {
		b.style = oauth2.AuthStyleInParams
	}
	// The algorithms default to those the provider advertises that go-oidc
	// supports: asymmetric ones only, never "none" or HMAC (RFC 8725 §3.1).
	b.verifier = op.Verifier(&oidc.Config{ClientID: b.cfg.ClientID, Now: b.now})
	return op, nil
}

func (b *oidcBackend) endpoint(ctx context.Context) (oauth2.Endpoint, error) {
	op, err := b.discover(ctx)
	if err != nil {
		return oauth2.Endpoint{}, err
	}
	ep := op.Endpoint()
	b.mu.Lock()
	ep.AuthStyle = b.style
	b.mu.Unlock()
	return ep, nil
}

func (b *oidcBackend) issuer() string { return b.cfg.IssuerURL }

func (b *oidcBackend) requiresIss() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.issParam
}

func (b *oidcBackend) usesNonce() bool { return true }

// idClaims are the ID token claims read beyond those go-oidc checks.
type idClaims struct {
	AZP               string `json:"azp"`
	Email             string `json:"email"`
	EmailVerified     any    `json:"email_verified"`
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
}

// verified reads email_verified, which some providers send as a string.
// Only an explicit true counts.
func verified(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// claims validates the ID token as OpenID Connect Core 1.0 §3.1.3.7 asks.
func (b *oidcBackend) claims(ctx context.Context, tok *oauth2.Token, f *FlowState) (*Claims, error) {
	b.mu.Lock()
	op, verifier := b.op, b.verifier
	b.mu.Unlock()
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, errors.New("token response has no id_token")
	}
	// Signature, issuer (step 2), audience contains the client ID (step 3),
	// algorithm (steps 6–8), expiry (step 9).
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("id token: %w", err)
	}
	if !slices.Contains(idt.Audience, b.cfg.ClientID) {
		// go-oidc checks this; a second line of defence costs nothing.
		return nil, errors.New("id token: audience is not this client")
	}
	// Step 11: the nonce of this flow, so a token from another flow (a
	// replayed or injected one) is refused.
	if f.Nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return nil, errors.New("id token: nonce does not match the flow")
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("id token claims: %w", err)
	}
	// Steps 4–5: with several audiences the token must say it was issued to
	// this client (azp), and an azp must be this client.
	if len(idt.Audience) > 1 && c.AZP == "" {
		return nil, fmt.Errorf("id token: several audiences %q and no azp", idt.Audience)
	}
	if c.AZP != "" && c.AZP != b.cfg.ClientID {
		return nil, fmt.Errorf("id token: azp %q is not this client", c.AZP)
	}
	if idt.Subject == "" {
		return nil, errors.New("id token: no sub")
	}
	out := &Claims{
		Issuer:        b.cfg.IssuerURL, // go-oidc accepted the token's iss as this issuer
		Subject:       idt.Subject,
		Email:         c.Email,
		EmailVerified: verified(c.EmailVerified),
		Name:          c.Name,
		Username:      c.PreferredUsername,
	}
	if out.Email == "" && op.UserInfoEndpoint() != "" {
		// Some providers put the address only in userinfo. Its "sub" must be
		// the ID token's (Core §5.3.2), or it is about someone else.
		ui, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err == nil && ui.Subject == idt.Subject {
			var uc idClaims
			if ui.Claims(&uc) == nil {
				out.Email, out.EmailVerified = uc.Email, verified(uc.EmailVerified)
				if out.Name == "" {
					out.Name = uc.Name
				}
				if out.Username == "" {
					out.Username = uc.PreferredUsername
				}
			}
		}
	}
	return out, nil
}
