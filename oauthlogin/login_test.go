package oauthlogin

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/oidctest"
)

func TestStartAuthorizationRequest(t *testing.T) {
	idp, pc := oidcProvider(t, "test", oidctest.Options{})
	e := newEnv(t, pc)
	authURL, fs, err := e.login.Start(ctx, "test", redirectURL, "/dashboard")
	if err != nil {
		t.Fatalf("Start() = %v", err)
	}
	u, err := url.Parse(authURL)
	if err != nil || !strings.HasPrefix(authURL, idp.Issuer+"/authorize?") {
		t.Fatalf("Start() URL = %q, want the provider's authorization endpoint", authURL)
	}
	q := u.Query()
	want := map[string]string{
		"response_type":         "code",
		"client_id":             idp.ClientID,
		"redirect_uri":          redirectURL,
		"scope":                 "openid email profile",
		"state":                 fs.State,
		"nonce":                 fs.Nonce,
		"code_challenge_method": "S256",
	}
	for k, v := range want {
		if got := q.Get(k); got != v {
			t.Errorf("authorization request %s = %q, want %q", k, got, v)
		}
	}
	sum := sha256.Sum256([]byte(fs.Verifier))
	if got, want := q.Get("code_challenge"), base64.RawURLEncoding.EncodeToString(sum[:]); got != want || len(got) != 43 {
		t.Errorf("code_challenge = %q, want S256 of the verifier, %q", got, want)
	}
	// 256 random bits each, base64url.
	for name, v := range map[string]string{"state": fs.State, "nonce": fs.Nonce, "verifier": fs.Verifier} {
		if b, err := base64.RawURLEncoding.DecodeString(v); err != nil || len(b) < 16 {
			t.Errorf("%s %q: want at least 128 random bits, base64url", name, v)
		}
	}
	if fs.Provider != "test" || fs.RedirectURL != redirectURL || fs.ReturnTo != "/dashboard" || !fs.CreatedAt.Equal(e.clock.Now().UTC()) {
		t.Errorf("flow state = %+v; want provider, redirect, return_to and creation time recorded", fs)
	}
	_, other, _ := e.login.Start(ctx, "test", redirectURL, "")
	if other.State == fs.State || other.Nonce == fs.Nonce || other.Verifier == fs.Verifier {
		t.Error("two flows share a state, nonce or verifier")
	}

	_, _, err = e.login.Start(ctx, "nope", redirectURL, "")
	if !errors.Is(err, ErrUnknownProvider) || auth.ErrorCode(err) != auth.ENotFound {
		t.Errorf("Start(unknown provider) = %v, want not_found", err)
	}
	if _, _, err := e.login.Start(ctx, "test", "http://evil.example/cb", ""); err == nil {
		t.Error("Start(plain-http redirect URL) succeeded, want an error")
	}
}

func TestFinishOIDC(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			idp, pc := oidcProvider(t, "test", oidctest.Options{Alg: alg})
			idp.SetUser(oidctest.User{Subject: "sub-42", Email: "Alice@Example.COM", EmailVerified: true, Name: " Alice ", PreferredUsername: "alice"})
			e := newEnv(t, pc)
			got, err := e.signIn(t, "test")
			if err != nil {
				t.Fatalf("Finish() = %v", err)
			}
			want := &Claims{Provider: "test", Issuer: idp.Issuer, Subject: "sub-42", Email: "alice@example.com",
				EmailVerified: true, Name: "Alice", Username: "alice"}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Finish() claims (-want +got):\n%s", d)
			}
			// The provider saw the verifier of the challenge, from an
			// authenticated client, with the same redirect URI.
			auths, toks := idp.AuthRequests(), idp.TokenRequests()
			if len(auths) != 1 || len(toks) != 1 {
				t.Fatalf("provider saw %d authorization and %d token requests, want 1 and 1", len(auths), len(toks))
			}
			if toks[0].Error != "" || toks[0].ClientAuth == "" || toks[0].RedirectURI != redirectURL ||
				oauth2.S256ChallengeFromVerifier(toks[0].CodeVerifier) != auths[0].CodeChallenge {
				t.Errorf("token request = %+v for authorization %+v; want an authenticated, PKCE-matched exchange", toks[0], auths[0])
			}
		})
	}
}

func TestFinishEmailVerifiedAsString(t *testing.T) {
	for _, verified := range []bool{true, false} {
		idp, pc := oidcProvider(t, "test", oidctest.Options{})
		idp.SetFaults(oidctest.Faults{EmailVerifiedAsString: true})
		idp.SetUser(oidctest.User{Subject: "1", Email: "a@example.com", EmailVerified: verified})
		c, err := newEnv(t, pc).signIn(t, "test")
		if err != nil || c.EmailVerified != verified {
			t.Errorf("email_verified %q: Finish() = %+v, %v; want EmailVerified %v", map[bool]string{true: "true", false: "false"}[verified], c, err, verified)
		}
	}
}

// Every way a callback can fail to belong to its flow, or a provider's
// answer can fail to check out, ends in an error with no claims.
func TestFinishRejects(t *testing.T) {
	other := oidctest.New(oidctest.Options{})
	defer other.Close()
	tests := []struct {
		name   string
		faults oidctest.Faults
		// tamper changes what the callback receives.
		tamper func(t *testing.T, e *env, fs *FlowState, q url.Values) (*FlowState, url.Values)
		want   error // the cause
		code   string
	}{
		{name: "tampered state", tamper: func(_ *testing.T, _ *env, fs *FlowState, q url.Values) (*FlowState, url.Values) {
			q.Set("state", q.Get("state")+"x")
			return fs, q
		}, want: ErrInvalidState, code: auth.EInvalidRequest},
		{name: "missing state", tamper: func(_ *testing.T, _ *env, fs *FlowState, q url.Values) (*FlowState, url.Values) {
			q.Del("state")
			return fs, q
		}, want: ErrInvalidState, code: auth.EInvalidRequest},
		{name: "state given twice", tamper: func(_ *testing.T, _ *env, fs *FlowState, q url.Values) (*FlowState, url.Values) {
			q.Add("state", "attacker")
			return fs, q
		}, want: ErrInvalidState, code: auth.EInvalidRequest},
		{name: "no flow cookie", tamper: func(_ *testing.T, _ *env, _ *FlowState, q url.Values) (*FlowState, url.Values) {
			return nil, q
		}, want: ErrInvalidState, code: auth.EInvalidRequest},
		{name: "callback in a browser with another flow (login CSRF)", tamper: func(_ *testing.T, e *env, _ *FlowState, q url.Values) (*FlowState, url.Values) {
			_, victim, _ := e.login.Start(ctx, "test", redirectURL, "")
			return victim, q
		}, want: ErrInvalidState, code: auth.EInvalidRequest},
		{name: "flow expired", tamper: func(_ *testing.T, e *env, fs *FlowState, q url.Values) (*FlowState, url.Values) {
			e.clock.Add(FlowMaxAge + time.Second)
			return fs, q
		}, want: ErrInvalidState, code: auth.EInvalidRequest},
		{name: "flow of another provider", tamper: func(_ *testing.T, _ *env, fs *FlowState, q url.Values) (*FlowState, url.Values) {
			fs.Provider = "other"
			return fs, q
		}, want: ErrInvalidState, code: auth.EInvalidRequest},
		{name: "no code", tamper: func(_ *testing.T, _ *env, fs *FlowState, q url.Values) (*FlowState, url.Values) {
			q.Del("code")
			return fs, q
		}, want: ErrInvalidState, code: auth.EInvalidRequest},
		{name: "wrong PKCE verifier", tamper: func(_ *testing.T, _ *env, fs *FlowState, q url.Values) (*FlowState, url.Values) {
			fs.Verifier = oauth2.GenerateVerifier()
			return fs, q
		}, want: ErrExchange, code: auth.EInvalidCredentials},
		{name: "code injected into another flow", tamper: func(t *testing.T, e *env, _ *FlowState, q url.Values) (*FlowState, url.Values) {
			// The victim's own flow, with the attacker's code swapped in:
			// the state matches, PKCE does not.
			victim, vq := e.start(t, "test")
			vq.Set("code", q.Get("code"))
			return victim, vq
		}, want: ErrExchange, code: auth.EInvalidCredentials},
		{name: "RFC 9207 iss of another provider (mix-up)", faults: oidctest.Faults{AuthorizationIss: other.Issuer},
			want: ErrInvalidState, code: auth.EInvalidRequest},
		{name: "RFC 9207 iss missing though advertised", faults: oidctest.Faults{AuthorizationIss: "-"},
			want: ErrInvalidState, code: auth.EInvalidRequest},
		{name: "provider error", faults: oidctest.Faults{Deny: true}, want: ErrDenied, code: auth.EInvalidCredentials},
		{name: "wrong nonce", faults: oidctest.Faults{Nonce: "attacker-nonce"}, want: ErrExchange, code: auth.EInvalidCredentials},
		{name: "no nonce", faults: oidctest.Faults{NoNonce: true}, want: ErrExchange, code: auth.EInvalidCredentials},
		{name: "ID token from another issuer", faults: oidctest.Faults{Issuer: other.Issuer}, want: ErrExchange, code: auth.EInvalidCredentials},
		{name: "ID token for another audience", faults: oidctest.Faults{Audience: []string{"other-client"}}, want: ErrExchange, code: auth.EInvalidCredentials},
		{name: "several audiences without azp", faults: oidctest.Faults{Audience: []string{"gatehouse-test", "other-client"}},
			want: ErrExchange, code: auth.EInvalidCredentials},
		{name: "several audiences, azp another client", faults: oidctest.Faults{Audience: []string{"gatehouse-test", "other-client"}, AZP: "other-client"},
			want: ErrExchange, code: auth.EInvalidCredentials},
		{name: "azp another client", faults: oidctest.Faults{AZP: "other-client"}, want: ErrExchange, code: auth.EInvalidCredentials},
		{name: "expired ID token", faults: oidctest.Faults{Expired: true}, want: ErrExchange, code: auth.EInvalidCredentials},
		{name: "alg none", faults: oidctest.Faults{AlgNone: true}, want: ErrExchange, code: auth.EInvalidCredentials},
		{name: "bad signature", faults: oidctest.Faults{BadSignature: true}, want: ErrExchange, code: auth.EInvalidCredentials},
		{name: "several audiences, azp this client (accepted)", faults: oidctest.Faults{Audience: []string{"gatehouse-test", "other-client"}, AZP: "gatehouse-test"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idp, pc := oidcProvider(t, "test", oidctest.Options{})
			idp.SetFaults(tc.faults)
			e := newEnv(t, pc)
			fs, q := e.start(t, "test")
			if tc.tamper != nil {
				fs, q = tc.tamper(t, e, fs, q)
			}
			c, err := e.login.Finish(ctx, "test", fs, q)
			if tc.want == nil {
				if err != nil {
					t.Errorf("Finish() = %v, want success", err)
				}
				return
			}
			if c != nil || !errors.Is(err, tc.want) || auth.ErrorCode(err) != tc.code {
				t.Fatalf("Finish() = %+v, %v; want no claims, %v with code %s", c, err, tc.want, tc.code)
			}
			// The user sees a fixed sentence; the provider's words are logged.
			msg := auth.ErrorMessage(err)
			if strings.Contains(msg, "oidc") || strings.Contains(msg, "denied") || strings.Contains(msg, "<b>") {
				t.Errorf("message %q leaks the provider's error", msg)
			}
			if tc.want == ErrDenied && !strings.Contains(e.logs.String(), "denied") {
				t.Errorf("log %q lacks the provider's error description", e.logs.String())
			}
			if logs := e.logs.String(); !strings.Contains(logs, "oauth sign-in failed") && !strings.Contains(logs, "oauth callback refused") {
				t.Errorf("log %q: want the failure logged", logs)
			}
		})
	}
}

// A callback URL that completed once does not complete again (OA-04): the
// provider refuses the spent code.
func TestFinishReplay(t *testing.T) {
	_, pc := oidcProvider(t, "test", oidctest.Options{})
	e := newEnv(t, pc)
	fs, q := e.start(t, "test")
	if _, err := e.login.Finish(ctx, "test", fs, q); err != nil {
		t.Fatalf("Finish() = %v", err)
	}
	if c, err := e.login.Finish(ctx, "test", fs, q); c != nil || !errors.Is(err, ErrExchange) {
		t.Errorf("Finish(replayed) = %+v, %v; want %v", c, err, ErrExchange)
	}
}

// The provider refuses a token request without the PKCE verifier, which is
// what makes a stolen code useless.
func TestProviderRefusesMissingVerifier(t *testing.T) {
	idp, _ := oidcProvider(t, "test", oidctest.Options{})
	cfg := &oauth2.Config{ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, RedirectURL: redirectURL,
		Endpoint: oauth2.Endpoint{AuthURL: idp.Issuer + "/authorize", TokenURL: idp.Issuer + "/token", AuthStyle: oauth2.AuthStyleInHeader}, Scopes: []string{"openid"}}
	verifier := oauth2.GenerateVerifier()
	q, err := oidctest.Callback(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.Exchange(ctx, q.Get("code")) // no VerifierOption
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("Exchange(no code_verifier) = %v, want invalid_grant", err)
	}
	toks := idp.TokenRequests()
	if len(toks) != 1 || toks[0].CodeVerifier != "" || toks[0].Error != "invalid_grant" {
		t.Errorf("provider recorded %+v, want one request without a verifier, refused", toks)
	}
}

func TestFinishWithoutIssParameter(t *testing.T) {
	_, pc := oidcProvider(t, "test", oidctest.Options{NoIssParameter: true})
	e := newEnv(t, pc)
	fs, q := e.start(t, "test")
	if q.Has("iss") {
		t.Fatalf("callback %v has iss, want none", q)
	}
	if _, err := e.login.Finish(ctx, "test", fs, q); err != nil {
		t.Errorf("Finish(provider without RFC 9207) = %v", err)
	}
	// An iss that is there must still match.
	fs, q = e.start(t, "test")
	q.Set("iss", "https://evil.example")
	if _, err := e.login.Finish(ctx, "test", fs, q); !errors.Is(err, ErrInvalidState) {
		t.Errorf("Finish(unadvertised but wrong iss) = %v, want %v", err, ErrInvalidState)
	}
}

func TestDiscoveryFailureIsRetried(t *testing.T) {
	idp := oidctest.New(oidctest.Options{})
	issuer := idp.Issuer
	idp.Close() // down at first
	e := newEnv(t, ProviderConfig{Name: "test", Kind: KindOIDC, ClientID: "c", IssuerURL: issuer})
	if _, _, err := e.login.Start(ctx, "test", redirectURL, ""); auth.ErrorCode(err) != auth.EInternal {
		t.Errorf("Start(provider down) = %v, want an internal error", err)
	}
}

func TestNewValidatesProviders(t *testing.T) {
	ok := ProviderConfig{Name: "corp", Kind: KindOIDC, ClientID: "id", IssuerURL: "https://id.example"}
	with := func(change func(*ProviderConfig)) ProviderConfig {
		c := ok
		change(&c)
		return c
	}
	tests := []struct {
		name      string
		providers []ProviderConfig
		wantErr   bool
	}{
		{"oidc", []ProviderConfig{ok}, false},
		{"google needs only id and secret", []ProviderConfig{{Name: "google", Kind: KindGoogle, ClientID: "id", ClientSecret: "s"}}, false},
		{"github", []ProviderConfig{{Name: "github", Kind: KindGitHub, ClientID: "id", ClientSecret: "s"}}, false},
		{"loopback http issuer", []ProviderConfig{with(func(c *ProviderConfig) { c.IssuerURL = "http://127.0.0.1:5556" })}, false},
		{"plain http issuer", []ProviderConfig{with(func(c *ProviderConfig) { c.IssuerURL = "http://id.example" })}, true},
		{"no issuer", []ProviderConfig{with(func(c *ProviderConfig) { c.IssuerURL = "" })}, true},
		{"no client id", []ProviderConfig{with(func(c *ProviderConfig) { c.ClientID = "" })}, true},
		{"bad name", []ProviderConfig{with(func(c *ProviderConfig) { c.Name = "Corp/1" })}, true},
		{"unknown kind", []ProviderConfig{with(func(c *ProviderConfig) { c.Kind = "saml" })}, true},
		{"twice", []ProviderConfig{ok, ok}, true},
		{"google without secret", []ProviderConfig{{Name: "google", Kind: KindGoogle, ClientID: "id"}}, true},
		{"github over http", []ProviderConfig{{Name: "gh", Kind: KindGitHub, ClientID: "id", ClientSecret: "s", TokenURL: "http://gh.example/token"}}, true},
	}
	for _, tc := range tests {
		_, err := New(Config{Providers: tc.providers})
		if (err != nil) != tc.wantErr {
			t.Errorf("New(%s) = %v, want error %v", tc.name, err, tc.wantErr)
		}
	}
	l, err := New(Config{Providers: []ProviderConfig{{Name: "google", Kind: KindGoogle, ClientID: "id", ClientSecret: "s"}, ok}})
	if err != nil {
		t.Fatal(err)
	}
	want := []ProviderInfo{{Name: "google", DisplayName: "Google", Icon: "google"}, {Name: "corp", DisplayName: "corp", Icon: "oidc"}}
	if d := cmp.Diff(want, l.Providers()); d != "" {
		t.Errorf("Providers() (-want +got):\n%s", d)
	}
	if c, _ := l.ProviderConfig("google"); c.IssuerURL != GoogleIssuer || strings.Join(c.Scopes, " ") != "openid email profile" {
		t.Errorf("google defaults: issuer %q scopes %q", c.IssuerURL, c.Scopes)
	}
}
