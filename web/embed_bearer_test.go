package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// An app's routes behind RequireLogin, RequireRole and OptionalLogin accept
// an access token as well as the session cookie, as an API client of the
// app sends it; refusals are JSON (401 with WWW-Authenticate, or 403), and
// a token of an ended session is refused at once.
func TestEmbeddingAcceptsAccessTokens(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	env.mustRegister("ada", pw)
	pair, _ := env.tokenLogin("ada", pw)
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := UserFrom(r.Context()); ok {
			fmt.Fprintf(w, "hello %s", u.Username)
			return
		}
		fmt.Fprint(w, "hello stranger")
	})
	mux := http.NewServeMux()
	mux.Handle("/login-required", env.web.RequireLogin(hello))
	mux.Handle("/editors", env.web.RequireRole("editor")(hello))
	mux.Handle("/optional", env.web.OptionalLogin(hello))
	app := httptest.NewServer(mux)
	defer app.Close()

	get := func(path, token string) (int, string, http.Header) {
		req, _ := http.NewRequest("GET", app.URL+path, nil)
		req.Header.Set("Accept", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String(), resp.Header
	}
	tests := []struct {
		name, path, token string
		status            int
		body              string
	}{
		{"no credentials", "/login-required", "", http.StatusUnauthorized, `"unauthorized"`},
		{"a good token", "/login-required", pair.AccessToken, http.StatusOK, "hello ada"},
		{"a good token without the role", "/editors", pair.AccessToken, http.StatusForbidden, `"forbidden"`},
		{"a forged token", "/login-required", pair.AccessToken + "x", http.StatusUnauthorized, `"invalid_token"`},
		{"an API key", "/login-required", "gh_" + strings.Repeat("a", 40), http.StatusUnauthorized, `"invalid_token"`},
		{"optional, a good token", "/optional", pair.AccessToken, http.StatusOK, "hello ada"},
		{"optional, a forged token", "/optional", "nonsense", http.StatusOK, "hello stranger"},
	}
	for _, tt := range tests {
		status, body, h := get(tt.path, tt.token)
		if status != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("%s: GET %s = %d %s, want %d with %s", tt.name, tt.path, status, body, tt.status, tt.body)
		}
		if status == http.StatusUnauthorized && tt.token != "" && h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tt.name)
		}
	}
	// Signing out ends the token's session: refused at once.
	if r := env.do(nil, "POST", "/api/auth/logout", nil, bearerHeader(pair.AccessToken)...); r.status != http.StatusNoContent {
		t.Fatalf("logout = %d", r.status)
	}
	if status, body, _ := get("/login-required", pair.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("a token of an ended session = %d %s, want 401", status, body)
	}
}
