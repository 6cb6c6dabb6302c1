package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// With a cookie domain, a browser sign-in also sets gatehouse_token for the
// site's other backends, /session/refresh re-issues it from the session, and
// logout clears it.
func TestTokenCookieForSameSiteBackends(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	env.mustRegister("amos", pw)
	srv, err := New(Config{Accounts: env.accounts, Sessions: env.sessions, Tokens: env.keys, PublicURL: "https://auth.example.test",
		CookieDomain: "example.test", AllowedOrigins: []string{"https://app.example.test"}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	do := func(req *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	form := url.Values{"login": {"amos"}, "password": {pw}}
	req := httptest.NewRequest("POST", "https://auth.example.test/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := do(req)
	cookies := map[string]*http.Cookie{}
	for _, c := range rec.Result().Cookies() {
		cookies[c.Name] = c
	}
	tc, sc := cookies[TokenCookie], cookies[SessionCookie]
	if rec.Code != 303 || tc == nil || sc == nil {
		t.Fatalf("sign-in = %d, cookies %v; want both cookies", rec.Code, cookies)
	}
	if tc.Domain != "example.test" || !tc.HttpOnly || !tc.Secure || tc.SameSite != http.SameSiteLaxMode || tc.MaxAge <= 0 || tc.MaxAge > 900 {
		t.Errorf("gatehouse_token = %+v, want Domain example.test, HttpOnly, Secure, Lax, ≤ 15 min", tc)
	}
	claims, err := env.keys.Verify(tc.Value)
	if err != nil || claims.Username != "amos" || claims.SessionID == "" {
		t.Errorf("the token cookie does not verify: %v, %v", claims, err)
	}
	// /session/refresh with the session: a new token, back to the app.
	req = httptest.NewRequest("GET", "https://auth.example.test/session/refresh?return_to="+url.QueryEscape("https://app.example.test/notes"), nil)
	req.AddCookie(sc)
	rec = do(req)
	if rec.Code != 303 || rec.Header().Get("Location") != "https://app.example.test/notes" || !strings.Contains(rec.Header().Get("Set-Cookie"), TokenCookie+"=") {
		t.Errorf("session refresh = %d %q %q", rec.Code, rec.Header().Get("Location"), rec.Header().Get("Set-Cookie"))
	}
	// An unsafe return_to falls back to the account page.
	req = httptest.NewRequest("GET", "https://auth.example.test/session/refresh?return_to=https://evil.example", nil)
	req.AddCookie(sc)
	if rec := do(req); rec.Header().Get("Location") != "/account" {
		t.Errorf("session refresh to evil = %q, want /account", rec.Header().Get("Location"))
	}
	// Without a session: sign in first, then come back here.
	rec = do(httptest.NewRequest("GET", "https://auth.example.test/session/refresh?return_to=/x", nil))
	if rec.Code != 303 || !strings.HasPrefix(rec.Header().Get("Location"), "https://auth.example.test/login?return_to=%2Fsession%2Frefresh") {
		t.Errorf("session refresh without a session = %d %q", rec.Code, rec.Header().Get("Location"))
	}
	// Logout clears both cookies.
	req = httptest.NewRequest("POST", "https://auth.example.test/logout", nil)
	req.AddCookie(sc)
	rec = do(req)
	cleared := 0
	for _, c := range rec.Result().Cookies() {
		if (c.Name == TokenCookie || c.Name == SessionCookie) && c.MaxAge < 0 {
			cleared++
		}
	}
	if cleared != 2 {
		t.Errorf("logout cleared %d of the two cookies: %v", cleared, rec.Header().Values("Set-Cookie"))
	}
}
