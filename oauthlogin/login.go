package oauthlogin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// Causes of the errors Login returns, for errors.Is. The errors themselves
// are *auth.Error values whose messages are safe to show; the provider's
// own words go to the log only.
var (
	// ErrUnknownProvider: no provider has that name (code not_found).
	ErrUnknownProvider = errors.New("oauthlogin: unknown provider")
	// ErrInvalidState: the callback does not belong to a flow this browser
	// started, or the flow expired: state, flow cookie, provider or RFC 9207
	// issuer do not match (code invalid_request).
	ErrInvalidState = errors.New("oauthlogin: invalid or expired flow state")
	// ErrDenied: the provider answered with an error, usually because the
	// user cancelled (code invalid_credentials).
	ErrDenied = errors.New("oauthlogin: the provider refused the sign-in")
	// ErrExchange: the code could not be traded for tokens, or the
	// provider's answer did not check out: a bad ID token, nonce or
	// user record (code invalid_credentials).
	ErrExchange = errors.New("oauthlogin: the provider's answer was not accepted")
	// ErrNoEmail: the provider shared no usable email address, and one is
	// needed to make an account (code validation_failed; from Decide).
	ErrNoEmail = errors.New("oauthlogin: no email address from the provider")
)

// Claims is who the provider says signed in.
type Claims struct {
	// Provider is the configured provider's name.
	Provider string
	// Issuer and Subject identify the outside account: the provider's
	// configured issuer (not the token's spelling of it) and its stable
	// user identifier.
	Issuer  string
	Subject string
	// Email is the normalised address the provider gave, or "" when it gave
	// none that is valid. EmailVerified is true only when the provider
	// explicitly says the address is verified.
	Email         string
	EmailVerified bool
	// Name is the person's display name, if any.
	Name string
	// Username is a suggestion for a new account's username (the
	// provider's preferred_username or login), if any; it is not checked.
	Username string
}

// Identity returns the identity record for these claims, to link to userID.
func (c *Claims) Identity(userID string) *auth.Identity {
	return &auth.Identity{
		UserID:        userID,
		Provider:      c.Provider,
		Issuer:        c.Issuer,
		Subject:       c.Subject,
		Email:         c.Email,
		EmailVerified: c.EmailVerified,
	}
}

// backend is what differs between provider kinds.
type backend interface {
	// endpoint returns the authorization and token endpoints; for OpenID
	// Connect it runs discovery the first time.
	endpoint(ctx context.Context) (oauth2.Endpoint, error)
	// issuer is the identifier that RFC 9207's "iss" and the identities use.
	issuer() string
	// requiresIss reports whether the provider promises the RFC 9207 "iss"
	// parameter (so a response without it is refused).
	requiresIss() bool
	// usesNonce reports whether the flow carries an OpenID Connect nonce.
	usesNonce() bool
	// claims checks the token response and says who signed in. Its errors
	// are for the log.
	claims(ctx context.Context, tok *oauth2.Token, f *FlowState) (*Claims, error)
}

type provider struct {
	cfg ProviderConfig
	b   backend
}

// ProviderInfo is what a sign-in page needs to show a provider's button.
type ProviderInfo struct {
	// Name goes in the start URL: /oauth/{name}/start.
	Name string `json:"name"`
	// DisplayName is the button's label, Icon names its icon.
	DisplayName string `json:"display_name"`
	Icon        string `json:"icon"`
}

// Login runs sign-ins at the configured providers. It is safe for
// concurrent use.
type Login struct {
	providers map[string]*provider
	order     []string
	cfg       Config
}

// New checks cfg and returns a Login. It does not contact the providers:
// OpenID Connect discovery runs at the first sign-in with each, and is
// retried while it fails, so that Gatehouse starts while a provider is down.
func New(cfg Config) (*Login, error) {
	cfg.Providers = slices.Clone(cfg.Providers)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l := &Login{providers: map[string]*provider{}, cfg: cfg}
	for _, pc := range cfg.Providers {
		p := &provider{cfg: pc}
		switch pc.Kind {
		case KindOIDC, KindGoogle:
			p.b = &oidcBackend{cfg: pc, now: cfg.Now, client: cfg.HTTPClient}
		case KindGitHub:
			p.b = &githubBackend{cfg: pc, client: cfg.HTTPClient}
		}
		l.providers[pc.Name] = p
		l.order = append(l.order, pc.Name)
	}
	return l, nil
}

// Providers lists the configured providers in their configured order.
func (l *Login) Providers() []ProviderInfo {
	out := make([]ProviderInfo, 0, len(l.order))
	for _, name := range l.order {
		c := l.providers[name].cfg
		out = append(out, ProviderInfo{Name: c.Name, DisplayName: c.DisplayName, Icon: c.Icon})
	}
	return out
}

// ProviderConfig returns the configuration of the named provider, with its
// defaults filled in, for Decide.
func (l *Login) ProviderConfig(name string) (ProviderConfig, bool) {
	p, ok := l.providers[name]
	if !ok {
		return ProviderConfig{}, false
	}
	return p.cfg, true
}

func (l *Login) provider(name string) (*provider, error) {
	p, ok := l.providers[name]
	if !ok {
		return nil, &auth.Error{Code: auth.ENotFound, Message: "There is no such sign-in provider.", Err: ErrUnknownProvider}
	}
	return p, nil
}

// withClient makes the oauth2 and go-oidc calls use the configured client.
func (l *Login) withClient(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, l.cfg.HTTPClient)
}

func (p *provider) oauth2Config(ep oauth2.Endpoint, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint:     ep,
		RedirectURL:  redirectURL,
		Scopes:       p.cfg.Scopes,
	}
}

// Start begins a sign-in with the named provider. redirectURL is the
// callback URL registered with the provider (absolute; for Gatehouse,
// {public URL}/oauth/{provider}/callback); returnTo is carried through
// untouched and must be validated by the caller, here and at the end.
//
// It returns the URL to send the browser to, and the flow state to keep in
// the browser until the callback (FlowState.Cookie).
func (l *Login) Start(ctx context.Context, providerName, redirectURL, returnTo string) (authURL string, state *FlowState, err error) {
	p, err := l.provider(providerName)
	if err != nil {
		return "", nil, err
	}
	if err := checkURL("redirect URL", redirectURL); err != nil {
		return "", nil, auth.Internal(fmt.Errorf("oauthlogin: %w", err))
	}
	if len(returnTo) > 2048 {
		return "", nil, auth.Errorf(auth.EInvalidRequest, "The return address is too long.")
	}
	ep, err := p.b.endpoint(l.withClient(ctx))
	if err != nil {
		return "", nil, auth.Internal(fmt.Errorf("oauthlogin: provider %s: %w", p.cfg.Name, err))
	}
	f := &FlowState{
		State:       randomString(),
		Verifier:    oauth2.GenerateVerifier(),
		Provider:    p.cfg.Name,
		RedirectURL: redirectURL,
		ReturnTo:    returnTo,
		CreatedAt:   l.cfg.Now().UTC(),
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.Verifier)}
	if p.b.usesNonce() {
		f.Nonce = randomString()
		opts = append(opts, oauth2.SetAuthURLParam("nonce", f.Nonce))
	}
	return p.oauth2Config(ep, redirectURL).AuthCodeURL(f.State, opts...), f, nil
}

// stateError is the error for a callback that does not belong to its flow.
func stateError(cause string) error {
	return &auth.Error{Code: auth.EInvalidRequest, Message: "This sign-in attempt is not valid or has expired. Please start again.",
		Err: fmt.Errorf("%w: %s", ErrInvalidState, cause)}
}

// failed logs why a sign-in at a provider failed and returns the one error
// the user sees for every such failure.
func (l *Login) failed(ctx context.Context, p *provider, sentinel error, level slog.Level, cause error) error {
	l.cfg.Logger.LogAttrs(ctx, level, "oauth sign-in failed",
		slog.String("provider", p.cfg.Name), slog.String("error", truncate(cause.Error(), 500)))
	return &auth.Error{Code: auth.EInvalidCredentials,
		Message: fmt.Sprintf("Signing in with %s was cancelled or did not succeed. Please try again.", p.cfg.DisplayName),
		Err:     fmt.Errorf("%w: %w", sentinel, cause)}
}

// truncate cuts s to at most n bytes, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// single returns the one value of a query parameter. A parameter given more
// than once is refused: which copy a check reads must not be up to whoever
// wrote the URL.
func single(q url.Values, key string) (string, bool) {
	v := q[key]
	switch len(v) {
	case 0:
		return "", true
	case 1:
		return v[0], true
	}
	return "", false
}

// Finish completes a sign-in at the callback. state is the flow state from
// the browser's flow cookie (nil when it had none), query the callback's
// query parameters. It checks that the callback belongs to the flow, trades
// the code for tokens with the PKCE verifier, verifies the ID token (or, for
// GitHub, reads the user and their primary address), and says who signed in.
//
// The errors are *auth.Error values with a message for the user; the
// provider's own error text is logged, never returned.
func (l *Login) Finish(ctx context.Context, providerName string, state *FlowState, query url.Values) (*Claims, error) {
	c, err := l.finish(ctx, providerName, state, query)
	if errors.Is(err, ErrInvalidState) {
		// Stale tabs do this, and so do CSRF and mix-up attempts.
		l.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "oauth callback refused",
			slog.String("provider", providerName), slog.String("error", truncate(errors.Unwrap(err).Error(), 500)))
	}
	return c, err
}

func (l *Login) finish(ctx context.Context, providerName string, state *FlowState, query url.Values) (*Claims, error) {
	p, err := l.provider(providerName)
	if err != nil {
		return nil, err
	}
	if state == nil {
		return nil, stateError("no flow state (missing or unreadable flow cookie)")
	}
	// OA-05: the flow is bound to the provider it was started with.
	if state.Provider != p.cfg.Name {
		return nil, stateError(fmt.Sprintf("flow started with provider %q, callback for %q", state.Provider, p.cfg.Name))
	}
	now := l.cfg.Now()
	if age := now.Sub(state.CreatedAt); age > FlowMaxAge || age < -time.Minute {
		return nil, stateError(fmt.Sprintf("flow state is %v old", age.Round(time.Second)))
	}
	if state.Verifier == "" || p.b.usesNonce() && state.Nonce == "" {
		return nil, stateError("flow state lacks its PKCE verifier or nonce")
	}
	params := map[string]string{}
	for _, k := range []string{"state", "code", "iss", "error", "error_description"} {
		v, ok := single(query, k)
		if !ok {
			return nil, stateError("parameter " + k + " given more than once")
		}
		params[k] = v
	}
	// RFC 6749 §10.12: the state must be the one this browser's flow sent.
	if params["state"] == "" || subtle.ConstantTimeCompare([]byte(params["state"]), []byte(state.State)) != 1 {
		return nil, stateError("state parameter does not match the flow")
	}
	// RFC 9207 §2.4: compare "iss" before anything else in the response,
	// error responses included; a provider that promises it must send it.
	iss, hasIss := query["iss"]
	switch {
	case hasIss && iss[0] != p.b.issuer():
		return nil, stateError(fmt.Sprintf("iss %q is not the provider's issuer %q (mix-up)", truncate(iss[0], 200), p.b.issuer()))
	case !hasIss && p.b.requiresIss():
		return nil, stateError("iss parameter missing though the provider advertises it")
	}
	if e := params["error"]; e != "" {
		level := slog.LevelInfo // usually the user pressing Cancel
		if e != "access_denied" {
			level = slog.LevelWarn
		}
		return nil, l.failed(ctx, p, ErrDenied, level,
			fmt.Errorf("provider error %q: %q", truncate(e, 100), truncate(params["error_description"], 300)))
	}
	if params["code"] == "" {
		return nil, stateError("callback without a code")
	}

	ctx = l.withClient(ctx)
	ep, err := p.b.endpoint(ctx)
	if err != nil {
		return nil, auth.Internal(fmt.Errorf("oauthlogin: provider %s: %w", p.cfg.Name, err))
	}
	tok, err := p.oauth2Config(ep, state.RedirectURL).Exchange(ctx, params["code"], oauth2.VerifierOption(state.Verifier))
	if err != nil {
		level := slog.LevelWarn
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client" {
			level = slog.LevelError // the provider is down or Gatehouse's client is misconfigured
		}
		return nil, l.failed(ctx, p, ErrExchange, level, fmt.Errorf("exchange code: %w", err))
	}
	c, err := p.b.claims(ctx, tok, state)
	if err != nil {
		return nil, l.failed(ctx, p, ErrExchange, slog.LevelWarn, err)
	}
	c.Provider = p.cfg.Name
	if problem := auth.ValidateIdentityKey(c.Provider, c.Issuer, c.Subject); problem != "" {
		return nil, l.failed(ctx, p, ErrExchange, slog.LevelWarn, fmt.Errorf("unusable identity: %s", problem))
	}
	c.Email = auth.NormalizeEmail(c.Email)
	if c.Email != "" && auth.ValidateEmail(c.Email) != "" {
		l.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "oauth sign-in: ignoring an invalid email address from the provider",
			slog.String("provider", p.cfg.Name))
		c.Email, c.EmailVerified = "", false
	}
	if c.Email == "" {
		c.EmailVerified = false
	}
	c.Name = strings.TrimSpace(truncate(c.Name, 200))
	return c, nil
}
