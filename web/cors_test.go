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
