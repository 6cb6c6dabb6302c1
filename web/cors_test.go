package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestCORS(t *testing.T) {
	env := newEnv(t, storetestSQLite(t), func(c *Config) { c.AllowedOrigins = []string{"http://app.example"} })
	tests := []struct {
		name, method, path, origin string
		headers                    []string
		wantStatus                 int
		wantACAO                   string
	}{
		{"preflight from an allowed origin", "OPTIONS", "/api/auth/refresh", "http://app.example",
			[]string{"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type, x-gatehouse-refresh-cookie"}, http.StatusNoContent, "http://app.example"},
		{"preflight from another origin", "OPTIONS", "/api/auth/login", "http://evil.example",
			[]string{"Access-Control-Request-Method", "POST"}, 0, ""},
		{"GET from an allowed origin", "GET", "/api/auth/providers", "http://app.example", nil, http.StatusOK, "http://app.example"},
		{"GET from another origin", "GET", "/api/auth/providers", "http://evil.example", nil, http.StatusOK, ""},
		{"login from another origin", "POST", "/api/auth/login", "http://evil.example",
			[]string{"Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden, ""},
		{"pages get none", "GET", "/login", "http://app.example", nil, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := append([]string{"Origin", tt.origin}, tt.headers...)
			var body *strings.Reader
			if tt.method == "POST" {
				body = strings.NewReader(`{"login":"ada","password":"a long user password"}`)
			} else {
				body = strings.NewReader("")
			}
			resp := env.do(nil, tt.method, tt.path, body, h...)
			if tt.wantStatus != 0 && resp.status != tt.wantStatus {
				t.Errorf("%s %s: got status %d, want %d", tt.method, tt.path, resp.status, tt.wantStatus)
			}
			if got := resp.header.Get("Access-Control-Allow-Origin"); got != tt.wantACAO {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantACAO)
			}
			if tt.wantACAO != "" && resp.header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Error("Access-Control-Allow-Credentials is not true for an allowed origin")
			}
			if strings.Contains(resp.body, "access_token") {
				t.Errorf("a token was issued: %s", resp.body)
			}
		})
	}
}

// TestRefreshCookie signs in asking for the refresh cookie, refreshes from
// the cookie alone, and signs out.
func TestRefreshCookie(t *testing.T) {
	env := newEnv(t, storetestSQLite(t), func(c *Config) { c.AllowedOrigins = []string{"http://app.example"} })
	env.mustRegister("ada", "a long user password")
	c := env.client()
	hdr := []string{"Content-Type", "application/json", RefreshCookieHeader, "1", "Origin", "http://app.example", "Sec-Fetch-Site", "cross-site"}

	if got := env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), hdr...); got.status != http.StatusNoContent {
		t.Fatalf("refresh without a cookie: got status %d, want %d (%s)", got.status, http.StatusNoContent, got.body)
	}
	login := env.do(c, "POST", "/api/auth/login", strings.NewReader(`{"login":"ada","password":"a long user password"}`), hdr...)
	if login.status != http.StatusOK {
		t.Fatalf("login: got status %d, want %d (%s)", login.status, http.StatusOK, login.body)
	}
	var pair map[string]any
	json.Unmarshal([]byte(login.body), &pair)
	if _, ok := pair["refresh_token"]; ok || pair["access_token"] == nil {
		t.Fatalf("login body = %s, want an access token and no refresh token", login.body)
	}
	sc := login.header.Get("Set-Cookie")
	for _, want := range []string{RefreshCookie + "=" + RefreshPrefix, "Path=/api/auth/refresh", "HttpOnly"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie = %q, want it to contain %q", sc, want)
		}
	}
	for i := range 2 {
		r := env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), hdr...)
		if r.status != http.StatusOK || strings.Contains(r.body, "refresh_token") || !strings.Contains(r.body, "access_token") {
			t.Fatalf("refresh %d from the cookie: got status %d, body %s", i, r.status, r.body)
		}
	}
	// Without the header, the cookie is not read.
	if r := env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), "Content-Type", "application/json"); r.status == http.StatusOK {
		t.Errorf("refresh without %s: got status %d, want a refusal", RefreshCookieHeader, r.status)
	}
	// A page on an origin that is not allowed is refused before the cookie is used.
	evil := []string{"Content-Type", "application/json", RefreshCookieHeader, "1", "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"}
	if r := env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), evil...); r.status != http.StatusForbidden {
		t.Errorf("refresh from another origin: got status %d, want %d", r.status, http.StatusForbidden)
	}
}

// TestSessionCookieMode is the SDK's same-site mode: a sign-in with
// X-Gatehouse-Session-Cookie starts a browser session (the session cookie,
// and the token cookie for the site's backends) and answers with an access
// token but no refresh token; a refresh with the header answers from the
// session; signing out ends both.
func TestSessionCookieMode(t *testing.T) {
	env := newEnv(t, storetestSQLite(t), func(c *Config) {
		c.AllowedOrigins = []string{"http://app.example"}
		c.CookieDomain = "example"
	})
	env.mustRegister("ada", "a long user password")
	c := env.client()
	hdr := []string{"Content-Type", "application/json", SessionCookieHeader, "1", "Origin", "http://app.example", "Sec-Fetch-Site", "same-site"}
	both := append([]string{RefreshCookieHeader, "1"}, hdr...)

	if got := env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), both...); got.status != http.StatusNoContent {
		t.Fatalf("refresh without a session: got status %d, want %d (%s)", got.status, http.StatusNoContent, got.body)
	}
	login := env.do(c, "POST", "/api/auth/login", strings.NewReader(`{"login":"ada","password":"a long user password","remember":true}`), hdr...)
	if login.status != http.StatusOK {
		t.Fatalf("login: got status %d, want %d (%s)", login.status, http.StatusOK, login.body)
	}
	var pair map[string]any
	json.Unmarshal([]byte(login.body), &pair)
	if _, ok := pair["refresh_token"]; ok || pair["access_token"] == nil || pair["user"] == nil {
		t.Fatalf("login body = %s, want an access token, the user and no refresh token", login.body)
	}
	cookies := strings.Join(login.header.Values("Set-Cookie"), "\n")
	for _, want := range []string{SessionCookie + "=", TokenCookie + "=", "HttpOnly", "Max-Age="} {
		if !strings.Contains(cookies, want) {
			t.Errorf("Set-Cookie = %q, want it to contain %q", cookies, want)
		}
	}
	if strings.Contains(cookies, RefreshCookie) {
		t.Errorf("Set-Cookie = %q, want no refresh cookie in same-site mode", cookies)
	}
	me := env.do(nil, "GET", "/api/me", nil, "Authorization", "Bearer "+pair["access_token"].(string))
	if me.status != http.StatusOK || !strings.Contains(me.body, `"ada"`) {
		t.Fatalf("/api/me with the access token: got status %d, body %s", me.status, me.body)
	}

	for name, h := range map[string][]string{"session header": hdr, "both headers": both} {
		r := env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), h...)
		if r.status != http.StatusOK || strings.Contains(r.body, "refresh_token") || !strings.Contains(r.body, "access_token") {
			t.Fatalf("refresh from the session (%s): got status %d, body %s", name, r.status, r.body)
		}
		if !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), TokenCookie+"=") {
			t.Errorf("refresh from the session (%s) did not renew the token cookie", name)
		}
	}
	// A page on an origin that is not allowed is refused before the cookie is used.
	evil := []string{"Content-Type", "application/json", SessionCookieHeader, "1", "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"}
	if r := env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), evil...); r.status != http.StatusForbidden || strings.Contains(r.body, "access_token") {
		t.Errorf("refresh from another origin: got status %d, want %d", r.status, http.StatusForbidden)
	}

	out := env.do(c, "POST", "/api/auth/logout", nil, append([]string{"Authorization", "Bearer " + pair["access_token"].(string)}, hdr...)...)
	if out.status != http.StatusNoContent {
		t.Fatalf("logout: got status %d (%s)", out.status, out.body)
	}
	if got := env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), hdr...); got.status != http.StatusNoContent {
		t.Errorf("refresh after signing out: got status %d, want %d (%s)", got.status, http.StatusNoContent, got.body)
	}
}

// TestSDKSecondFactorIsAccepted: to the SDK (a cookie header), a sign-in
// that needs a second factor is 202 with the mfa_token, not a 401 that
// browsers log as a page error; without the header it stays 401.
func TestSDKSecondFactorIsAccepted(t *testing.T) {
	env := newSocialEnv(t, storetestSQLite(t), nil, func(c *Config) { c.AllowedOrigins = []string{"http://app.example"} })
	u := env.mustRegister("ada", "a long user password")
	env.enableTOTP(t, u)
	body := `{"login":"ada","password":"a long user password"}`
	for _, tt := range []struct {
		name   string
		header []string
		status int
	}{
		{"no header", nil, http.StatusUnauthorized},
		{"refresh cookie", []string{RefreshCookieHeader, "1"}, http.StatusAccepted},
		{"session cookie", []string{SessionCookieHeader, "1"}, http.StatusAccepted},
	} {
		r := env.do(nil, "POST", "/api/auth/login", strings.NewReader(body), append([]string{"Content-Type", "application/json"}, tt.header...)...)
		if r.status != tt.status || !strings.Contains(r.body, `"mfa_token"`) || strings.Contains(r.body, "access_token") {
			t.Errorf("%s: got status %d, body %s; want %d with an mfa_token and no token", tt.name, r.status, r.body, tt.status)
		}
	}
}

// A browser with a dead refresh cookie and a live session (it signed in
// both ways) gets its token from the session, and the dead cookie cleared,
// rather than being shown signed out.
func TestDeadRefreshCookieFallsBackToSession(t *testing.T) {
	env := newEnv(t, storetestSQLite(t), func(c *Config) { c.AllowedOrigins = []string{"http://app.example"} })
	env.mustRegister("ada", "a long user password")
	sess := sessionCookie(login(env, nil, "ada", "a long user password"))
	if sess == nil {
		t.Fatal("no session cookie")
	}
	dead := RefreshPrefix + strings.Repeat("A", refreshLen-len(RefreshPrefix))
	hdr := []string{"Content-Type", "application/json", RefreshCookieHeader, "1", SessionCookieHeader, "1", "Origin", "http://app.example", "Sec-Fetch-Site", "same-site"}
	r := env.do(nil, "POST", "/api/auth/refresh", strings.NewReader(`{}`), append(hdr, "Cookie", RefreshCookie+"="+dead+"; "+SessionCookie+"="+sess.Value)...)
	if r.status != http.StatusOK || !strings.Contains(r.body, "access_token") {
		t.Fatalf("refresh with a dead refresh cookie and a live session = %d %s, want a token from the session", r.status, r.body)
	}
	if sc := strings.Join(r.header.Values("Set-Cookie"), "\n"); !strings.Contains(sc, RefreshCookie+"=;") {
		t.Errorf("Set-Cookie = %q, want the dead refresh cookie cleared", sc)
	}
	// Without a session, the dead cookie is still a 401.
	r = env.do(nil, "POST", "/api/auth/refresh", strings.NewReader(`{}`), append(hdr, "Cookie", RefreshCookie+"="+dead)...)
	if r.status != http.StatusUnauthorized {
		t.Errorf("refresh with only a dead refresh cookie = %d, want 401", r.status)
	}
}
