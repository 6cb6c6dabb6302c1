// Package oidctest runs fake identity providers on 127.0.0.1 for Gatehouse's
// tests: a real OpenID Connect provider (discovery, authorization endpoint,
// token endpoint, userinfo, JWKS; ID tokens signed with RS256 or ES256) and a
// GitHub-shaped OAuth server. Both speak the protocol over real HTTP, so the
// client under test runs exactly as it does against Google or GitHub.
//
// The authorization endpoint approves at once, as a configurable user, and
// records every request (state, nonce, PKCE challenge, redirect URI). The
// token endpoint checks the client's credentials, the code (single use, one
// minute), the redirect URI and the PKCE verifier, as a strict provider does.
//
// Faults make the provider misbehave in one chosen way at a time (a wrong
// nonce, another issuer or audience, an expired token, alg "none", a bad
// signature, a mix-up "iss"), so that tests can show the client refuses each.
//
// The provider was written for these tests rather than taken from an
// existing one: a production provider cannot be told to misbehave, and the
// ones that build as Go libraries pull in dozens of modules.
package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Options configures a Provider.
type Options struct {
	// ClientID is the one registered client. Default: "gatehouse-test".
	ClientID string
	// ClientSecret is its secret. Default: "gatehouse-test-secret".
	ClientSecret string
	// Alg signs ID tokens: "RS256" or "ES256". Default: "RS256".
	Alg string
	// RedirectURIs are the registered redirect URIs. Default: none, which
	// allows any absolute URI (the token endpoint still checks that it
	// matches the authorization request's).
	RedirectURIs []string
	// NoIssParameter makes the provider neither send the RFC 9207 "iss"
	// authorization response parameter nor advertise it. Default: false.
	NoIssParameter bool
}

// User is the account the provider signs in as.
type User struct {
	// Subject is the "sub" of its ID tokens; the rest are the claims of
	// the same names.
	Subject           string
	Email             string
	EmailVerified     bool
	Name              string
	PreferredUsername string
}

// Faults make the provider misbehave. The zero value is a correct provider.
type Faults struct {
	// Nonce replaces the nonce of the authorization request in ID tokens.
	Nonce string
	// NoNonce leaves the nonce out of ID tokens.
	NoNonce bool
	// Issuer replaces the "iss" of ID tokens.
	Issuer string
	// Audience replaces the "aud" of ID tokens (a string when it has one
	// member, an array otherwise).
	Audience []string
	// AZP sets the "azp" (authorized party) claim.
	AZP string
	// Expired issues ID tokens that expired an hour ago.
	Expired bool
	// AlgNone issues unsigned ID tokens with alg "none" (RFC 7519 §6).
	AlgNone bool
	// BadSignature issues ID tokens whose signature has one byte flipped.
	BadSignature bool
	// AuthorizationIss replaces the RFC 9207 "iss" parameter of the
	// authorization response; "-" leaves it out.
	AuthorizationIss string
	// Deny answers authorization requests with error=access_denied.
	Deny bool
	// EmailVerifiedAsString sends email_verified as the string "true" or
	// "false", as some providers do.
	EmailVerifiedAsString bool
}

// Provider is an OpenID Connect provider on 127.0.0.1. It is safe for
// concurrent use.
type Provider struct {
	// Issuer is the provider's issuer identifier and base URL.
	Issuer string
	// ClientID and ClientSecret are the one registered client's.
	ClientID     string
	ClientSecret string

	*authz
	srv   *httptest.Server
	alg   jose.SignatureAlgorithm
	key   crypto.Signer
	kid   string
	noIss bool

	mu     sync.Mutex
	user   User
	faults Faults
	access map[string]User // access token → user, for userinfo
}

// New starts a provider; Close stops it. The default user is subject
// "1001", alice@example.com, verified.
func New(opts Options) *Provider {
	if opts.ClientID == "" {
		opts.ClientID = "gatehouse-test"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "gatehouse-test-secret"
	}
	p := &Provider{
		ClientID:     opts.ClientID,
		ClientSecret: opts.ClientSecret,
		authz:        newAuthz(opts.ClientID, opts.ClientSecret, opts.RedirectURIs),
		kid:          random()[:16],
		noIss:        opts.NoIssParameter,
		user:         User{Subject: "1001", Email: "alice@example.com", EmailVerified: true, Name: "Alice Liddell", PreferredUsername: "alice"},
		access:       map[string]User{},
	}
	switch opts.Alg {
	case "", "RS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		p.alg, p.key = jose.RS256, k
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		p.alg, p.key = jose.ES256, k
	default:
		panic("oidctest: unsupported Alg " + opts.Alg)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /authorize", p.authorizeHandler)
	mux.HandleFunc("/token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	mux.HandleFunc("GET /jwks", p.jwks)
	p.srv = httptest.NewServer(mux)
	p.Issuer = p.srv.URL
	return p
}

// Close stops the provider.
func (p *Provider) Close() { p.srv.Close() }

// SetUser makes the provider sign in as u from now on.
func (p *Provider) SetUser(u User) {
	p.mu.Lock()
	p.user = u
	p.mu.Unlock()
}

// SetFaults makes the provider misbehave as f says, from now on; Faults{}
// makes it correct again.
func (p *Provider) SetFaults(f Faults) {
	p.mu.Lock()
	p.faults = f
	p.mu.Unlock()
}

func (p *Provider) state() (User, Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.user, p.faults
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// discovery serves the provider metadata (OpenID Connect Discovery 1.0 §3,
// RFC 8414, RFC 9207 §3).
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                         p.Issuer,
		"authorization_endpoint":                         p.Issuer + "/authorize",
		"token_endpoint":                                 p.Issuer + "/token",
		"userinfo_endpoint":                              p.Issuer + "/userinfo",
		"jwks_uri":                                       p.Issuer + "/jwks",
		"response_types_supported":                       []string{"code"},
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{string(p.alg)},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                               []string{"openid", "email", "profile"},
		"authorization_response_iss_parameter_supported": !p.noIss,
	})
}

func (p *Provider) authorizeHandler(w http.ResponseWriter, r *http.Request) {
	req, err := p.authorize(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	user, faults := p.state()
	params := url.Values{}
	if req.State != "" {
		params.Set("state", req.State)
	}
	// RFC 9207 §2: the issuer identifies who answered.
	switch iss := faults.AuthorizationIss; {
	case iss == "-":
	case iss != "":
		params.Set("iss", iss)
	case !p.noIss:
		params.Set("iss", p.Issuer)
	}
	switch {
	case faults.Deny:
		params.Set("error", "access_denied")
		params.Set("error_description", "The user <b>denied</b> the request.")
	case req.ResponseType != "code":
		params.Set("error", "unsupported_response_type")
	case !strings.Contains(" "+req.Scope+" ", " openid "):
		params.Set("error", "invalid_scope")
	default:
		params.Set("code", p.issueCode(req, user))
	}
	redirect(w, r, req.RedirectURI, params)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	g, oerr := p.redeem(r)
	if oerr != nil {
		writeJSON(w, oerr.status, map[string]string{"error": oerr.code, "error_description": oerr.description})
		return
	}
	_, faults := p.state()
	user := g.user.(User)
	idToken, err := p.idToken(user, g.req.Nonce, faults)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	at := random()
	p.mu.Lock()
	p.access[at] = user
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": at,
		"token_type":   "Bearer",
		"expires_in":   3600,
		"scope":        g.req.Scope,
		"id_token":     idToken,
	})
}

func (p *Provider) claims(u User, nonce string, f Faults) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss":   p.Issuer,
		"sub":   u.Subject,
		"aud":   p.ClientID,
		"iat":   now.Unix(),
		"exp":   now.Add(5 * time.Minute).Unix(),
		"nonce": nonce,
	}
	if u.Email != "" {
		c["email"] = u.Email
		if f.EmailVerifiedAsString {
			c["email_verified"] = fmt.Sprint(u.EmailVerified)
		} else {
			c["email_verified"] = u.EmailVerified
		}
	}
	if u.Name != "" {
		c["name"] = u.Name
	}
	if u.PreferredUsername != "" {
		c["preferred_username"] = u.PreferredUsername
	}
	switch {
	case f.NoNonce:
		delete(c, "nonce")
	case f.Nonce != "":
		c["nonce"] = f.Nonce
	}
	if f.Issuer != "" {
		c["iss"] = f.Issuer
	}
	switch len(f.Audience) {
	case 0:
	case 1:
		c["aud"] = f.Audience[0]
	default:
		c["aud"] = f.Audience
	}
	if f.AZP != "" {
		c["azp"] = f.AZP
	}
	if f.Expired {
		c["iat"] = now.Add(-2 * time.Hour).Unix()
		c["exp"] = now.Add(-time.Hour).Unix()
	}
	return c
}

// idToken makes an ID token (OpenID Connect Core 1.0 §2) for u.
func (p *Provider) idToken(u User, nonce string, f Faults) (string, error) {
	payload, err := json.Marshal(p.claims(u, nonce, f))
	if err != nil {
		return "", err
	}
	if f.AlgNone {
		header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		return header + "." + base64.RawURLEncoding.EncodeToString(payload) + ".", nil
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: p.alg, Key: jose.JSONWebKey{Key: p.key, KeyID: p.kid, Algorithm: string(p.alg)}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		return "", err
	}
	if f.BadSignature {
		parts := strings.Split(token, ".")
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sig[len(sig)/2] ^= 0x01
		parts[2] = base64.RawURLEncoding.EncodeToString(sig)
		token = strings.Join(parts, ".")
	}
	return token, nil
}

func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	u, known := p.access[at]
	p.mu.Unlock()
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	c := map[string]any{"sub": u.Subject}
	if u.Email != "" {
		c["email"], c["email_verified"] = u.Email, u.EmailVerified
	}
	if u.Name != "" {
		c["name"] = u.Name
	}
	if u.PreferredUsername != "" {
		c["preferred_username"] = u.PreferredUsername
	}
	writeJSON(w, http.StatusOK, c)
}

// jwks publishes the public signing key (RFC 7517 §5).
func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: p.key.Public(), KeyID: p.kid, Algorithm: string(p.alg), Use: "sig",
	}}})
}
