package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/auth"
)

func TestHealthAndReadiness(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		if r := env.do(nil, "GET", "/healthz", nil); r.status != http.StatusOK || !strings.Contains(r.body, `"ok"`) {
			t.Errorf("GET /healthz = %d %s, want 200", r.status, r.body)
		}
		if r := env.do(nil, "GET", "/readyz", nil); r.status != http.StatusOK {
			t.Errorf("GET /readyz = %d %s, want 200", r.status, r.body)
		}
		env.store.Close()
		r := env.do(nil, "GET", "/readyz", nil)
		if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, `"database":"unavailable"`) {
			t.Errorf("GET /readyz with the database closed = %d %s, want 503 naming the database", r.status, r.body)
		}
		if r := env.do(nil, "GET", "/healthz", nil); r.status != http.StatusOK {
			t.Errorf("GET /healthz with the database closed = %d, want 200 (alive)", r.status)
		}
	})
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	for _, path := range []string{"/healthz", "/readyz", "/nope", "/api/nope", "/setup/ghsetup_bad", "/static/gatehouse.css"} {
		r := env.do(nil, "GET", path, nil)
		for header, want := range map[string]string{
			"X-Content-Type-Options":     "nosniff",
			"Referrer-Policy":            "",
			"X-Frame-Options":            "DENY",
			"Cross-Origin-Opener-Policy": "same-origin",
		} {
			got := r.header.Get(header)
			if got == "" || (want != "" && got != want) {
				t.Errorf("GET %s: %s = %q, want %q", path, header, got, want)
			}
		}
		csp := r.header.Get("Content-Security-Policy")
		for _, part := range []string{"frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "script-src 'self' 'nonce-"} {
			if !strings.Contains(csp, part) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, part)
			}
		}
		if r.header.Get("Strict-Transport-Security") != "" {
			t.Errorf("GET %s over http set HSTS", path)
		}
		if r.header.Get("X-Request-Id") == "" {
			t.Errorf("GET %s has no X-Request-Id", path)
		}
	}
	a := env.do(nil, "GET", "/nope", nil).header.Get("Content-Security-Policy")
	b := env.do(nil, "GET", "/nope", nil).header.Get("Content-Security-Policy")
	if a == b {
		t.Error("two responses share a CSP nonce")
	}
	if rp := env.do(nil, "GET", "/setup/ghsetup_bad", nil).header.Get("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("setup page Referrer-Policy = %q, want no-referrer (its URL holds a secret)", rp)
	}
	if !strings.Contains(a, "form-action 'self';") {
		t.Errorf("CSP %q: want form-action 'self' alone without allowed origins", a)
	}
}

// TestFormActionAllowsAllowedOrigins: a sign-in form whose return_to is an
// allowed origin redirects there after the POST, and browsers hold that
// redirect to form-action, so the allowed origins are listed (and only they).
func TestFormActionAllowsAllowedOrigins(t *testing.T) {
	env := newEnv(t, storetestSQLite(t), func(c *Config) { c.AllowedOrigins = []string{"https://app.example"} })
	csp := env.do(nil, "GET", "/login", nil).header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' https://app.example;") {
		t.Errorf("CSP %q: want form-action 'self' https://app.example", csp)
	}
}

func TestNotFoundIsJSONForTheAPIAndHTMLForPages(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	r := env.do(nil, "GET", "/api/nope", nil)
	var body errorBody
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.status != 404 || body.Error != "not_found" || body.Message == "" {
		t.Errorf("GET /api/nope = %d %s, want 404 not_found JSON", r.status, r.body)
	}
	r = env.do(nil, "GET", "/nope", nil, "Accept", "text/html")
	if r.status != 404 || !strings.Contains(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "Page not found") {
		t.Errorf("GET /nope = %d %q, want an HTML 404 page", r.status, r.body)
	}
}

func TestStatusOfEveryCode(t *testing.T) {
	for code, want := range map[string]int{
		auth.EInvalidRequest: 400, auth.EValidation: 422, auth.EInvalidCredentials: 401, auth.EUnauthorized: 401,
		auth.EForbidden: 403, auth.ENotFound: 404, auth.EConflict: 409, auth.ERateLimited: 429, auth.EInvalidToken: 401,
		auth.ETokenReused: 401, auth.EMFARequired: 401, auth.EAccountDisabled: 403, auth.EInternal: 500, "anything": 500,
	} {
		if got := statusOf(code); got != want {
			t.Errorf("statusOf(%q) = %d, want %d", code, got, want)
		}
	}
}

// An internal error and a panic answer a generic 500 with no internals; the
// log has the cause.
func TestInternalErrorsHideDetails(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	h := env.web.observe(env.web.secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/panic" {
			panic("secret detail in panic")
		}
		env.web.writeJSONError(w, r, errors.New("secret detail in error"))
	})))
	for _, path := range []string{"/api/err", "/api/panic"} {
		rec := newRecorder()
		req, _ := http.NewRequestWithContext(context.Background(), "GET", path, nil)
		h.ServeHTTP(rec, req)
		if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret") || !strings.Contains(rec.Body.String(), `"internal"`) {
			t.Errorf("GET %s = %d %s, want a generic 500", path, rec.Code, rec.Body.String())
		}
	}
	if !strings.Contains(env.logs.String(), "secret detail in panic") || !strings.Contains(env.logs.String(), "secret detail in error") {
		t.Error("the log lacks the causes")
	}
}

func TestSetupPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		secret, _, err := env.accounts.CreateSetupLink(ctx)
		if err != nil {
			t.Fatal(err)
		}
		path := "/setup/" + secret
		if r := env.do(nil, "GET", path, nil); r.status != 200 || !strings.Contains(r.body, "Create the first admin account") {
			t.Fatalf("GET setup = %d, want the form", r.status)
		}
		form := url.Values{"username": {"root"}, "email": {"root@example.com"}, "password": {"correct horse battery staple"}, "confirm_password": {"nope"}}
		if r := env.postForm(nil, path, form); r.status != 422 || !strings.Contains(r.body, "Passwords do not match.") {
			t.Errorf("POST setup (mismatch) = %d, want 422 with the field error", r.status)
		}
		form.Set("confirm_password", form.Get("password"))
		form.Set("email", "not an email")
		if r := env.postForm(nil, path, form); r.status != 422 || !strings.Contains(r.body, "Enter a valid email address.") || !strings.Contains(r.body, `value="root"`) {
			t.Errorf("POST setup (bad email) = %d, want 422 keeping the username", r.status)
		}
		form.Set("email", "root@example.com")
		// A cross-origin post carrying a valid link is refused and changes nothing.
		if r := env.postForm(nil, path, form, "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"); r.status != 403 {
			t.Errorf("cross-origin POST setup = %d, want 403", r.status)
		}
		if ok, _ := env.accounts.AdminExists(ctx); ok {
			t.Fatal("a cross-origin POST created an admin")
		}
		if r := env.postForm(nil, path, form); r.status != 201 || !strings.Contains(r.body, "Admin account created") ||
			sessionCookie(r) == nil || !strings.Contains(r.body, `id="setup-continue"`) {
			t.Errorf("POST setup = %d %s, want 201", r.status, r.body)
		}
		u, err := env.store.FindUserByLogin(ctx, "root")
		if err != nil || !u.HasRole("admin") {
			t.Fatalf("created user = %+v, %v; want an admin", u, err)
		}
		if r := env.do(nil, "GET", path, nil); r.status != 401 || !strings.Contains(r.body, "invalid, used or expired") {
			t.Errorf("GET used setup link = %d, want 401 saying it is used", r.status)
		}
		form.Set("username", "root2")
		form.Set("email", "root2@example.com")
		if r := env.postForm(nil, path, form); r.status != 401 {
			t.Errorf("POST used setup link = %d, want 401", r.status)
		}
		if strings.Contains(env.logs.String(), secret) {
			t.Error("the request log contains the setup secret")
		}
	})
}

func TestBodyCap(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	secret, _, _ := env.accounts.CreateSetupLink(context.Background())
	big := url.Values{"username": {strings.Repeat("a", 100<<10)}}
	r := env.postForm(nil, "/setup/"+secret, big)
	if r.status != 400 {
		t.Errorf("POST with a 100 KiB body = %d, want 400", r.status)
	}
}
