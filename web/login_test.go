package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/sqlstore"
)

const pw = "correct horse battery staple"

// sessionCookie returns the gatehouse_session Set-Cookie of a response.
func sessionCookie(r response) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}

func login(env *testEnv, c *http.Client, loginName, password string, extra ...string) response {
	v := url.Values{"login": {loginName}, "password": {password}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return env.postForm(c, "/login", v)
}

// The whole browser flow over HTTP with a cookie jar: register, sign out,
// sign in with remember-me, see the session on the account page, sign out,
// and be sent to sign-in by a protected page.
func TestRegisterLoginAccountLogoutFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		c := env.client()
		if r := env.do(c, "GET", "/register", nil); r.status != 200 || !strings.Contains(r.body, "Create an account") {
			t.Fatalf("GET /register = %d", r.status)
		}
		r := env.postForm(c, "/register", url.Values{"username": {"alice"}, "email": {"alice@example.com"},
			"password": {pw}, "confirm_password": {pw}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account" || sessionCookie(r) == nil {
			t.Fatalf("POST /register = %d to %q, want 303 to /account with a session", r.status, r.header.Get("Location"))
		}
		if r := env.do(c, "GET", "/account", nil); r.status != 200 || !strings.Contains(r.body, "Welcome! Your account is ready.") {
			t.Errorf("account after registering = %d, want the welcome notice", r.status)
		}
		if r := env.postForm(c, "/logout", nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
			t.Fatalf("POST /logout = %d %q", r.status, r.header.Get("Location"))
		}
		if r := env.do(c, "GET", "/account", nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), env.srv.URL+"/login?return_to=%2Faccount") {
			t.Fatalf("GET /account signed out = %d %q, want a redirect to sign in", r.status, r.header.Get("Location"))
		}
		r = login(env, c, "ALICE@example.com", pw, "remember", "1", "return_to", "/account")
		ck := sessionCookie(r)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account" || ck == nil {
			t.Fatalf("POST /login = %d %q", r.status, r.header.Get("Location"))
		}
		if ck.MaxAge <= 13*24*3600 || ck.Expires.Before(time.Now().Add(13*24*time.Hour)) {
			t.Errorf("remember-me cookie MaxAge %d Expires %v, want about 14 days", ck.MaxAge, ck.Expires)
		}
		r = env.do(c, "GET", "/account", nil, "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36")
		if r.status != 200 || !strings.Contains(r.body, `id="account-username">alice<`) || !strings.Contains(r.body, "this device") ||
			!strings.Contains(r.body, "remembered") || !strings.Contains(r.body, `<span class="badge">user</span>`) {
			t.Fatalf("GET /account = %d, want alice's profile, roles and this session:\n%s", r.status, r.body)
		}
		if n := strings.Count(r.body, `class="session"`); n != 1 {
			t.Errorf("account lists %d sessions, want 1 (the registration session ended at logout)", n)
		}
		if r := env.do(c, "GET", "/logout", nil); r.status != 200 || !strings.Contains(r.body, "Sign out?") {
			t.Errorf("GET /logout = %d, want a confirmation form", r.status)
		}
		if r := env.do(c, "GET", "/account", nil); r.status != 200 {
			t.Errorf("GET /logout signed the user out (account = %d)", r.status)
		}
		env.postForm(c, "/logout", nil)
		if r := env.do(c, "GET", "/account", nil); r.status != http.StatusSeeOther {
			t.Errorf("GET /account after logout = %d, want a redirect to sign in", r.status)
		}
		// The old cookie, replayed, is refused: logout ended the server session.
		old := env.client()
		old.Jar.SetCookies(mustURL(env.srv.URL), []*http.Cookie{{Name: SessionCookie, Value: ck.Value}})
		if r := env.do(old, "GET", "/api/me", nil); r.status != 401 {
			t.Errorf("GET /api/me with a logged-out cookie = %d, want 401", r.status)
		}
	})
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

func TestSessionCookieAndStorage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		env.mustRegister("bob", pw)
		c := env.client()
		// A cookie planted before sign-in (session fixation) is ignored and replaced.
		c.Jar.SetCookies(mustURL(env.srv.URL), []*http.Cookie{{Name: SessionCookie, Value: "attackerchosen123"}})
		r := login(env, c, "bob", pw)
		first := sessionCookie(r)
		if first == nil || first.Value == "attackerchosen123" || len(first.Value) < 43 {
			t.Fatalf("session cookie = %+v, want a fresh 256-bit value", first)
		}
		if !first.HttpOnly || first.SameSite != http.SameSiteLaxMode || first.Path != "/" || first.Secure {
			t.Errorf("cookie flags = HttpOnly %v SameSite %v Path %q Secure %v; want HttpOnly, Lax, /, not Secure on http",
				first.HttpOnly, first.SameSite, first.Path, first.Secure)
		}
		if first.MaxAge != 0 || !first.Expires.IsZero() {
			t.Errorf("cookie without remember-me is persistent (MaxAge %d, Expires %v)", first.MaxAge, first.Expires)
		}
		if strings.Contains(r.body, first.Value) || strings.Contains(r.header.Get("Location"), first.Value) {
			t.Error("the session secret appears in the body or the URL")
		}
		// Stored: only the hash of the cookie value.
		sess, _, err := env.store.FindSessionByToken(context.Background(), auth.HashSecret(first.Value))
		if err != nil {
			t.Fatalf("the session is not stored under the hash of the cookie: %v", err)
		}
		sum := sha256.Sum256([]byte(first.Value))
		if !bytes.Equal(sess.TokenHash, sum[:]) || bytes.Contains(sess.TokenHash, []byte(first.Value)) {
			t.Error("stored token is not the SHA-256 of the cookie")
		}
		// Signing in again, even from the same browser, gives a new session ID
		// and ends the old one.
		second := sessionCookie(login(env, c, "bob", pw))
		if second == nil || second.Value == first.Value {
			t.Fatal("the session ID did not change at sign-in")
		}
		stale := env.client()
		stale.Jar.SetCookies(mustURL(env.srv.URL), []*http.Cookie{{Name: SessionCookie, Value: first.Value}})
		if r := env.do(stale, "GET", "/api/me", nil); r.status != 401 {
			t.Errorf("the session from before the new sign-in = %d, want 401", r.status)
		}
		if r := env.do(c, "GET", "/api/me", nil); r.status != 200 || !strings.Contains(r.body, `"username":"bob"`) || strings.Contains(r.body, "password") {
			t.Errorf("GET /api/me = %d %s", r.status, r.body)
		}
		// An expired session is refused.
		sess2, _, _ := env.store.FindSessionByToken(context.Background(), auth.HashSecret(second.Value))
		expireSession(t, env, sess2.ID)
		if r := env.do(c, "GET", "/api/me", nil); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("GET /api/me with an expired session = %d, want 401 with WWW-Authenticate", r.status)
		}
	})
}

// expireSession moves a session's absolute expiry into the past.
func expireSession(t *testing.T, env *testEnv, id string) {
	t.Helper()
	w := env.store.(interface{ Writer() *sql.DB }).Writer()
	q := `UPDATE sessions SET expires_at = 1 WHERE id = ?`
	if env.store.(interface{ Dialect() sqlstore.Dialect }).Dialect().Numbered {
		q = sqlstore.Rebind(q)
	}
	if _, err := w.Exec(q, id); err != nil {
		t.Fatal(err)
	}
}

func TestSecureCookieOverHTTPS(t *testing.T) {
	st := storetestSQLite(t)
	env := newEnv(t, st)
	env.mustRegister("carol", pw)
	tls := httptest.NewUnstartedServer(nil)
	tls.StartTLS()
	defer tls.Close()
	srv, err := New(Config{Accounts: env.accounts, Sessions: env.sessions, PublicURL: tls.URL, Logger: env.web.log})
	if err != nil {
		t.Fatal(err)
	}
	tls.Config.Handler = srv
	c := tls.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.PostForm(tls.URL+"/login", url.Values{"login": {"carol"}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			ck = c
		}
	}
	if ck == nil || !ck.Secure || !ck.HttpOnly {
		t.Errorf("cookie over https = %+v, want Secure and HttpOnly", ck)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("HSTS over https = %q", hsts)
	}
}

// The same answer, byte for byte, whether or not the account exists; a
// disabled account is told only after a correct password.
func TestLoginDoesNotRevealAccounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		u := env.mustRegister("dave", pw)
		unknown := login(env, nil, "nobody", pw)
		wrong := login(env, nil, "dave", "wrong password here")
		for name, r := range map[string]response{"unknown user": unknown, "wrong password": wrong} {
			if r.status != 401 || !strings.Contains(r.body, "Invalid username or password.") || sessionCookie(r) != nil {
				t.Errorf("%s: %d, want 401 with the one message and no session", name, r.status)
			}
		}
		// The pages differ only in the name typed, which the form keeps.
		if strings.ReplaceAll(unknown.body, `value="nobody"`, "") != strings.ReplaceAll(wrong.body, `value="dave"`, "") {
			t.Error("the unknown-user page differs from the wrong-password page")
		}
		off := false
		env.store.UpdateUser(context.Background(), u.ID, auth.UserUpdate{Active: &off})
		if r := login(env, nil, "dave", "wrong password here"); r.status != 401 || strings.Contains(r.body, "disabled") {
			t.Errorf("disabled + wrong password = %d, want the usual 401", r.status)
		}
		if r := login(env, nil, "dave", pw); r.status != 403 || !strings.Contains(r.body, "This account is disabled.") || sessionCookie(r) != nil {
			t.Errorf("disabled + right password = %d, want 403 saying so", r.status)
		}
	})
}

// Every redirect payload falls back to the default page.
func TestReturnToRefusesOpenRedirects(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	env.mustRegister("erin", pw)
	for _, payload := range []string{
		"https://evil.example", "//evil.example", "/\\evil.example", "\\/\\/evil.example", "https:evil.example",
		"%2F%2Fevil.example", "/%2F/evil.example", "/%2f%2fevil.example", "/%09/evil.example", "/%0d%0aSet-Cookie:%20x=1",
		"/%250d%250aSet-Cookie:x=1", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x",
		"https://localhost.evil.example", "https://evil.example@" + strings.TrimPrefix(env.srv.URL, "http://"),
		"http://" + strings.TrimPrefix(env.srv.URL, "http://") + "@evil.example", "///evil.example", "/\t/evil.example",
		" //evil.example", "http:/evil.example", strings.Repeat("/a", 2000),
	} {
		r := login(env, nil, "erin", pw, "return_to", payload)
		loc := r.header.Get("Location")
		if r.status != http.StatusSeeOther || loc != "/account" {
			t.Errorf("login with return_to=%q redirected to %q, want /account", payload, loc)
		}
		if r.header.Get("Set-Cookie") != "" && strings.Contains(strings.ToLower(strings.Join(r.header.Values("Set-Cookie"), ";")), "x=1") {
			t.Errorf("return_to=%q injected a header", payload)
		}
		// The same on logout.
		c := env.client()
		login(env, c, "erin", pw)
		if r := env.postForm(c, "/logout", url.Values{"return_to": {payload}}); r.header.Get("Location") != "/login" {
			t.Errorf("logout with return_to=%q redirected to %q, want /login", payload, r.header.Get("Location"))
		}
	}
	for _, ok := range []string{"/dashboard", "/notes?id=3&tab=a", env.srv.URL + "/x"} {
		if loc := login(env, nil, "erin", pw, "return_to", ok).header.Get("Location"); loc != ok {
			t.Errorf("login with return_to=%q redirected to %q, want it honoured", ok, loc)
		}
	}
}

func TestSafeReturnToAllowedOrigin(t *testing.T) {
	s := &Server{origin: "https://auth.example.com", cfg: Config{AllowedOrigins: []string{"https://app.example.com"}}}
	for raw, want := range map[string]string{
		"https://app.example.com/home":      "https://app.example.com/home",
		"https://APP.example.com/home":      "https://APP.example.com/home",
		"https://auth.example.com/account":  "https://auth.example.com/account",
		"https://app.example.com.evil/home": "",
		"http://app.example.com/home":       "",
		"https://app.example.com:444/home":  "",
		"https://user@app.example.com/home": "",
		"ftp://app.example.com/home":        "",
		"":                                  "",
	} {
		if got := s.safeReturnTo(raw); got != want {
			t.Errorf("safeReturnTo(%q) = %q, want %q", raw, got, want)
		}
	}
}

// A cross-origin state-changing request carrying the victim's cookie is
// refused and changes nothing.
func TestCrossOriginRequestsRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		env.mustRegister("frank", pw)
		c := env.client()
		login(env, c, "frank", pw)
		change := url.Values{"current_password": {pw}, "new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}}
		for _, h := range [][]string{
			{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
			{"Sec-Fetch-Site", "same-site"},
			{"Origin", "https://evil.example"},
			{"Origin", "null"},
		} {
			r := env.postForm(c, "/account/password", change, h...)
			if r.status != 403 {
				t.Errorf("POST /account/password with %v = %d, want 403", h, r.status)
			}
			if r := env.do(c, "POST", "/api/auth/logout", nil, h...); r.status != 403 {
				t.Errorf("POST /api/auth/logout with %v = %d, want 403", h, r.status)
			}
			if r := env.postForm(nil, "/login", url.Values{"login": {"frank"}, "password": {pw}}, h...); r.status != 403 {
				t.Errorf("POST /login with %v = %d, want 403 (login CSRF)", h, r.status)
			}
		}
		if _, err := env.accounts.Authenticate(context.Background(), "frank", pw); err != nil {
			t.Errorf("the password changed after refused requests: %v", err)
		}
		if r := env.do(c, "GET", "/api/me", nil); r.status != 200 {
			t.Errorf("the session ended after refused requests: %d", r.status)
		}
		// Same-origin works.
		r := env.postForm(c, "/account/password", change, "Origin", env.srv.URL, "Sec-Fetch-Site", "same-origin")
		if r.status != http.StatusSeeOther {
			t.Errorf("same-origin POST /account/password = %d, want 303", r.status)
		}
	})
}

func TestAccountSessionsAndPasswordChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		u := env.mustRegister("gina", pw)
		other := env.mustRegister("hank", pw)
		a, b := env.client(), env.client()
		login(env, a, "gina", pw)
		login(env, b, "gina", pw)
		h := env.client()
		login(env, h, "hank", pw)
		var list struct{ Sessions []sessionView }
		r := env.do(a, "GET", "/api/sessions", nil)
		json.Unmarshal([]byte(r.body), &list)
		if r.status != 200 || len(list.Sessions) != 2 {
			t.Fatalf("GET /api/sessions = %d %s, want two sessions", r.status, r.body)
		}
		var bID string
		for _, s := range list.Sessions {
			if !s.Current {
				bID = s.ID
			}
		}
		// Someone else's session ID is not found, and stays alive.
		hs, _ := env.store.FindUserSessions(context.Background(), other.ID)
		if r := env.do(a, "DELETE", "/api/sessions/"+hs[0].ID, nil); r.status != 404 {
			t.Errorf("DELETE another user's session = %d, want 404", r.status)
		}
		if r := env.do(h, "GET", "/api/me", nil); r.status != 200 {
			t.Errorf("hank was signed out by gina: %d", r.status)
		}
		// Revoke B from A's account page.
		if r := env.postForm(a, "/account/sessions/"+bID+"/revoke", nil); r.status != http.StatusSeeOther {
			t.Errorf("revoke B = %d", r.status)
		}
		if r := env.do(b, "GET", "/api/me", nil); r.status != 401 {
			t.Errorf("B after revocation = %d, want 401", r.status)
		}
		// Changing the password ends the other sessions and keeps this one.
		login(env, b, "gina", pw)
		bad := env.postForm(a, "/account/password", url.Values{"current_password": {"wrong"}, "new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}})
		if bad.status != 403 || !strings.Contains(bad.body, "The current password is not right.") {
			t.Errorf("change with a wrong current password = %d", bad.status)
		}
		short := env.postForm(a, "/account/password", url.Values{"current_password": {pw}, "new_password": {"short"}, "confirm_password": {"short"}})
		if short.status != 422 || !strings.Contains(short.body, "at least 8 characters") {
			t.Errorf("change to a short password = %d", short.status)
		}
		r = env.postForm(a, "/account/password", url.Values{"current_password": {pw}, "new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("change password = %d %s", r.status, r.body)
		}
		if r := env.do(b, "GET", "/api/me", nil); r.status != 401 {
			t.Errorf("B after the password change = %d, want 401", r.status)
		}
		if r := env.do(a, "GET", "/account", nil); r.status != 200 || !strings.Contains(r.body, "Your password was changed.") {
			t.Errorf("A after the password change = %d, want its account page with the notice", r.status)
		}
		if _, err := env.accounts.Authenticate(context.Background(), "gina", "a brand new passphrase"); err != nil {
			t.Errorf("sign-in with the new password = %v", err)
		}
		_ = u
	})
}

func TestLogoutAllAndAPILogout(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	env.mustRegister("ivan", pw)
	a, b := env.client(), env.client()
	login(env, a, "ivan", pw)
	login(env, b, "ivan", pw)
	if r := env.do(a, "POST", "/api/auth/logout", nil); r.status != 204 {
		t.Errorf("POST /api/auth/logout = %d, want 204", r.status)
	}
	if r := env.do(a, "GET", "/api/me", nil); r.status != 401 {
		t.Errorf("after logout = %d", r.status)
	}
	if r := env.do(b, "GET", "/api/me", nil); r.status != 200 {
		t.Errorf("the other device after logout = %d, want 200", r.status)
	}
	login(env, a, "ivan", pw)
	if r := env.do(a, "POST", "/api/auth/logout-all", nil); r.status != 204 {
		t.Errorf("POST /api/auth/logout-all = %d", r.status)
	}
	for name, c := range map[string]*http.Client{"a": a, "b": b} {
		if r := env.do(c, "GET", "/api/me", nil); r.status != 401 {
			t.Errorf("%s after logout-all = %d, want 401", name, r.status)
		}
	}
	if r := env.do(nil, "POST", "/api/auth/logout", nil); r.status != 401 || !strings.Contains(r.body, `"unauthorized"`) {
		t.Errorf("logout without a session = %d %s, want 401 unauthorized", r.status, r.body)
	}
}

// A browser that sends two session cookies (one tossed in for a parent
// domain by a sibling host, to sign the user in as someone else) is signed
// out: Gatehouse uses neither, on the pages or the API.
func TestTwoSessionCookiesSignOut(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	env.mustRegister("alice", pw)
	env.mustRegister("mallory", pw)
	mine := sessionCookie(login(env, nil, "alice", pw))
	theirs := sessionCookie(login(env, nil, "mallory", pw))
	if mine == nil || theirs == nil {
		t.Fatal("no session cookies to work with")
	}
	one := SessionCookie + "=" + mine.Value
	if r := env.do(nil, "GET", "/api/me", nil, "Cookie", one); r.status != http.StatusOK {
		t.Fatalf("/api/me with one session cookie = %d, want 200", r.status)
	}
	two := SessionCookie + "=" + theirs.Value + "; " + one
	if r := env.do(nil, "GET", "/api/me", nil, "Cookie", two); r.status != http.StatusUnauthorized {
		t.Errorf("/api/me with two session cookies = %d %s, want 401", r.status, r.body)
	}
	if r := env.do(nil, "GET", "/account", nil, "Cookie", two); r.status != http.StatusSeeOther {
		t.Errorf("/account with two session cookies = %d, want a redirect to sign in", r.status)
	}
	r := env.do(nil, "POST", "/api/auth/refresh", strings.NewReader(`{}`), "Cookie", two, SessionCookieHeader, "1", "Content-Type", "application/json")
	if r.status != http.StatusNoContent || strings.Contains(r.body, "access_token") {
		t.Errorf("SDK refresh with two session cookies = %d %s, want 204 and no token", r.status, r.body)
	}
}
