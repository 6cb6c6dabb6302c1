package web

import (
	"context"
	"encoding/json"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/oidctest"
	"github.com/gatehouse-dev/gatehouse/masterkey"
	"github.com/gatehouse-dev/gatehouse/oauthlogin"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
	"github.com/gatehouse-dev/gatehouse/totp"
)

// socialEnv is a testEnv with sign-in through providers and TOTP on.
type socialEnv struct {
	*testEnv
	key  *masterkey.Key
	totp *totp.Service
}

// newSocialEnv starts a server on st with the providers, TOTP, and any
// further tweaks.
func newSocialEnv(t *testing.T, st store.Store, providers []oauthlogin.ProviderConfig, tweaks ...func(*Config)) *socialEnv {
	t.Helper()
	key, err := masterkey.New("0123456789abcdef0123456789abcdef-social")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := totp.New(totp.Config{Store: st, Sealer: key})
	if err != nil {
		t.Fatal(err)
	}
	env := &socialEnv{key: key, totp: svc}
	all := append([]func(*Config){func(c *Config) {
		if len(providers) > 0 {
			login, err := oauthlogin.New(oauthlogin.Config{Providers: providers, Logger: slog.New(slog.NewTextHandler(tWriter{t}, nil))})
			if err != nil {
				t.Fatal(err)
			}
			c.OAuth = login
		}
		c.Sealer, c.TOTP = key, svc
	}}, tweaks...)
	env.testEnv = newEnv(t, st, all...)
	return env
}

// forEachSocialBackend runs fn on SQLite and, when configured, PostgreSQL.
func forEachSocialBackend(t *testing.T, fn func(t *testing.T, st store.Store)) {
	for _, b := range storetest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.Open(t)) })
	}
}

func oidcConfig(idp *oidctest.Provider, name string) oauthlogin.ProviderConfig {
	return oauthlogin.ProviderConfig{Name: name, Kind: oauthlogin.KindOIDC, ClientID: idp.ClientID,
		ClientSecret: idp.ClientSecret, IssuerURL: idp.Issuer, DisplayName: "Test ID"}
}

// startOAuth begins a sign-in with provider in c and returns the
// authorization URL it redirects to.
func (e *socialEnv) startOAuth(t *testing.T, c *http.Client, provider, returnTo string) string {
	t.Helper()
	path := "/oauth/" + provider + "/start"
	if returnTo != "" {
		path += "?return_to=" + url.QueryEscape(returnTo)
	}
	r := e.do(c, "GET", path, nil)
	if r.status != http.StatusFound {
		t.Fatalf("GET %s = %d %s, want 302", path, r.status, r.body)
	}
	return r.header.Get("Location")
}

// authorize plays the browser at the provider and returns the callback path
// it sends the browser back to.
func authorize(t *testing.T, authURL string) string {
	t.Helper()
	q, err := oidctest.Callback(authURL)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	u, _ := url.Parse(authURL)
	provider := "test"
	if ru, err := url.Parse(u.Query().Get("redirect_uri")); err == nil {
		provider = strings.Split(strings.TrimPrefix(ru.Path, "/oauth/"), "/")[0]
	}
	return "/oauth/" + provider + "/callback?" + q.Encode()
}

// signInWith runs a whole sign-in through provider in c and returns the
// callback's response.
func (e *socialEnv) signInWith(t *testing.T, c *http.Client, provider, returnTo string) response {
	t.Helper()
	return e.do(c, "GET", authorize(t, e.startOAuth(t, c, provider, returnTo)), nil)
}

func (e *socialEnv) events(t *testing.T, typ, userID string) []*auth.Event {
	t.Helper()
	list, _, err := e.store.FindEvents(context.Background(), auth.EventFilter{Type: typ, UserID: userID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// me returns the signed-in user of c, or nil.
func (e *socialEnv) me(t *testing.T, c *http.Client) *auth.User {
	t.Helper()
	r := e.do(c, "GET", "/api/me", nil)
	if r.status != http.StatusOK {
		return nil
	}
	var body struct{ User *auth.User }
	json.Unmarshal([]byte(r.body), &body)
	return body.User
}

func wantNoSession(t *testing.T, what string, r response) {
	t.Helper()
	if c := sessionCookie(r); c != nil && c.MaxAge >= 0 && c.Value != "" {
		t.Errorf("%s set a session cookie", what)
	}
}

func TestOAuthSignUpThenSignIn(t *testing.T) {
	forEachSocialBackend(t, func(t *testing.T, st store.Store) {
		idp := oidctest.New(oidctest.Options{})
		t.Cleanup(idp.Close)
		idp.SetUser(oidctest.User{Subject: "sub-7", Email: "Ada@Example.com", EmailVerified: true, Name: "Ada", PreferredUsername: "ada"})
		env := newSocialEnv(t, st, []oauthlogin.ProviderConfig{oidcConfig(idp, "test")})

		// The start: a 302 to the provider, with S256 PKCE, a nonce, state,
		// the exact redirect URI from the public URL, and a sealed flow cookie.
		c := env.client()
		authURL := env.startOAuth(t, c, "test", "/after?x=1")
		u, _ := url.Parse(authURL)
		q := u.Query()
		if !strings.HasPrefix(authURL, idp.Issuer+"/authorize?") || q.Get("code_challenge_method") != "S256" ||
			len(q.Get("code_challenge")) != 43 || q.Get("nonce") == "" || len(q.Get("state")) < 43 {
			t.Errorf("authorization URL %s: want the provider's endpoint with S256 PKCE, a nonce and a 256-bit state", authURL)
		}
		if got, want := q.Get("redirect_uri"), env.srv.URL+"/oauth/test/callback"; got != want {
			t.Errorf("redirect_uri = %q, want %q", got, want)
		}
		pu, _ := url.Parse(env.srv.URL)
		var flow *http.Cookie
		for _, ck := range c.Jar.Cookies(pu) {
			if ck.Name == oauthlogin.FlowCookieNameInsecure {
				flow = ck
			}
		}
		if flow == nil {
			t.Fatal("no flow cookie after the start")
		}

		// New user: an account, signed in, sent to return_to.
		r := env.do(c, "GET", authorize(t, authURL), nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/after?x=1" {
			t.Fatalf("callback = %d %s (Location %q), want 303 to /after?x=1", r.status, r.body, r.header.Get("Location"))
		}
		if got := r.header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("callback Referrer-Policy = %q, want no-referrer", got)
		}
		me := env.me(t, c)
		if me == nil || me.Email != "ada@example.com" || !me.EmailVerified || me.Username != "ada" || me.HasPassword() {
			t.Fatalf("signed-in user = %+v, want a new passwordless ada@example.com, verified", me)
		}
		ids, _ := st.FindUserIdentities(context.Background(), me.ID)
		if len(ids) != 1 || ids[0].Subject != "sub-7" || ids[0].Issuer != idp.Issuer || ids[0].Provider != "test" {
			t.Errorf("identities = %+v, want one for (test, %s, sub-7)", ids, idp.Issuer)
		}
		if ev := env.events(t, auth.EventIdentityLinked, me.ID); len(ev) != 1 || ev[0].Data["via"] != "sign_up" {
			t.Errorf("identity.linked events = %+v, want one via sign_up", ev)
		}
		if ev := env.events(t, auth.EventUserRegistered, me.ID); len(ev) != 1 || ev[0].Data["method"] != "oauth:test" {
			t.Errorf("user.registered events = %+v, want one with method oauth:test", ev)
		}

		// The same callback again: the flow cookie is gone, so it is refused.
		// (The code is spent at the provider too.)
		for _, ck := range c.Jar.Cookies(pu) {
			if ck.Name == oauthlogin.FlowCookieNameInsecure {
				t.Errorf("flow cookie still set after the callback")
			}
		}

		// A returning user in another browser: the same account.
		c2 := env.client()
		r = env.signInWith(t, c2, "test", "")
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account" {
			t.Fatalf("returning callback = %d (Location %q), want 303 to /account", r.status, r.header.Get("Location"))
		}
		if again := env.me(t, c2); again == nil || again.ID != me.ID {
			t.Errorf("returning user signed in as %+v, want %s", again, me.ID)
		}
		if n, _ := st.CountUsers(context.Background(), auth.UserFilter{}); n != 1 {
			t.Errorf("%d users, want 1", n)
		}
		if ev := env.events(t, auth.EventLoginSucceeded, me.ID); len(ev) != 1 || ev[0].Data["method"] != "oauth:test" {
			t.Errorf("login.succeeded events = %+v, want one with method oauth:test", ev)
		}

		// An unsafe return_to is dropped.
		r = env.signInWith(t, env.client(), "test", "https://evil.example/x")
		if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || loc != "/account" {
			t.Errorf("callback with return_to=https://evil.example = %d to %q, want 303 to /account", r.status, loc)
		}
	})
}

func TestOAuthEmailCollisionAsksToLink(t *testing.T) {
	forEachSocialBackend(t, func(t *testing.T, st store.Store) {
		idp := oidctest.New(oidctest.Options{})
		t.Cleanup(idp.Close)
		idp.SetUser(oidctest.User{Subject: "sub-1", Email: "bob@example.com", EmailVerified: true, PreferredUsername: "bobby"})
		env := newSocialEnv(t, st, []oauthlogin.ProviderConfig{oidcConfig(idp, "test")})
		bob := env.mustRegister("bob", "correct horse battery")

		c := env.client()
		r := env.signInWith(t, c, "test", "")
		if r.status != http.StatusConflict || !strings.Contains(r.body, "already have an account") {
			t.Fatalf("callback for an address with an account = %d, want 409 asking to sign in and link:\n%s", r.status, r.body)
		}
		wantNoSession(t, "callback for a taken address", r)
		if strings.Contains(r.body, ">bob<") {
			t.Errorf("the page names the account's username")
		}
		if ids, _ := st.FindUserIdentities(context.Background(), bob.ID); len(ids) != 0 {
			t.Errorf("identities of bob = %d, want none linked without proof", len(ids))
		}

		// Signed in with the password, bob links the provider from the
		// account page; then it signs him in.
		r = login(env.testEnv, c, "bob", "correct horse battery")
		if r.status != http.StatusSeeOther {
			t.Fatalf("password sign-in = %d", r.status)
		}
		r = env.postForm(c, "/account/identities/test/link", url.Values{})
		if r.status != http.StatusOK || !strings.Contains(r.body, `id="oauth-continue"`) {
			t.Fatalf("link start = %d, want the page that continues to the provider:\n%s", r.status, r.body)
		}
		authURL := html.UnescapeString(between(r.body, `data-continue href="`, `"`))
		r = env.do(c, "GET", authorize(t, authURL), nil)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/account") {
			t.Fatalf("link callback = %d %s, want 303 to the account page", r.status, r.body)
		}
		ids, _ := st.FindUserIdentities(context.Background(), bob.ID)
		if len(ids) != 1 {
			t.Fatalf("identities of bob = %d, want 1", len(ids))
		}
		if ev := env.events(t, auth.EventIdentityLinked, bob.ID); len(ev) != 1 || ev[0].Data["via"] != "account_page" {
			t.Errorf("identity.linked events = %+v, want one via account_page", ev)
		}
		c2 := env.client()
		env.signInWith(t, c2, "test", "")
		if me := env.me(t, c2); me == nil || me.ID != bob.ID {
			t.Errorf("sign-in with the linked provider = %+v, want bob", me)
		}

		// Unlinking: the API lists it, and removes it (bob has a password).
		tr, _ := env.tokenLogin("bob", "correct horse battery")
		r = env.do(nil, "GET", "/api/identities", nil, bearerHeader(tr.AccessToken)...)
		if r.status != http.StatusOK || !strings.Contains(r.body, `"provider":"test"`) || strings.Contains(r.body, "sub-1") {
			t.Errorf("GET /api/identities = %d %s, want the identity without its subject", r.status, r.body)
		}
		r = env.do(nil, "DELETE", "/api/identities/"+ids[0].ID, nil, bearerHeader(tr.AccessToken)...)
		if r.status != http.StatusNoContent {
			t.Errorf("DELETE identity = %d %s, want 204", r.status, r.body)
		}
		if ev := env.events(t, auth.EventIdentityUnlinked, bob.ID); len(ev) != 1 {
			t.Errorf("identity.unlinked events = %d, want 1", len(ev))
		}
	})
}

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}

func TestOAuthTrustedEmailLinks(t *testing.T) {
	idp := oidctest.New(oidctest.Options{})
	t.Cleanup(idp.Close)
	idp.SetUser(oidctest.User{Subject: "g-1", Email: "cat@example.com", EmailVerified: true})
	pc := oidcConfig(idp, "test")
	pc.TrustEmail = true
	st := storetest.OpenSQLite(t)
	env := newSocialEnv(t, st, []oauthlogin.ProviderConfig{pc})
	cat := env.mustRegister("cat", "correct horse battery")

	// The account's own address is not verified: no link (OA-07).
	r := env.signInWith(t, env.client(), "test", "")
	if r.status != http.StatusConflict {
		t.Fatalf("trusted provider, unverified account = %d, want 409", r.status)
	}
	yes := true
	if _, err := st.UpdateUser(context.Background(), cat.ID, auth.UserUpdate{EmailVerified: &yes}); err != nil {
		t.Fatal(err)
	}
	// Verified on both sides, and the provider is trusted: linked, signed in.
	c := env.client()
	r = env.signInWith(t, c, "test", "")
	if r.status != http.StatusSeeOther {
		t.Fatalf("trusted link = %d %s, want 303", r.status, r.body)
	}
	if me := env.me(t, c); me == nil || me.ID != cat.ID {
		t.Errorf("signed in as %+v, want cat", me)
	}
	if ev := env.events(t, auth.EventIdentityLinked, cat.ID); len(ev) != 1 || ev[0].Data["via"] != "trusted_email" {
		t.Errorf("identity.linked = %+v, want one via trusted_email", ev)
	}
}

// Each way a callback can fail: refused with a readable message, no session,
// no account.
func TestOAuthCallbackRefusals(t *testing.T) {
	forEachSocialBackend(t, func(t *testing.T, st store.Store) {
		idp := oidctest.New(oidctest.Options{})
		t.Cleanup(idp.Close)
		env := newSocialEnv(t, st, []oauthlogin.ProviderConfig{oidcConfig(idp, "test")})
		pu, _ := url.Parse(env.srv.URL)

		// reseal replaces the flow cookie of c with f's change of it.
		reseal := func(t *testing.T, c *http.Client, change func(f *oauthlogin.FlowState)) {
			t.Helper()
			for _, ck := range c.Jar.Cookies(pu) {
				if ck.Name != oauthlogin.FlowCookieNameInsecure {
					continue
				}
				f, err := oauthlogin.OpenFlowState(env.key, ck.Value)
				if err != nil {
					t.Fatal(err)
				}
				change(f)
				b, _ := json.Marshal(f)
				sealed, err := env.key.Seal(b, []byte("gatehouse oauth flow v1"))
				if err != nil {
					t.Fatal(err)
				}
				c.Jar.SetCookies(pu, []*http.Cookie{{Name: ck.Name, Value: encodeB64(sealed), Path: "/"}})
				return
			}
			t.Fatal("no flow cookie")
		}

		tests := []struct {
			name   string
			faults oidctest.Faults
			// alter changes the callback path, or the browser, before the callback.
			alter      func(t *testing.T, c *http.Client, callback string) string
			status     int
			wantInBody string
		}{
			{name: "tampered state", status: http.StatusBadRequest, wantInBody: "not valid or has expired",
				alter: func(t *testing.T, c *http.Client, cb string) string {
					u, _ := url.Parse(cb)
					q := u.Query()
					q.Set("state", q.Get("state")[:20]+"AAAAAAAAAAAAAAAAAAAAAAA")
					return u.Path + "?" + q.Encode()
				}},
			{name: "no flow cookie (another browser's callback)", status: http.StatusBadRequest, wantInBody: "not valid or has expired",
				alter: func(t *testing.T, c *http.Client, cb string) string {
					jar := env.client().Jar
					c.Jar = jar
					return cb
				}},
			{name: "flow cookie without its PKCE verifier", status: http.StatusBadRequest, wantInBody: "not valid or has expired",
				alter: func(t *testing.T, c *http.Client, cb string) string {
					reseal(t, c, func(f *oauthlogin.FlowState) { f.Verifier = "" })
					return cb
				}},
			{name: "wrong PKCE verifier", status: http.StatusUnauthorized, wantInBody: "did not succeed",
				alter: func(t *testing.T, c *http.Client, cb string) string {
					reseal(t, c, func(f *oauthlogin.FlowState) { f.Verifier = oauth2.GenerateVerifier() })
					return cb
				}},
			{name: "wrong nonce", faults: oidctest.Faults{Nonce: "another-flows-nonce"}, status: http.StatusUnauthorized, wantInBody: "did not succeed"},
			{name: "no nonce", faults: oidctest.Faults{NoNonce: true}, status: http.StatusUnauthorized, wantInBody: "did not succeed"},
			{name: "ID token from another issuer", faults: oidctest.Faults{Issuer: "https://evil.example"}, status: http.StatusUnauthorized, wantInBody: "did not succeed"},
			{name: "ID token for another audience", faults: oidctest.Faults{Audience: []string{"another-client"}}, status: http.StatusUnauthorized, wantInBody: "did not succeed"},
			{name: "bad signature", faults: oidctest.Faults{BadSignature: true}, status: http.StatusUnauthorized, wantInBody: "did not succeed"},
			{name: "mix-up iss", faults: oidctest.Faults{AuthorizationIss: "https://other-idp.example"}, status: http.StatusBadRequest, wantInBody: "not valid or has expired"},
			{name: "the user cancels at the provider", faults: oidctest.Faults{Deny: true}, status: http.StatusUnauthorized, wantInBody: "Signing in with Test ID was cancelled or did not succeed"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				idp.SetFaults(tt.faults)
				defer idp.SetFaults(oidctest.Faults{})
				c := env.client()
				cb := authorize(t, env.startOAuth(t, c, "test", ""))
				if tt.alter != nil {
					cb = tt.alter(t, c, cb)
				}
				r := env.do(c, "GET", cb, nil)
				if r.status != tt.status || !strings.Contains(r.body, tt.wantInBody) {
					t.Errorf("callback: got status %d, want %d with %q in the page:\n%.600s", r.status, tt.status, tt.wantInBody, r.body)
				}
				if strings.Contains(r.body, "<b>denied</b>") || strings.Contains(r.body, "invalid_grant") {
					t.Errorf("the page shows the provider's own words")
				}
				wantNoSession(t, "refused callback", r)
				if env.me(t, c) != nil {
					t.Errorf("signed in after a refused callback")
				}
			})
		}
		if tr := idp.TokenRequests(); len(tr) == 0 || !containsError(tr, "invalid_grant") {
			t.Errorf("token requests %+v: want the wrong verifier refused by the provider", tr)
		}
		if n, _ := st.CountUsers(context.Background(), auth.UserFilter{}); n != 0 {
			t.Errorf("%d users after refused callbacks, want 0", n)
		}
	})
}

func containsError(list []oidctest.TokenRequest, code string) bool {
	for _, r := range list {
		if r.Error == code {
			return true
		}
	}
	return false
}

func TestOAuthGitHub(t *testing.T) {
	forEachSocialBackend(t, func(t *testing.T, st store.Store) {
		gh := oidctest.NewGitHub(oidctest.GitHubOptions{})
		t.Cleanup(gh.Close)
		env := newSocialEnv(t, st, []oauthlogin.ProviderConfig{{Name: "github", Kind: oauthlogin.KindGitHub,
			ClientID: gh.ClientID, ClientSecret: gh.ClientSecret, AuthURL: gh.AuthURL(), TokenURL: gh.TokenURL(), APIURL: gh.URL}})

		// The sign-in page offers the button.
		if r := env.do(nil, "GET", "/login", nil); !strings.Contains(r.body, `href="/oauth/github/start"`) || !strings.Contains(r.body, "Continue with GitHub") {
			t.Errorf("/login lacks the GitHub button")
		}
		if r := env.do(nil, "GET", "/register?return_to=/x", nil); !strings.Contains(r.body, `href="/oauth/github/start?return_to=%2fx"`) {
			t.Errorf("/register lacks the GitHub button with return_to:\n%s", r.body)
		}

		c := env.client()
		authURL := env.startOAuth(t, c, "github", "")
		if q, _ := url.Parse(authURL); q.Query().Get("code_challenge_method") != "S256" || q.Query().Get("nonce") != "" {
			t.Errorf("GitHub authorization URL %s: want S256 PKCE and no nonce", authURL)
		}
		r := env.do(c, "GET", authorize(t, authURL), nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("GitHub callback = %d %s", r.status, r.body)
		}
		me := env.me(t, c)
		if me == nil || me.Username != "octocat" || me.Email != "octocat@example.com" || !me.EmailVerified {
			t.Fatalf("signed in as %+v, want octocat with the verified primary address", me)
		}
		ids, _ := st.FindUserIdentities(context.Background(), me.ID)
		if len(ids) != 1 || ids[0].Subject != "583231" || ids[0].Provider != "github" {
			t.Errorf("identities = %+v, want GitHub user 583231", ids)
		}
		if r := env.do(nil, "GET", "/api/auth/providers", nil); !strings.Contains(r.body, `"name":"github"`) ||
			!strings.Contains(r.body, `"start_url":"`+env.srv.URL+`/oauth/github/start"`) {
			t.Errorf("GET /api/auth/providers = %s", r.body)
		}

		// A renamed login and a new unverified primary address: the same
		// account, found by the numeric ID.
		gh.SetUser(oidctest.GitHubUser{ID: 583231, Login: "octo-renamed"},
			oidctest.GitHubEmail{Email: "new@example.com", Primary: true, Verified: false})
		c2 := env.client()
		env.signInWith(t, c2, "github", "")
		if again := env.me(t, c2); again == nil || again.ID != me.ID {
			t.Errorf("returning GitHub user = %+v, want %s", again, me.ID)
		}

		// Cancelled at GitHub: a readable refusal.
		gh.SetDeny(true)
		r = env.signInWith(t, env.client(), "github", "")
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Signing in with GitHub was cancelled") {
			t.Errorf("denied GitHub sign-in = %d, want 401 with a readable message", r.status)
		}
	})
}

func TestOAuthOffAndUnknown(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	for _, path := range []string{"/oauth/google/start", "/oauth/google/callback?code=x&state=y"} {
		if r := env.do(nil, "GET", path, nil); r.status != http.StatusNotFound {
			t.Errorf("GET %s with no providers = %d, want 404", path, r.status)
		}
	}
	idp := oidctest.New(oidctest.Options{})
	t.Cleanup(idp.Close)
	senv := newSocialEnv(t, storetestSQLite(t), []oauthlogin.ProviderConfig{oidcConfig(idp, "test")})
	if r := senv.do(nil, "GET", "/oauth/nope/start", nil); r.status != http.StatusNotFound {
		t.Errorf("GET /oauth/nope/start = %d, want 404", r.status)
	}
}

// A provider sign-in of a user with TOTP on asks for the code before any
// session starts.
func TestOAuthSignInAsksSecondFactor(t *testing.T) {
	idp := oidctest.New(oidctest.Options{})
	t.Cleanup(idp.Close)
	st := storetest.OpenSQLite(t)
	env := newSocialEnv(t, st, []oauthlogin.ProviderConfig{oidcConfig(idp, "test")})
	c := env.client()
	env.signInWith(t, c, "test", "")
	me := env.me(t, c)
	if me == nil {
		t.Fatal("not signed in")
	}
	secret := env.enableTOTP(t, me)

	c2 := env.client()
	r := env.signInWith(t, c2, "test", "/dest")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login/mfa" {
		t.Fatalf("callback for a user with TOTP = %d to %q, want 303 to /login/mfa", r.status, r.header.Get("Location"))
	}
	wantNoSession(t, "callback before the second factor", r)
	if env.me(t, c2) != nil {
		t.Fatal("signed in before the second factor")
	}
	r = env.postForm(c2, "/login/mfa", url.Values{"code": {codeAt(t, secret, time.Now().Add(30*time.Second))}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/dest" {
		t.Fatalf("POST /login/mfa = %d to %q, want 303 to /dest", r.status, r.header.Get("Location"))
	}
	if got := env.me(t, c2); got == nil || got.ID != me.ID {
		t.Errorf("after the code: signed in as %+v, want %s", got, me.ID)
	}
}

// tWriter sends a log to the test's log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
