package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// Review of the SDK's same-site mode (X-Gatehouse-Session-Cookie), the 202
// for a due second factor, and return_to in sign-in mails.

const reviewPW = "a long user password"

// sdkHeaders are what the SDK sends from an allowed origin on the same site.
func sdkHeaders(origin, site string, extra ...string) []string {
	return append([]string{"Content-Type", "application/json", SessionCookieHeader, "1", "Origin", origin, "Sec-Fetch-Site", site}, extra...)
}

// sdkLogin signs in in same-site mode through c and returns the body and the
// session cookie's secret.
func sdkLogin(t *testing.T, env *testEnv, c *http.Client, login string) (map[string]any, string) {
	t.Helper()
	r := env.do(c, "POST", "/api/auth/login", strings.NewReader(`{"login":"`+login+`","password":"`+reviewPW+`"}`),
		sdkHeaders("http://app.example", "same-site")...)
	if r.status != http.StatusOK {
		t.Fatalf("SDK login %s: %d %s", login, r.status, r.body)
	}
	var body map[string]any
	json.Unmarshal([]byte(r.body), &body)
	sc := sessionCookie(r)
	if sc == nil || sc.Value == "" {
		t.Fatalf("SDK login %s set no session cookie", login)
	}
	return body, sc.Value
}

// A page on a sibling subdomain that is not an allowed origin (same site,
// other origin) gets nothing from the session cookie: refresh and sign-in
// are refused before the cookie is used, and preflights get no CORS header.
func TestReviewSDKSiblingOriginRefused(t *testing.T) {
	env := newEnv(t, storetestSQLite(t), func(c *Config) {
		c.AllowedOrigins = []string{"http://app.example"}
		c.CookieDomain = "example"
	})
	env.mustRegister("ada", reviewPW)
	c := env.client()
	sdkLogin(t, env, c, "ada")

	for name, h := range map[string][]string{
		"sibling same-site":      sdkHeaders("http://evil.example", "same-site"),
		"sibling no fetch-meta":  {"Content-Type", "application/json", SessionCookieHeader, "1", "Origin", "http://evil.example"},
		"same-site no origin":    {"Content-Type", "application/json", SessionCookieHeader, "1", "Sec-Fetch-Site", "same-site"},
		"null origin":            {"Content-Type", "application/json", SessionCookieHeader, "1", "Origin", "null"},
		"sibling with a bearer":  sdkHeaders("http://evil.example", "same-site", "Authorization", "Bearer x"),
		"both headers, sibling":  sdkHeaders("http://evil.example", "same-site", RefreshCookieHeader, "1"),
		"scheme-mismatch origin": sdkHeaders("https://app.example", "same-site"),
	} {
		r := env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), h...)
		if r.status != http.StatusForbidden || strings.Contains(r.body, "access_token") || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("refresh (%s): got %d ACAO=%q body %s, want 403 and nothing", name, r.status, r.header.Get("Access-Control-Allow-Origin"), r.body)
		}
		if strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), TokenCookie+"=ey") {
			t.Errorf("refresh (%s) set a token cookie", name)
		}
		r = env.do(c, "POST", "/api/auth/login", strings.NewReader(`{"login":"ada","password":"`+reviewPW+`"}`), h...)
		if r.status != http.StatusForbidden || sessionCookie(r) != nil {
			t.Errorf("login (%s): got %d, want 403 and no session cookie", name, r.status)
		}
	}
	pre := env.do(nil, "OPTIONS", "/api/auth/refresh", nil, "Origin", "http://evil.example",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-gatehouse-session-cookie")
	if pre.header.Get("Access-Control-Allow-Origin") != "" || pre.header.Get("Access-Control-Allow-Headers") != "" {
		t.Errorf("preflight from a sibling: got CORS headers %v", pre.header)
	}
	// The allowed origin: CORS with credentials, Vary: Origin, never cached.
	r := env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), sdkHeaders("http://app.example", "same-site")...)
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "http://app.example" ||
		!strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Origin") || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("refresh from the allowed origin: %d headers %v", r.status, r.header)
	}
}

// A same-site sign-in through the SDK ends the session the browser already
// had (another user's, planted or not), as the hosted pages do; a planted
// cookie value that is no session is ignored and never reused.
func TestReviewSDKSignInReplacesSession(t *testing.T) {
	env := newEnv(t, storetestSQLite(t), func(c *Config) { c.AllowedOrigins = []string{"http://app.example"} })
	env.mustRegister("ada", reviewPW)
	env.mustRegister("mallory", reviewPW)
	c := env.client()
	_, old := sdkLogin(t, env, c, "mallory")
	_, fresh := sdkLogin(t, env, c, "ada")
	if fresh == old {
		t.Fatal("the session secret was reused")
	}
	// The old secret is dead.
	oc := env.client()
	u, _ := url.Parse(env.srv.URL)
	oc.Jar.SetCookies(u, []*http.Cookie{{Name: SessionCookie, Value: old}})
	if r := env.do(oc, "POST", "/api/auth/refresh", strings.NewReader(`{}`), sdkHeaders("http://app.example", "same-site")...); r.status != http.StatusNoContent {
		t.Errorf("refresh with the replaced session: %d %s, want 204", r.status, r.body)
	}
	// A planted value is not adopted.
	pc := env.client()
	pc.Jar.SetCookies(u, []*http.Cookie{{Name: SessionCookie, Value: "attackerchosen123attackerchosen123attacker"}})
	if _, got := sdkLogin(t, env, pc, "ada"); strings.HasPrefix(got, "attackerchosen") {
		t.Error("a planted session value was adopted")
	}
}

// Refreshing from the session follows the session's life: revocation,
// disabling the user, and a role that requires two-step verification that
// is not on each stop it.
func TestReviewSDKRefreshFollowsSession(t *testing.T) {
	env := newSocialEnv(t, storetestSQLite(t), nil, func(c *Config) {
		c.AllowedOrigins = []string{"http://app.example"}
		c.MFARequiredRoles = []string{auth.RoleAdmin}
	})
	ctx := context.Background()
	admin := env.mustRegister("root", reviewPW, auth.RoleAdmin)
	env.enableTOTP(t, admin)
	h := sdkHeaders("http://app.example", "same-site")
	refresh := func(c *http.Client) response {
		return env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), h...)
	}

	// Revoked.
	u := env.mustRegister("ada", reviewPW)
	c := env.client()
	body, _ := sdkLogin(t, env.testEnv, c, "ada")
	if _, err := env.sessions.RevokeUser(ctx, u.ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	if r := refresh(c); r.status != http.StatusNoContent || strings.Contains(r.body, "access_token") {
		t.Errorf("refresh after revocation: %d %s", r.status, r.body)
	}
	if r := env.do(nil, "GET", "/api/me", nil, "Authorization", "Bearer "+body["access_token"].(string)); r.status != http.StatusUnauthorized {
		t.Errorf("the access token after revocation: %d", r.status)
	}

	// Disabled.
	u2 := env.mustRegister("bob", reviewPW)
	c = env.client()
	sdkLogin(t, env.testEnv, c, "bob")
	if _, err := env.accounts.SetActive(ctx, admin, u2.ID, false); err != nil {
		t.Fatal(err)
	}
	if r := refresh(c); r.status != http.StatusNoContent || strings.Contains(r.body, "access_token") {
		t.Errorf("refresh after disabling: %d %s", r.status, r.body)
	}

	// A role that requires TOTP, given after the sign-in.
	u3 := env.mustRegister("carol", reviewPW)
	c = env.client()
	sdkLogin(t, env.testEnv, c, "carol")
	if _, err := env.accounts.SetRoles(ctx, admin, u3.ID, []string{auth.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if r := refresh(c); r.status != http.StatusForbidden || strings.Contains(r.body, "access_token") ||
		strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), TokenCookie+"=ey") {
		t.Errorf("refresh with enrollment due: %d %s", r.status, r.body)
	}
	// And a fresh SDK sign-in of such a user gets no session and no token.
	r := env.do(env.client(), "POST", "/api/auth/login", strings.NewReader(`{"login":"carol","password":"`+reviewPW+`"}`), h...)
	if r.status != http.StatusForbidden || sessionCookie(r) != nil || strings.Contains(r.body, "access_token") {
		t.Errorf("SDK sign-in with enrollment due: %d %s", r.status, r.body)
	}
}

// The 202 for a due second factor starts nothing: no session cookie, no
// token, and the code step still counts and is bound to the API kind.
// Without a header the contract's 401 stays.
func TestReviewSDKSecondFactorStep(t *testing.T) {
	env := newSocialEnv(t, storetestSQLite(t), nil, func(c *Config) { c.AllowedOrigins = []string{"http://app.example"} })
	u := env.mustRegister("ada", reviewPW)
	env.enableTOTP(t, u)
	c := env.client()
	h := sdkHeaders("http://app.example", "same-site")
	r := env.do(c, "POST", "/api/auth/login", strings.NewReader(`{"login":"ada","password":"`+reviewPW+`","remember":true}`), h...)
	if r.status != http.StatusAccepted || sessionCookie(r) != nil || strings.Contains(r.body, "access_token") || r.header.Get("WWW-Authenticate") != "" {
		t.Fatalf("first factor: %d %s cookie=%v", r.status, r.body, sessionCookie(r))
	}
	var p map[string]any
	json.Unmarshal([]byte(r.body), &p)
	tok, _ := p["mfa_token"].(string)
	// Refresh between the steps: nobody signed in.
	if r := env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), h...); r.status != http.StatusNoContent {
		t.Errorf("refresh between the factors: %d %s", r.status, r.body)
	}
	// The token is not a hosted page's.
	mc := env.client()
	su, _ := url.Parse(env.srv.URL)
	mc.Jar.SetCookies(su, []*http.Cookie{{Name: MFACookieNameInsecure, Value: tok}})
	if r := env.postForm(mc, "/login/mfa", url.Values{"code": {"000000"}}); sessionCookie(r) != nil && sessionCookie(r).Value != "" {
		t.Errorf("the API's mfa_token signed in on the hosted page")
	}
	// Without the header: 401 mfa_required with WWW-Authenticate.
	r = env.do(nil, "POST", "/api/auth/login", strings.NewReader(`{"login":"ada","password":"`+reviewPW+`"}`), "Content-Type", "application/json")
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, `"mfa_required"`) || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("no header: %d %s", r.status, r.body)
	}
	// A wrong password is the same 401 with the header.
	r = env.do(nil, "POST", "/api/auth/login", strings.NewReader(`{"login":"ada","password":"wrong wrong wrong wrong"}`), h...)
	if r.status != http.StatusUnauthorized || strings.Contains(r.body, "mfa_token") {
		t.Errorf("wrong password with the header: %d %s", r.status, r.body)
	}
}

// return_to in a sign-in mail asked for through the API: tricks that would
// lead elsewhere are dropped, and the link cannot carry a header or a script.
func TestReviewEmailLoginReturnToTricks(t *testing.T) {
	forEachMailBackend(t, mailOptions{origins: []string{"https://app.example"}}, func(t *testing.T, env *mailEnv) {
		env.mustRegister("alice", pw)
		n := 1
		for _, bad := range []string{
			"https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example", "/%5Cevil.example",
			"/%2F/evil.example", "/%252F%252Fevil.example", "https://app.example@evil.example/", "https://evil.example\\@app.example/",
			"https://app.example.evil.example/", "https://app.example:444/", "http://app.example/", "javascript:alert(1)",
			"JaVaScRiPt:alert(1)", "data:text/html,x", "/%0d%0aSet-Cookie:x=1", "/%09/evil.example", "https:evil.example",
			"https:/evil.example", " https://evil.example", "https://evil.example#https://app.example/",
			"https://app.example%40evil.example/", "https://evil.example%2F@app.example/",
		} {
			body := rawJSON(`{"email":"alice@example.com","return_to":` + jsonString(bad) + `}`)
			if r := env.do(nil, "POST", "/api/auth/email-login", body, "Content-Type", jsonCT); r.status != http.StatusAccepted {
				t.Fatalf("email-login = %d %s", r.status, r.body)
			}
			n++
			link := env.linkIn(env.lastMail("alice@example.com", n), "/login/email/")
			got := linkReturnTo(link)
			if got == "" {
				continue
			}
			gu, err := url.Parse(got)
			if err != nil || (gu.Host != "" && gu.Host != "app.example") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
				t.Errorf("return_to %q: the link goes on to %q", bad, got)
			}
			// Following it must land on the app or on a path here.
			r := env.postForm(env.client(), link, nil)
			loc := r.header.Get("Location")
			lu, _ := url.Parse(loc)
			if lu == nil || (lu.Host != "" && lu.Host != "app.example") || strings.HasPrefix(loc, "//") || strings.Contains(loc, "\\") {
				t.Errorf("return_to %q: following the link goes to %q", bad, loc)
			}
		}
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// The SDK signs out with its access token and the session cookie. On the
// server a token that is no longer good makes the whole sign-out a 401 (the
// bearer is the credential that counts), so the session lives on and the
// next page load signs the user back in; the SDK therefore renews a lapsed
// token before signing out (gatehouse.mjs logout), checked here in Node.js
// when it is installed: the scheduled renewal fails, the token lapses, and
// Sign out must still end the session.
func TestReviewSDKLogoutWithStaleToken(t *testing.T) {
	env := newEnv(t, storetestSQLite(t), func(c *Config) { c.AllowedOrigins = []string{"http://app.example"} })
	env.mustRegister("ada", reviewPW)
	c := env.client()
	sdkLogin(t, env, c, "ada")
	h := sdkHeaders("http://app.example", "same-site", RefreshCookieHeader, "1")
	stale := env.do(c, "POST", "/api/auth/logout", nil, append(h, "Authorization", "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln")...)
	if stale.status != http.StatusUnauthorized {
		t.Fatalf("logout with a stale token: %d, want 401", stale.status)
	}
	// What the SDK now does: renew from the session, then sign out.
	r := env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), h...)
	var pair map[string]any
	json.Unmarshal([]byte(r.body), &pair)
	at, _ := pair["access_token"].(string)
	if r.status != http.StatusOK || at == "" {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if out := env.do(c, "POST", "/api/auth/logout", nil, append(h, "Authorization", "Bearer "+at)...); out.status != http.StatusNoContent {
		t.Fatalf("logout with a renewed token: %d %s", out.status, out.body)
	}
	if r := env.do(c, "POST", "/api/auth/refresh", strings.NewReader(`{}`), h...); r.status != http.StatusNoContent {
		t.Errorf("refresh after signing out: %d, want 204", r.status)
	}

	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the SDK's side is not run")
	}
	dir := t.TempDir()
	src, err := os.ReadFile("sdk/gatehouse.mjs")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "gatehouse.mjs"), src, 0o644)
	os.WriteFile(filepath.Join(dir, "run.mjs"), []byte(sdkLogoutHarness), 0o644)
	out, err := exec.Command(node, filepath.Join(dir, "run.mjs")).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "signed out") {
		t.Errorf("the SDK signed out with a lapsed token and left the session alive:\n%s", out)
	}
}

// sdkLogoutHarness loads the SDK against a fake Gatehouse whose tokens live
// a second: the scheduled renewal fails on the network, the token lapses,
// then logout must present a good token.
const sdkLogoutHarness = `
globalThis.location = { href: "http://app.example/", origin: "http://app.example" };
let n = 0, failNext = false, lapsed = false, ended = false;
globalThis.fetch = async (url, init) => {
  if (failNext) { failNext = false; throw new TypeError("network"); }
  if (url.endsWith("/api/auth/refresh")) {
    if (ended) return new Response(null, { status: 204 });
    n++; lapsed = false;
    return new Response(JSON.stringify({ access_token: "tok" + n, expires_in: 1, user: { id: "1", username: "ada" } }), { status: 200 });
  }
  if (url.endsWith("/api/auth/logout")) {
    if (init.headers.Authorization !== "Bearer tok" + n || lapsed) return new Response(JSON.stringify({ error: "unauthorized", message: "stale" }), { status: 401 });
    ended = true;
    return new Response(null, { status: 204 });
  }
  return new Response("{}", { status: 404 });
};
const { default: G } = await import("./gatehouse.mjs");
await G.load({ url: "http://auth.example" });
failNext = true;
await new Promise((r) => setTimeout(r, 1500));
lapsed = true;
try { await G.logout(); } catch (e) { console.log("logout failed:", e.message); }
console.log(ended ? "signed out" : "session still alive");
process.exit(0);
`
