package web

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func (e *testEnv) tokenLogin(loginName, password string) (tokenResponse, response) {
	e.t.Helper()
	r := e.doJSON(nil, "POST", "/api/auth/login", map[string]string{"login": loginName, "password": password})
	var tr tokenResponse
	json.Unmarshal([]byte(r.body), &tr)
	return tr, r
}

func (e *testEnv) refresh(rt string) (tokenResponse, response) {
	e.t.Helper()
	r := e.doJSON(nil, "POST", "/api/auth/refresh", map[string]string{"refresh_token": rt})
	var tr tokenResponse
	json.Unmarshal([]byte(r.body), &tr)
	return tr, r
}

func bearerHeader(at string) []string { return []string{"Authorization", "Bearer " + at} }

func errorCode(body string) string {
	var e errorBody
	json.Unmarshal([]byte(body), &e)
	return e.Error
}

// The token flow of the contract: register, login, /api/me with the access
// token, refresh, reuse of the old refresh token ends the family, login
// again, logout, and the access token is refused at once.
func TestTokenFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		r := env.doJSON(nil, "POST", "/api/auth/register", map[string]string{"username": "tina", "email": "tina@example.com", "password": pw})
		if r.status != 201 || !strings.Contains(r.body, `"user":{`) || strings.Contains(r.body, "password") {
			t.Fatalf("register = %d %s", r.status, r.body)
		}
		pair, r := env.tokenLogin("tina", pw)
		if r.status != 200 || pair.TokenType != "Bearer" || pair.ExpiresIn < 800 || pair.ExpiresIn > 900 ||
			!strings.HasPrefix(pair.RefreshToken, "ghr_") || pair.User == nil || pair.User.Username != "tina" {
			t.Fatalf("login = %d %s", r.status, r.body)
		}
		if got := r.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("token response Cache-Control = %q, want no-store", got)
		}
		if r := env.do(nil, "GET", "/api/me", nil, bearerHeader(pair.AccessToken)...); r.status != 200 || !strings.Contains(r.body, `"username":"tina"`) {
			t.Fatalf("/api/me with the access token = %d %s", r.status, r.body)
		}
		next, r := env.refresh(pair.RefreshToken)
		if r.status != 200 || next.RefreshToken == pair.RefreshToken || next.AccessToken == "" {
			t.Fatalf("refresh = %d %s", r.status, r.body)
		}
		if r := env.do(nil, "GET", "/api/me", nil, bearerHeader(next.AccessToken)...); r.status != 200 {
			t.Errorf("/api/me with the refreshed token = %d", r.status)
		}
		// The old refresh token again: reuse. The family and its session end.
		if _, r := env.refresh(pair.RefreshToken); r.status != 401 || errorCode(r.body) != "token_reused" {
			t.Errorf("reused refresh token = %d %s, want 401 token_reused", r.status, r.body)
		}
		if _, r := env.refresh(next.RefreshToken); r.status != 401 || errorCode(r.body) != "invalid_token" {
			t.Errorf("the newer refresh token after reuse = %d %s, want 401 invalid_token", r.status, r.body)
		}
		if r := env.do(nil, "GET", "/api/me", nil, bearerHeader(next.AccessToken)...); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("access token of the revoked family = %d, want 401 with WWW-Authenticate", r.status)
		}
		// Login again, then logout: the access token is refused at once.
		pair, _ = env.tokenLogin("tina@example.com", pw)
		if r := env.do(nil, "POST", "/api/auth/logout", nil, bearerHeader(pair.AccessToken)...); r.status != 204 {
			t.Fatalf("logout = %d %s", r.status, r.body)
		}
		if r := env.do(nil, "GET", "/api/me", nil, bearerHeader(pair.AccessToken)...); r.status != 401 {
			t.Errorf("/api/me after logout = %d, want 401", r.status)
		}
		if _, r := env.refresh(pair.RefreshToken); r.status != 401 {
			t.Errorf("refresh after logout = %d, want 401", r.status)
		}
		// Wrong password: one answer.
		if _, r := env.tokenLogin("tina", "not the password"); r.status != 401 || errorCode(r.body) != "invalid_credentials" {
			t.Errorf("login with a wrong password = %d %s", r.status, r.body)
		}
		if _, r := env.tokenLogin("nobody", "not the password"); r.status != 401 || errorCode(r.body) != "invalid_credentials" {
			t.Errorf("login of an unknown user = %d %s", r.status, r.body)
		}
	})
}

// Token logins are sessions: they show in the list, and logout-all, a
// password change and disabling end their tokens.
func TestTokenSessionsAndRevocation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		env.mustRegister("root", pw, "user", "admin")
		env.mustRegister("vera", pw)
		a, _ := env.tokenLogin("vera", pw)
		b, _ := env.tokenLogin("vera", pw)
		browser := env.client()
		login(env, browser, "vera", pw)
		r := env.do(nil, "GET", "/api/sessions", nil, bearerHeader(a.AccessToken)...)
		if n := strings.Count(r.body, `"id":`); r.status != 200 || n != 3 {
			t.Errorf("sessions seen by a token = %d, %d entries (%s); want the two token logins and the browser", r.status, n, r.body)
		}
		// A password change through the API keeps the caller and ends the rest.
		r = env.doJSON(nil, "POST", "/api/auth/password", map[string]string{"current_password": pw, "new_password": "a new long passphrase"}, bearerHeader(a.AccessToken)...)
		if r.status != 204 {
			t.Fatalf("password change = %d %s", r.status, r.body)
		}
		if r := env.do(nil, "GET", "/api/me", nil, bearerHeader(a.AccessToken)...); r.status != 200 {
			t.Errorf("the caller's token after its password change = %d, want 200", r.status)
		}
		for name, check := range map[string]func() int{
			"other token":    func() int { return env.do(nil, "GET", "/api/me", nil, bearerHeader(b.AccessToken)...).status },
			"other refresh":  func() int { _, r := env.refresh(b.RefreshToken); return r.status },
			"browser cookie": func() int { return env.do(browser, "GET", "/api/me", nil).status },
		} {
			if got := check(); got != 401 {
				t.Errorf("%s after the password change = %d, want 401", name, got)
			}
		}
		// Disabling by an admin ends the remaining token at once.
		admin, _ := env.tokenLogin("root", pw)
		vera, _ := env.store.FindUserByLogin(t.Context(), "vera")
		if r := env.doJSON(nil, "PATCH", "/api/admin/users/"+vera.ID, map[string]any{"active": false}, bearerHeader(admin.AccessToken)...); r.status != 200 {
			t.Fatalf("disable with an admin token = %d %s", r.status, r.body)
		}
		if r := env.do(nil, "GET", "/api/me", nil, bearerHeader(a.AccessToken)...); r.status != 401 {
			t.Errorf("token of a disabled user = %d, want 401", r.status)
		}
		// A plain user's token gets 403 on the admin API.
		env.mustRegister("walt", pw)
		w, _ := env.tokenLogin("walt", pw)
		if r := env.do(nil, "GET", "/api/admin/users", nil, bearerHeader(w.AccessToken)...); r.status != 403 {
			t.Errorf("admin API with a user token = %d, want 403", r.status)
		}
		// Logout-all.
		w2, _ := env.tokenLogin("walt", pw)
		if r := env.do(nil, "POST", "/api/auth/logout-all", nil, bearerHeader(w.AccessToken)...); r.status != 204 {
			t.Errorf("logout-all = %d", r.status)
		}
		if r := env.do(nil, "GET", "/api/me", nil, bearerHeader(w2.AccessToken)...); r.status != 401 {
			t.Errorf("another token after logout-all = %d, want 401", r.status)
		}
	})
}

// Ten concurrent refreshes of one token: exactly one wins.
func TestConcurrentRefresh(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		env.mustRegister("xena", pw)
		pair, _ := env.tokenLogin("xena", pw)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, r := env.refresh(pair.RefreshToken); r.status == 200 {
					wins.Add(1)
				} else if r.status != 401 {
					t.Errorf("concurrent refresh = %d %s", r.status, r.body)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("10 concurrent refreshes: %d succeeded, want exactly 1", wins.Load())
		}
	})
}

func TestJWKSAndIntrospection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		r := env.do(nil, "GET", "/.well-known/jwks.json", nil)
		if r.status != 200 || !strings.Contains(r.body, `"keys"`) || !strings.Contains(r.body, `"use":"sig"`) || strings.Contains(r.body, `"d"`) {
			t.Errorf("JWKS = %d %s", r.status, r.body)
		}
		admin := env.client()
		env.mustRegister("root", pw, "user", "admin")
		login(env, admin, "root", pw)
		var key struct{ Key string }
		r = env.doJSON(admin, "POST", "/api/admin/api-keys", map[string]any{"name": "backend", "scopes": []string{"introspect", "revocations"}})
		json.Unmarshal([]byte(r.body), &key)
		env.mustRegister("yuri", pw)
		pair, _ := env.tokenLogin("yuri", pw)

		introspect := func(tok string, headers ...string) map[string]any {
			r := env.doJSON(nil, "POST", "/api/introspect", map[string]string{"token": tok}, headers...)
			var out map[string]any
			json.Unmarshal([]byte(r.body), &out)
			if r.status != 200 {
				out = map[string]any{"status": float64(r.status)}
			}
			return out
		}
		if got := introspect(pair.AccessToken); got["status"] != float64(401) {
			t.Errorf("introspect without a key = %v, want 401", got)
		}
		got := introspect(pair.AccessToken, "Authorization", "Bearer "+key.Key)
		if got["active"] != true || got["username"] != "yuri" || got["sid"] == "" {
			t.Errorf("introspect active token = %v", got)
		}
		for _, bad := range []string{"", "garbage", pair.RefreshToken, key.Key, pair.AccessToken + "x"} {
			if got := introspect(bad, "Authorization", "Bearer "+key.Key); got["active"] != false || len(got) != 1 {
				t.Errorf("introspect(%q) = %v, want only active:false", bad, got)
			}
		}
		// Revocation feed: logout shows up with the session ID.
		feed := func(since string) (map[string]any, int) {
			r := env.do(nil, "GET", "/api/auth/revocations"+since, nil, "Authorization", "Bearer "+key.Key)
			var out map[string]any
			json.Unmarshal([]byte(r.body), &out)
			return out, r.status
		}
		before, status := feed("")
		if status != 200 {
			t.Fatalf("feed = %d", status)
		}
		env.do(nil, "POST", "/api/auth/logout", nil, bearerHeader(pair.AccessToken)...)
		after, _ := feed("?since=" + before["cursor"].(string))
		revoked, _ := after["revoked"].([]any)
		if len(revoked) != 1 || revoked[0].(map[string]any)["sid"] == "" {
			t.Errorf("feed after logout = %v, want one entry", after)
		}
		if got := introspect(pair.AccessToken, "Authorization", "Bearer "+key.Key); got["active"] != false {
			t.Errorf("introspect after logout = %v, want inactive", got)
		}
		if _, status := feed("?since=-1"); status != 400 {
			t.Errorf("feed with a bad cursor = %d, want 400", status)
		}
		if r := env.do(nil, "GET", "/api/auth/revocations", nil, bearerHeader(pair.AccessToken)...); r.status != 401 {
			t.Errorf("feed with a revoked user token = %d, want 401", r.status)
		}
		live, _ := env.tokenLogin("yuri", pw)
		if r := env.do(nil, "GET", "/api/auth/revocations", nil, bearerHeader(live.AccessToken)...); r.status != 403 {
			t.Errorf("feed with a user token = %d, want 403 (needs an API key)", r.status)
		}
	})
}
