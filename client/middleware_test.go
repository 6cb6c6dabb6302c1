package client

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/tokentest"
)

// whoami answers with the subject of the verified claims.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := ClaimsFrom(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	w.Write([]byte(c.Subject))
})

type mwEnv struct {
	g       *fakeGatehouse
	key     tokentest.Key
	clk     *clock
	valid   string
	admin   string
	perms   string
	expired string
	forged  string
	revoked string
}

func newMWEnv(t *testing.T) *mwEnv {
	e := &mwEnv{key: tokentest.NewKey(t, EdDSA), clk: newClock()}
	e.g = newFakeGatehouse(t, e.key)
	cl := claimsAt(e.g.URL(), t0)
	e.valid = e.key.Sign(t, cl)
	a := cl
	a.Roles = []string{"user", "admin"}
	e.admin = e.key.Sign(t, a)
	p := cl
	p.Permissions = []string{"notes:read", "notes:write"}
	e.perms = e.key.Sign(t, p)
	x := cl
	x.ExpiresAt = t0.Add(-time.Minute)
	x.IssuedAt, x.NotBefore = t0.Add(-16*time.Minute), t0.Add(-16*time.Minute)
	e.expired = e.key.Sign(t, x)
	e.forged = e.valid[:len(e.valid)-4] + "AAAA"
	r := cl
	r.SessionID = "sess-revoked"
	e.revoked = e.key.Sign(t, r)
	e.g.revoke("sess-revoked", t0.Add(time.Hour))
	return e
}

func TestMiddleware(t *testing.T) {
	e := newMWEnv(t)
	plain := newTestClient(t, e.g, WithClock(e.clk.Now), WithRevocationFeed("gh_test", time.Hour), WithRevocationMaxStaleness(2*time.Hour))
	redirecting := newTestClient(t, e.g, WithClock(e.clk.Now), WithRefreshRedirect(true))
	refresh := e.g.URL() + "/session/refresh?return_to=" + url.QueryEscape("http://app.example/notes?x=1")

	type request struct {
		method, auth, cookie, accept, url string
		cookies                           int // how many times to send cookie
	}
	tests := []struct {
		name       string
		client     *Client
		mw         func(http.Handler) http.Handler // nil: Require
		req        request
		wantStatus int
		wantAuth   string // WWW-Authenticate
		wantCode   string // error code in the body
		wantBody   string // body of a success
		wantLoc    string
	}{
		{"no token", plain, nil, request{}, 401, "Bearer", "unauthorized", "", ""},
		{"valid bearer", plain, nil, request{auth: "Bearer " + e.valid}, 200, "", "", "user-1", ""},
		{"lower-case scheme", plain, nil, request{auth: "bearer " + e.valid}, 200, "", "", "user-1", ""},
		{"valid cookie", plain, nil, request{cookie: e.valid}, 200, "", "", "user-1", ""},
		{"bearer wins over cookie", plain, nil, request{auth: "Bearer " + e.valid, cookie: "junk"}, 200, "", "", "user-1", ""},
		{"forged bearer", plain, nil, request{auth: "Bearer " + e.forged}, 401, `Bearer error="invalid_token"`, "unauthorized", "", ""},
		{"expired bearer", plain, nil, request{auth: "Bearer " + e.expired}, 401, `Bearer error="invalid_token"`, "unauthorized", "", ""},
		{"revoked", plain, nil, request{auth: "Bearer " + e.revoked}, 401, `Bearer error="invalid_token"`, "unauthorized", "", ""},
		{"empty bearer", plain, nil, request{auth: "Bearer "}, 401, `Bearer error="invalid_token"`, "unauthorized", "", ""},
		{"basic auth is not a token", plain, nil, request{auth: "Basic dTpw"}, 401, "Bearer", "unauthorized", "", ""},
		{"token in the query ignored", plain, nil, request{url: "/notes?access_token=" + e.valid}, 401, "Bearer", "unauthorized", "", ""},
		{"two cookies", plain, nil, request{cookie: e.valid, cookies: 2}, 401, `Bearer error="invalid_token"`, "unauthorized", "", ""},
		{"role held", plain, plain.RequireRole("admin"), request{auth: "Bearer " + e.admin}, 200, "", "", "user-1", ""},
		{"any of the roles", plain, plain.RequireRole("editor", "admin"), request{auth: "Bearer " + e.admin}, 200, "", "", "user-1", ""},
		{"role missing", plain, plain.RequireRole("admin"), request{auth: "Bearer " + e.valid}, 403, "", "forbidden", "", ""},
		{"role needs a token first", plain, plain.RequireRole("admin"), request{}, 401, "Bearer", "unauthorized", "", ""},
		{"permissions held", plain, plain.RequirePermission("notes:read", "notes:write"), request{auth: "Bearer " + e.perms}, 200, "", "", "user-1", ""},
		{"one permission missing", plain, plain.RequirePermission("notes:read", "notes:delete"), request{auth: "Bearer " + e.perms}, 403, "", "forbidden", "", ""},
		{"redirect without token", redirecting, nil, request{accept: "text/html,application/xhtml+xml"}, 303, "", "", "", refresh},
		{"redirect with an expired cookie", redirecting, nil, request{accept: "text/html", cookie: e.expired}, 303, "", "", "", refresh},
		{"redirect with an empty cookie", redirecting, nil, request{accept: "text/html", cookie: ""}, 303, "", "", "", refresh},
		{"no redirect for an expired bearer", redirecting, nil, request{accept: "text/html", auth: "Bearer " + e.expired}, 401, `Bearer error="invalid_token"`, "unauthorized", "", ""},
		{"no redirect for a forged cookie", redirecting, nil, request{accept: "text/html", cookie: e.forged}, 401, `Bearer error="invalid_token"`, "unauthorized", "", ""},
		{"no redirect for POST", redirecting, nil, request{method: "POST", accept: "text/html"}, 401, "Bearer", "unauthorized", "", ""},
		{"no redirect for JSON", redirecting, nil, request{accept: "application/json"}, 401, "Bearer", "unauthorized", "", ""},
		{"no redirect when off", plain, nil, request{accept: "text/html"}, 401, "Bearer", "unauthorized", "", ""},
		{"valid cookie with redirects on", redirecting, nil, request{accept: "text/html", cookie: e.valid}, 200, "", "", "user-1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, target := tt.req.method, tt.req.url
			if method == "" {
				method = "GET"
			}
			if target == "" {
				target = "/notes?x=1"
			}
			r := httptest.NewRequest(method, "http://app.example"+target, nil)
			if tt.req.auth != "" {
				r.Header.Set("Authorization", tt.req.auth)
			}
			if tt.req.accept != "" {
				r.Header.Set("Accept", tt.req.accept)
			}
			if tt.req.cookie != "" || strings.Contains(tt.name, "empty cookie") {
				for range max(tt.req.cookies, 1) {
					r.AddCookie(&http.Cookie{Name: CookieName, Value: tt.req.cookie})
				}
			}
			mw := tt.mw
			if mw == nil {
				mw = tt.client.Require
			}
			w := httptest.NewRecorder()
			mw(whoami).ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Fatalf("got status %d, want %d (body %s)", w.Code, tt.wantStatus, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, tt.wantAuth) || (tt.wantAuth == "") != (got == "") {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantAuth)
			}
			if got := w.Header().Get("Location"); got != tt.wantLoc {
				t.Errorf("Location = %q, want %q", got, tt.wantLoc)
			}
			switch {
			case tt.wantCode != "":
				var body struct{ Error, Message string }
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error != tt.wantCode || body.Message == "" {
					t.Errorf("body = %s, want error %q with a message", w.Body, tt.wantCode)
				}
				if ct := w.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", ct)
				}
			case tt.wantBody != "":
				if w.Body.String() != tt.wantBody {
					t.Errorf("body = %q, want %q", w.Body, tt.wantBody)
				}
			}
		})
	}
}

func TestMiddlewareStaleFeed(t *testing.T) {
	e := newMWEnv(t)
	c := newTestClient(t, e.g, WithClock(e.clk.Now), WithRevocationFeed("gh_test", time.Hour), WithRevocationMaxStaleness(2*time.Hour))
	e.clk.Add(2*time.Hour + time.Second)
	tok := e.key.Sign(t, claimsAt(e.g.URL(), e.clk.Now()))
	r := httptest.NewRequest("GET", "/notes", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	c.Require(whoami).ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("got status %d (Retry-After %q), want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
}

func TestMiddlewareNesting(t *testing.T) {
	e := newMWEnv(t)
	c := newTestClient(t, e.g, WithClock(e.clk.Now))
	other := newTestClient(t, e.g, WithClock(e.clk.Now), WithAudience("https://api.example.com"))
	tests := []struct {
		name string
		h    http.Handler
		want int
	}{
		{"Require then RequireRole", c.Require(c.RequireRole("admin")(whoami)), 200},
		{"another client's claims are not reused", c.Require(other.RequireRole("admin")(whoami)), 401},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+e.admin)
		w := httptest.NewRecorder()
		tt.h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%s: got status %d, want %d", tt.name, w.Code, tt.want)
		}
	}
}

func TestRequireRolePanicsWithoutRoles(t *testing.T) {
	e := newMWEnv(t)
	c := newTestClient(t, e.g)
	for name, f := range map[string]func(){
		"RequireRole()":       func() { c.RequireRole() },
		"RequirePermission()": func() { c.RequirePermission() },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestMiddlewareAttacks(t *testing.T) {
	e := newMWEnv(t)
	c := newTestClient(t, e.g, WithClock(e.clk.Now))
	h := c.Require(whoami)
	for _, a := range tokentest.Attacks(t, e.valid, e.key.Public(), e.key.Signer) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{"Bearer " + a.Token}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s: got status %d, want 401", a.Name, w.Code)
		}
	}
}
