package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/webauthntest"
	"github.com/gatehouse-dev/gatehouse/passkey"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// pkOrigin is the origin of the page the tests' software authenticator
// answers from; the relying party allows it and nothing else.
const pkOrigin = "http://localhost:8080"

// pkClock is the relying party's clock, which tests move to expire
// ceremonies. Sessions and tokens keep the real time.
type pkClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *pkClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *pkClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// pkEnv is a server with passkeys on, as gatehouse.New builds it: the
// ceremonies in the database.
type pkEnv struct {
	*testEnv
	clock *pkClock
}

func newPasskeyEnv(t testing.TB, st store.Store) *pkEnv {
	t.Helper()
	clk := &pkClock{now: time.Now()}
	env := newEnv(t, st, func(c *Config) {
		rp, err := passkey.New(passkey.Config{RPID: "localhost", Origins: []string{pkOrigin}, Store: st, Now: clk.Now,
			Challenges: passkey.NewTokenChallengeStore(st, clk.Now)})
		if err != nil {
			t.Fatal(err)
		}
		c.Passkeys = rp
	})
	return &pkEnv{testEnv: env, clock: clk}
}

func forEachPasskeyBackend(t *testing.T, fn func(t *testing.T, e *pkEnv)) {
	for _, b := range storetest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, newPasskeyEnv(t, b.Open(t))) })
	}
}

// passkeyJSON is the {passkey} object of the API.
type passkeyJSON struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	Synced      bool       `json:"synced"`
	DeviceBound bool       `json:"device_bound"`
}

// begin posts to a …/begin endpoint.
func (e *pkEnv) begin(c *http.Client, path string, body any, headers ...string) (ceremonyBegun, response) {
	e.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	r := e.doJSON(c, "POST", path, body, headers...)
	var b ceremonyBegun
	json.Unmarshal([]byte(r.body), &b)
	return b, r
}

// finish posts a credential to a …/finish endpoint, with extra fields.
func (e *pkEnv) finish(c *http.Client, path, id string, credential []byte, extra map[string]any, headers ...string) response {
	e.t.Helper()
	body := map[string]any{"ceremony_id": id, "credential": json.RawMessage(credential)}
	for k, v := range extra {
		body[k] = v
	}
	return e.doJSON(c, "POST", path, body, headers...)
}

// addPasskey registers a passkey made by a to the account that headers
// authenticate, named name.
func (e *pkEnv) addPasskey(c *http.Client, a *webauthntest.Authenticator, name string, headers ...string) passkeyJSON {
	e.t.Helper()
	b, r := e.begin(c, "/api/passkeys/register/begin", nil, headers...)
	if r.status != http.StatusOK || b.CeremonyID == "" {
		e.t.Fatalf("register/begin = %d %s", r.status, r.body)
	}
	cred, _, err := a.Create(b.Options)
	if err != nil {
		e.t.Fatalf("authenticator Create() = %v", err)
	}
	r = e.finish(c, "/api/passkeys/register/finish", b.CeremonyID, cred, map[string]any{"name": name}, headers...)
	var out struct{ Passkey passkeyJSON }
	if r.status != http.StatusCreated || json.Unmarshal([]byte(r.body), &out) != nil {
		e.t.Fatalf("register/finish = %d %s, want 201 {passkey}", r.status, r.body)
	}
	return out.Passkey
}

// loginAnswer begins a passkey sign-in and has a answer it.
func (e *pkEnv) loginAnswer(a *webauthntest.Authenticator, opts ...webauthntest.Option) (string, []byte) {
	e.t.Helper()
	b, r := e.begin(nil, "/api/passkeys/login/begin", nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("login/begin = %d %s", r.status, r.body)
	}
	cred, err := a.Get(b.Options, opts...)
	if err != nil {
		e.t.Fatalf("authenticator Get() = %v", err)
	}
	return b.CeremonyID, cred
}

// signUp creates an account with a passkey made by a, through the API.
func (e *pkEnv) signUp(c *http.Client, a *webauthntest.Authenticator, username string, extra map[string]any) response {
	e.t.Helper()
	b, r := e.begin(c, "/api/passkeys/signup/begin", map[string]string{"username": username, "email": username + "@example.com"})
	if r.status != http.StatusOK {
		e.t.Fatalf("signup/begin = %d %s", r.status, r.body)
	}
	cred, _, err := a.Create(b.Options)
	if err != nil {
		e.t.Fatalf("authenticator Create() = %v", err)
	}
	return e.finish(c, "/api/passkeys/signup/finish", b.CeremonyID, cred, extra)
}

func (e *pkEnv) events(typ, userID string) []*auth.Event {
	e.t.Helper()
	list, _, err := e.store.FindEvents(context.Background(), auth.EventFilter{Type: typ, UserID: userID, Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func wantRefused(t *testing.T, what string, r response) {
	t.Helper()
	if r.status != http.StatusBadRequest || errorCode(r.body) != auth.EInvalidRequest {
		t.Errorf("%s: got status %d %s, want 400 invalid_request", what, r.status, r.body)
	}
	if sessionCookie(r) != nil {
		t.Errorf("%s: a refused ceremony set a session cookie", what)
	}
}

// Acceptance 1, over HTTP: add a passkey, then sign in with it, as an app
// (tokens) and as the hosted page (the session cookie).
func TestPasskeyRegisterThenLogin(t *testing.T) {
	forEachPasskeyBackend(t, func(t *testing.T, e *pkEnv) {
		alice := e.mustRegister("alice", pw)
		pair, _ := e.tokenLogin("alice", pw)
		bearer := bearerHeader(pair.AccessToken)
		a := webauthntest.New(pkOrigin)

		pk := e.addPasskey(nil, a, "  Laptop ", bearer...)
		if pk.Name != "Laptop" || !pk.Synced || pk.DeviceBound || pk.LastUsedAt != nil || pk.ID == "" {
			t.Errorf("new passkey = %+v, want Laptop, synced, never used", pk)
		}
		r := e.do(nil, "GET", "/api/passkeys", nil, bearer...)
		var list struct{ Passkeys []passkeyJSON }
		if json.Unmarshal([]byte(r.body), &list); r.status != 200 || len(list.Passkeys) != 1 || list.Passkeys[0].ID != pk.ID {
			t.Fatalf("GET /api/passkeys = %d %s, want the one passkey", r.status, r.body)
		}
		if strings.Contains(r.body, "public_key") || strings.Contains(r.body, "credential_id") {
			t.Errorf("GET /api/passkeys shows key material: %s", r.body)
		}

		// As an app: a token pair, as for a password.
		id, cred := e.loginAnswer(a)
		r = e.finish(nil, "/api/passkeys/login/finish", id, cred, nil)
		var got tokenResponse
		if json.Unmarshal([]byte(r.body), &got); r.status != 200 || got.TokenType != "Bearer" || got.User == nil || got.User.ID != alice.ID ||
			!strings.HasPrefix(got.RefreshToken, RefreshPrefix) || got.User.LastLoginAt == nil {
			t.Fatalf("login/finish = %d %s, want a token pair for alice", r.status, r.body)
		}
		if sessionCookie(r) != nil {
			t.Error("login/finish without set_cookie set a session cookie")
		}
		if r := e.do(nil, "GET", "/api/me", nil, bearerHeader(got.AccessToken)...); r.status != 200 {
			t.Errorf("/api/me with the passkey's access token = %d", r.status)
		}

		// As the hosted page: the session cookie and where to go.
		for _, tc := range []struct{ returnTo, want string }{
			{"", "/account"},
			{"/account?tab=passkeys", "/account?tab=passkeys"},
			{"https://evil.example/", "/account"},
			{"//evil.example", "/account"},
		} {
			c := e.client()
			id, cred := e.loginAnswer(a)
			r := e.finish(c, "/api/passkeys/login/finish", id, cred, map[string]any{"set_cookie": true, "remember": true, "return_to": tc.returnTo})
			var signedIn browserSignedIn
			json.Unmarshal([]byte(r.body), &signedIn)
			cookie := sessionCookie(r)
			if r.status != 200 || signedIn.RedirectTo != tc.want || signedIn.User == nil || cookie == nil || cookie.MaxAge <= 0 || strings.Contains(r.body, "access_token") {
				t.Fatalf("login/finish with set_cookie, return_to %q = %d %s; want redirect_to %q and a persistent session cookie", tc.returnTo, r.status, r.body, tc.want)
			}
		}
		c := e.client()
		id, cred = e.loginAnswer(a)
		e.finish(c, "/api/passkeys/login/finish", id, cred, map[string]any{"set_cookie": true})
		r = e.do(c, "GET", "/account", nil)
		if r.status != 200 || !strings.Contains(r.body, `id="passkeys-title"`) || !strings.Contains(r.body, "Laptop") ||
			!strings.Contains(r.body, "synced") || !strings.Contains(r.body, "last used") {
			t.Errorf("GET /account after a passkey sign-in = %d; want the passkey listed with its last use", r.status)
		}
		if !strings.Contains(r.body, "passkey.js") || !strings.Contains(r.body, `id="passkey-add"`) {
			t.Error("the account page offers no way to add a passkey")
		}

		if n := len(e.events(auth.EventPasskeyRegistered, alice.ID)); n != 1 {
			t.Errorf("%d passkey.registered events, want 1", n)
		}
		signIns := 0
		for _, ev := range e.events(auth.EventLoginSucceeded, alice.ID) {
			if ev.Data["method"] == "passkey" && ev.Data["passkey_id"] == pk.ID {
				signIns++
			}
		}
		if signIns != 6 {
			t.Errorf("%d login.succeeded events with method passkey, want 6", signIns)
		}
	})
}

// Acceptance 1's refusals, over HTTP: each changes one thing about a good
// answer, and each is 400 invalid_request with no session.
func TestPasskeyLoginRefused(t *testing.T) {
	forEachPasskeyBackend(t, func(t *testing.T, e *pkEnv) {
		alice := e.mustRegister("alice", pw)
		pair, _ := e.tokenLogin("alice", pw)
		a := webauthntest.New(pkOrigin)
		e.addPasskey(nil, a, "", bearerHeader(pair.AccessToken)...)
		const path = "/api/passkeys/login/finish"

		t.Run("replayed assertion", func(t *testing.T) {
			id, cred := e.loginAnswer(a)
			if r := e.finish(nil, path, id, cred, nil); r.status != 200 {
				t.Fatalf("first finish = %d %s", r.status, r.body)
			}
			wantRefused(t, "the same body again", e.finish(nil, path, id, cred, nil))
		})
		t.Run("challenge used twice", func(t *testing.T) {
			b, _ := e.begin(nil, "/api/passkeys/login/begin", nil)
			first, _ := a.Get(b.Options)
			second, _ := a.Get(b.Options) // a new signature over the same challenge
			if r := e.finish(nil, path, b.CeremonyID, first, nil); r.status != 200 {
				t.Fatalf("first answer = %d %s", r.status, r.body)
			}
			wantRefused(t, "a second answer to the challenge", e.finish(nil, path, b.CeremonyID, second, nil))
		})
		t.Run("expired challenge", func(t *testing.T) {
			id, cred := e.loginAnswer(a)
			e.clock.Add(passkey.MaxTimeout)
			wantRefused(t, "an answer after five minutes", e.finish(nil, path, id, cred, nil))
		})
		t.Run("challenge from another ceremony", func(t *testing.T) {
			b1, _ := e.begin(nil, "/api/passkeys/login/begin", nil)
			b2, _ := e.begin(nil, "/api/passkeys/login/begin", nil)
			cred, _ := a.Get(b1.Options)
			wantRefused(t, "ceremony B with the answer to A", e.finish(nil, path, b2.CeremonyID, cred, nil))
			// B is spent by the attempt; A, never presented, still works.
			if r := e.finish(nil, path, b1.CeremonyID, cred, nil); r.status != 200 {
				t.Errorf("ceremony A with its own answer = %d %s, want 200", r.status, r.body)
			}
		})
		t.Run("registration ceremony", func(t *testing.T) {
			b, _ := e.begin(nil, "/api/passkeys/register/begin", nil, bearerHeader(pair.AccessToken)...)
			_, cred := e.loginAnswer(a)
			wantRefused(t, "login/finish with a registration's ceremony", e.finish(nil, path, b.CeremonyID, cred, nil))
		})
		for _, tc := range []struct {
			name string
			opt  webauthntest.Option
		}{
			{"wrong origin", webauthntest.WithOrigin("https://evil.example")},
			{"origin on another port", webauthntest.WithOrigin("http://localhost:8443")},
			{"wrong RP ID hash", webauthntest.WithRPID("evil.example")},
			{"missing UV flag", webauthntest.ClearFlags(webauthntest.FlagUV)},
			{"missing UP flag", webauthntest.ClearFlags(webauthntest.FlagUP)},
			{"type webauthn.create", webauthntest.WithType("webauthn.create")},
			{"signature flipped", webauthntest.WithSignature(webauthntest.FlipLastByte)},
			{"crossOrigin", webauthntest.WithCrossOrigin()},
		} {
			t.Run(tc.name, func(t *testing.T) {
				id, cred := e.loginAnswer(a, tc.opt)
				wantRefused(t, tc.name, e.finish(nil, path, id, cred, nil))
			})
		}
		failed := 0
		for _, ev := range e.events(auth.EventLoginFailed, alice.ID) {
			if ev.Data["method"] == "passkey" {
				failed++
			}
		}
		if failed < 8 {
			t.Errorf("%d login.failed events with method passkey against alice, want one per refused answer of hers (8 or more)", failed)
		}
	})
}

// A registration's refusals: another user's ceremony, and answers that fail
// a check, add no passkey.
func TestPasskeyRegisterRefused(t *testing.T) {
	forEachPasskeyBackend(t, func(t *testing.T, e *pkEnv) {
		e.mustRegister("alice", pw)
		e.mustRegister("bob", pw)
		alice, _ := e.tokenLogin("alice", pw)
		bob, _ := e.tokenLogin("bob", pw)
		const path = "/api/passkeys/register/finish"

		b, _ := e.begin(nil, "/api/passkeys/register/begin", nil, bearerHeader(bob.AccessToken)...)
		cred, _, _ := webauthntest.New(pkOrigin).Create(b.Options)
		wantRefused(t, "alice finishing bob's registration", e.finish(nil, path, b.CeremonyID, cred, nil, bearerHeader(alice.AccessToken)...))
		wantRefused(t, "bob, after alice spent his ceremony", e.finish(nil, path, b.CeremonyID, cred, nil, bearerHeader(bob.AccessToken)...))

		for _, tc := range []struct {
			name string
			opt  webauthntest.Option
		}{
			{"wrong origin", webauthntest.WithOrigin("https://evil.example")},
			{"wrong RP ID hash", webauthntest.WithRPID("evil.example")},
			{"missing UV flag", webauthntest.ClearFlags(webauthntest.FlagUV)},
			{"type webauthn.get", webauthntest.WithType("webauthn.get")},
		} {
			b, _ := e.begin(nil, "/api/passkeys/register/begin", nil, bearerHeader(alice.AccessToken)...)
			cred, _, _ := webauthntest.New(pkOrigin).Create(b.Options, tc.opt)
			wantRefused(t, tc.name, e.finish(nil, path, b.CeremonyID, cred, nil, bearerHeader(alice.AccessToken)...))
		}
		b, _ = e.begin(nil, "/api/passkeys/register/begin", nil, bearerHeader(alice.AccessToken)...)
		cred, _, _ = webauthntest.New(pkOrigin).Create(b.Options)
		r := e.finish(nil, path, b.CeremonyID, cred, map[string]any{"name": strings.Repeat("x", 65)}, bearerHeader(alice.AccessToken)...)
		if wantRefused(t, "a name of 65 characters", r); !strings.Contains(r.body, `"name"`) {
			t.Errorf("a bad name: %s, want fields.name", r.body)
		}
		// The bad name was caught before the ceremony was spent.
		if r := e.finish(nil, path, b.CeremonyID, cred, nil, bearerHeader(alice.AccessToken)...); r.status != http.StatusCreated {
			t.Errorf("the same ceremony with a good name = %d %s, want 201", r.status, r.body)
		}
		if r := e.do(nil, "GET", "/api/passkeys", nil, bearerHeader(alice.AccessToken)...); strings.Count(r.body, `"id"`) != 1 {
			t.Errorf("alice's passkeys after the refusals: %s, want only the last", r.body)
		}
		if r := e.doJSON(nil, "POST", "/api/passkeys/register/begin", map[string]any{}); r.status != http.StatusUnauthorized {
			t.Errorf("register/begin without credentials = %d, want 401", r.status)
		}
	})
}

// A sign-up with a passkey and no password; an abandoned one leaves no
// account.
func TestPasskeySignUp(t *testing.T) {
	forEachPasskeyBackend(t, func(t *testing.T, e *pkEnv) {
		e.mustRegister("alice", pw)
		ctx := context.Background()

		for _, tc := range []struct {
			name, username, email string
			status                int
			field                 string
		}{
			{"invalid username", "a", "a@example.com", http.StatusUnprocessableEntity, "username"},
			{"invalid email", "nora", "nora", http.StatusUnprocessableEntity, "email"},
			{"taken username", "Alice", "other@example.com", http.StatusConflict, "username"},
			{"taken email", "other", "ALICE@example.com", http.StatusConflict, "email"},
		} {
			_, r := e.begin(nil, "/api/passkeys/signup/begin", map[string]string{"username": tc.username, "email": tc.email})
			if r.status != tc.status || !strings.Contains(r.body, `"`+tc.field+`"`) {
				t.Errorf("signup/begin (%s) = %d %s, want %d naming %s", tc.name, r.status, r.body, tc.status, tc.field)
			}
		}

		// Abandoned after begin, and after the authenticator made a key.
		b, _ := e.begin(nil, "/api/passkeys/signup/begin", map[string]string{"username": "nora", "email": "nora@example.com"})
		webauthntest.New(pkOrigin).Create(b.Options)
		if _, err := e.store.FindUserByLogin(ctx, "nora"); !auth.IsNotFound(err) {
			t.Errorf("after an abandoned sign-up, FindUserByLogin(nora) = %v, want not found", err)
		}

		a := webauthntest.New(pkOrigin)
		r := e.signUp(nil, a, "nora", map[string]any{"name": "Phone"})
		var got struct {
			tokenResponse
			Passkey passkeyJSON
		}
		json.Unmarshal([]byte(r.body), &got)
		if r.status != http.StatusCreated || got.User == nil || got.User.Username != "nora" || got.Passkey.Name != "Phone" || got.AccessToken == "" {
			t.Fatalf("signup/finish = %d %s, want 201 with nora, her passkey and tokens", r.status, r.body)
		}
		nora, err := e.store.FindUserByLogin(ctx, "nora")
		if err != nil || nora.HasPassword() || !nora.Active {
			t.Fatalf("nora = %+v, %v; want an active account without a password", nora, err)
		}
		if r := e.do(nil, "GET", "/api/me", nil, bearerHeader(got.AccessToken)...); r.status != 200 {
			t.Errorf("/api/me with the sign-up's token = %d", r.status)
		}
		id, cred := e.loginAnswer(a)
		if r := e.finish(nil, "/api/passkeys/login/finish", id, cred, nil); r.status != 200 || !strings.Contains(r.body, `"username":"nora"`) {
			t.Errorf("passkey sign-in after sign-up = %d %s", r.status, r.body)
		}
		var registered int
		for _, ev := range e.events(auth.EventUserRegistered, nora.ID) {
			if ev.Data["method"] == "passkey" {
				registered++
			}
		}
		if registered != 1 || len(e.events(auth.EventPasskeyRegistered, nora.ID)) != 1 {
			t.Errorf("audit: %d user.registered with method passkey, %d passkey.registered; want 1 and 1",
				registered, len(e.events(auth.EventPasskeyRegistered, nora.ID)))
		}

		// The hosted page's way: a session cookie and the welcome.
		c := e.client()
		r = e.signUp(c, webauthntest.New(pkOrigin), "olga", map[string]any{"set_cookie": true, "return_to": "/account"})
		if r.status != http.StatusCreated || sessionCookie(r) == nil || !strings.Contains(r.body, `"redirect_to":"/account"`) || strings.Contains(r.body, "access_token") {
			t.Fatalf("signup/finish with set_cookie = %d %s", r.status, r.body)
		}
		r = e.do(c, "GET", "/account", nil)
		for _, want := range []string{"Welcome! Your account is ready.", "Set a password", `id="passkey-last"`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("account page of a passkey-only account lacks %q", want)
			}
		}
		if strings.Contains(r.body, `id="current_password"`) || strings.Contains(r.body, "/delete\"") {
			t.Error("account page of a passkey-only account asks for a current password or offers to remove its only passkey")
		}

		// A sign-up ceremony finishes nothing else, nor twice.
		b, _ = e.begin(nil, "/api/passkeys/signup/begin", map[string]string{"username": "pia", "email": "pia@example.com"})
		cred, _, _ = webauthntest.New(pkOrigin).Create(b.Options)
		alice, _ := e.tokenLogin("alice", pw)
		wantRefused(t, "register/finish with a sign-up ceremony", e.finish(nil, "/api/passkeys/register/finish", b.CeremonyID, cred, nil, bearerHeader(alice.AccessToken)...))
		wantRefused(t, "signup/finish after the ceremony was spent", e.finish(nil, "/api/passkeys/signup/finish", b.CeremonyID, cred, nil))
		if _, err := e.store.FindUserByLogin(ctx, "pia"); !auth.IsNotFound(err) {
			t.Errorf("a refused sign-up created pia: %v", err)
		}
	})
}

// Acceptance 3: a passkey-only account cannot remove its last passkey, by
// the API or the page, not even with two removals at once.
func TestPasskeyLastSignInMethod(t *testing.T) {
	forEachPasskeyBackend(t, func(t *testing.T, e *pkEnv) {
		c := e.client()
		a := webauthntest.New(pkOrigin)
		r := e.signUp(c, a, "nora", map[string]any{"set_cookie": true})
		var su struct{ Passkey passkeyJSON }
		json.Unmarshal([]byte(r.body), &su)
		first := su.Passkey.ID

		r = e.do(c, "DELETE", "/api/passkeys/"+first, nil)
		if r.status != http.StatusConflict || errorCode(r.body) != auth.EConflict || !strings.Contains(r.body, "only way to sign in") {
			t.Errorf("DELETE the only passkey = %d %s, want 409 conflict", r.status, r.body)
		}
		if r := e.postForm(c, "/account/passkeys/"+first+"/delete", nil); r.status != http.StatusConflict || !strings.Contains(r.body, "only way to sign in") {
			t.Errorf("POST /account/passkeys/{id}/delete of the only passkey = %d, want the 409 error page", r.status)
		}

		second := e.addPasskey(c, webauthntest.New(pkOrigin), "Key")
		third := e.addPasskey(c, webauthntest.New(pkOrigin), "Spare")
		if r := e.do(c, "GET", "/account", nil); strings.Count(r.body, "/delete\"") != 3 || strings.Contains(r.body, `id="passkey-last"`) {
			t.Errorf("account page with three passkeys offers %d removals, want 3", strings.Count(r.body, "/delete\""))
		}
		if r := e.postForm(c, "/account/passkeys/"+third.ID+"/delete", nil); r.status != http.StatusSeeOther {
			t.Errorf("removing one of three from the page = %d, want 303", r.status)
		}
		// Two removals at once: one wins, and one passkey stays.
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i, id := range []string{first, second.ID} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = e.do(c, "DELETE", "/api/passkeys/"+id, nil).status
			}()
		}
		wg.Wait()
		if !(statuses[0] == 204 && statuses[1] == 409 || statuses[0] == 409 && statuses[1] == 204) {
			t.Errorf("concurrent removals of the last two = %v, want one 204 and one 409", statuses)
		}
		r = e.do(c, "GET", "/api/passkeys", nil)
		if strings.Count(r.body, `"id"`) != 1 {
			t.Fatalf("after the removals: %s, want one passkey left", r.body)
		}
		nora, _ := e.store.FindUserByLogin(context.Background(), "nora")
		if n := len(e.events(auth.EventPasskeyRemoved, nora.ID)); n != 2 {
			t.Errorf("%d passkey.removed events, want 2", n)
		}

		// With a password set (no current one asked for), it can go.
		if r := e.doJSON(c, "POST", "/api/auth/password", map[string]string{"new_password": pw}); r.status != http.StatusNoContent {
			t.Fatalf("setting a first password = %d %s", r.status, r.body)
		}
		var left struct{ Passkeys []passkeyJSON }
		json.Unmarshal([]byte(e.do(c, "GET", "/api/passkeys", nil).body), &left)
		if r := e.do(c, "DELETE", "/api/passkeys/"+left.Passkeys[0].ID, nil); r.status != http.StatusNoContent {
			t.Errorf("DELETE the last passkey of an account with a password = %d %s, want 204", r.status, r.body)
		}
	})
}

func TestPasskeyRenameAndOwnership(t *testing.T) {
	forEachPasskeyBackend(t, func(t *testing.T, e *pkEnv) {
		e.mustRegister("alice", pw)
		e.mustRegister("bob", pw)
		alice, _ := e.tokenLogin("alice", pw)
		bob, _ := e.tokenLogin("bob", pw)
		pk := e.addPasskey(nil, webauthntest.New(pkOrigin), "", bearerHeader(alice.AccessToken)...)
		bobs := e.addPasskey(nil, webauthntest.New(pkOrigin), "Bob's", bearerHeader(bob.AccessToken)...)
		if pk.Name != passkey.DefaultName {
			t.Errorf("passkey added without a name is %q, want %q", pk.Name, passkey.DefaultName)
		}

		for _, tc := range []struct {
			name   string
			body   any
			id     string
			status int
			want   string
		}{
			{"rename", map[string]string{"name": "Work laptop"}, pk.ID, 200, `"name":"Work laptop"`},
			{"too long", map[string]string{"name": strings.Repeat("é", 65)}, pk.ID, 422, `"name"`},
			{"blank", map[string]string{"name": "  "}, pk.ID, 422, `"name"`},
			{"no name", map[string]string{}, pk.ID, 422, `"name"`},
			{"bob's passkey", map[string]string{"name": "Mine now"}, bobs.ID, 404, "not_found"},
			{"missing", map[string]string{"name": "x"}, "nope", 404, "not_found"},
		} {
			r := e.doJSON(nil, "PATCH", "/api/passkeys/"+tc.id, tc.body, bearerHeader(alice.AccessToken)...)
			if r.status != tc.status || !strings.Contains(r.body, tc.want) {
				t.Errorf("PATCH (%s) = %d %s, want %d with %s", tc.name, r.status, r.body, tc.status, tc.want)
			}
		}
		if r := e.do(nil, "DELETE", "/api/passkeys/"+bobs.ID, nil, bearerHeader(alice.AccessToken)...); r.status != 404 {
			t.Errorf("alice deleting bob's passkey = %d, want 404", r.status)
		}
		if r := e.do(nil, "GET", "/api/passkeys", nil, bearerHeader(bob.AccessToken)...); !strings.Contains(r.body, "Bob's") || strings.Contains(r.body, "Work laptop") {
			t.Errorf("bob's list = %s, want his passkey only", r.body)
		}

		// The account page's form.
		c := e.client()
		login(e.testEnv, c, "alice", pw)
		r := e.postForm(c, "/account/passkeys/"+pk.ID+"/rename", url.Values{"name": {"Desk"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("rename form = %d %s", r.status, r.body)
		}
		if r := e.do(c, "GET", "/account", nil); !strings.Contains(r.body, "Your passkey was renamed.") || !strings.Contains(r.body, ">Desk</strong>") {
			t.Error("account page after renaming lacks the notice or the new name")
		}
		if r := e.postForm(c, "/account/passkeys/"+pk.ID+"/rename", url.Values{"name": {""}}); r.status != 422 || !strings.Contains(r.body, "Passkey name is required.") {
			t.Errorf("rename form with no name = %d, want 422 saying the name is required", r.status)
		}
		if r := e.postForm(c, "/account/passkeys/"+bobs.ID+"/delete", nil); r.status != 404 {
			t.Errorf("removing bob's passkey from alice's page = %d, want 404", r.status)
		}
	})
}

// Passkeys off (no relying party): the ceremonies answer 404 and the pages
// offer nothing. On: the pages load passkey.js with the CSP nonce.
func TestPasskeyPages(t *testing.T) {
	off := newEnv(t, storetestSQLite(t))
	for _, path := range []string{"/api/passkeys/login/begin", "/api/passkeys/signup/begin"} {
		if r := off.doJSON(nil, "POST", path, map[string]string{"username": "x", "email": "x@example.com"}); r.status != 404 {
			t.Errorf("POST %s with passkeys off = %d, want 404", path, r.status)
		}
	}
	for _, path := range []string{"/login", "/register"} {
		if r := off.do(nil, "GET", path, nil); strings.Contains(r.body, "passkey") {
			t.Errorf("GET %s with passkeys off mentions passkeys", path)
		}
	}

	on := newPasskeyEnv(t, storetestSQLite(t))
	scriptNonce := regexp.MustCompile(`<script src="/static/passkey\.js\?v=\d+" nonce="([^"]+)" defer></script>`)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/login", []string{`autocomplete="username webauthn"`, `id="passkey-login"`, "Sign in with a passkey"}},
		{"/register", []string{`id="passkey-signup"`, "Create an account with a passkey"}},
	} {
		r := on.do(nil, "GET", tc.path, nil)
		for _, want := range tc.want {
			if !strings.Contains(r.body, want) {
				t.Errorf("GET %s lacks %s", tc.path, want)
			}
		}
		m := scriptNonce.FindStringSubmatch(r.body)
		if m == nil || !strings.Contains(r.header.Get("Content-Security-Policy"), "'nonce-"+m[1]+"'") {
			t.Errorf("GET %s: passkey.js is not loaded with the CSP's nonce", tc.path)
		}
	}
	r := on.do(nil, "GET", "/static/passkey.js", nil)
	if r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), "javascript") || !strings.Contains(r.body, "parseRequestOptionsFromJSON") {
		t.Errorf("GET /static/passkey.js = %d %q", r.status, r.header.Get("Content-Type"))
	}
}

// Of concurrent finishes with one answer, exactly one signs in.
func TestPasskeyLoginFinishRace(t *testing.T) {
	e := newPasskeyEnv(t, storetestSQLite(t))
	e.mustRegister("alice", pw)
	pair, _ := e.tokenLogin("alice", pw)
	a := webauthntest.New(pkOrigin)
	e.addPasskey(nil, a, "", bearerHeader(pair.AccessToken)...)
	id, cred := e.loginAnswer(a)
	statuses := make([]int, 8)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.finish(nil, "/api/passkeys/login/finish", id, cred, nil).status
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case 200:
			ok++
		case 400:
		default:
			t.Errorf("concurrent finish = %d, want 200 or 400", s)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent finishes signed in, want exactly 1 (%v)", ok, len(statuses), statuses)
	}
}
