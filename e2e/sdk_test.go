//go:build e2e

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/e2e"
	"github.com/gatehouse-dev/gatehouse/examples/api-backend/backend"
	"github.com/gatehouse-dev/gatehouse/examples/spa/app"
	"github.com/gatehouse-dev/gatehouse/internal/oidctest"
	"github.com/gatehouse-dev/gatehouse/web"
)

// shadowJS evaluates code with `root` bound to the shadow root of the
// element host selects.
func shadowJS(host, code string) string {
	return fmt.Sprintf(`(async () => { const root = document.querySelector(%q).shadowRoot; %s })()`, host, code)
}

// waitFor polls a JavaScript condition until it is true.
func waitFor(t *testing.T, b *e2e.Browser, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var ok bool
		b.Eval(`(() => { try { return !!(`+cond+`); } catch (e) { return false; } })()`, &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var html string
			b.Eval(`[...document.querySelectorAll("#auth,#passkeys,#sessions")].map(e => e.shadowRoot ? e.shadowRoot.textContent : "").join(" | ")`, &html)
			t.Fatalf("waiting for %s: timed out; components show %q", what, html)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func shadowText(host string) string {
	return fmt.Sprintf(`document.querySelector(%q).shadowRoot.textContent`, host)
}

// fillAndSubmit fills the named inputs of the shadow form and submits it.
func fillAndSubmit(b *e2e.Browser, host string, values map[string]string) {
	var js strings.Builder
	for k, v := range values {
		fmt.Fprintf(&js, `root.querySelector('input[name=%q]').value = %q;`, k, v)
	}
	js.WriteString(`root.querySelector('form').requestSubmit();`)
	b.Eval(shadowJS(host, js.String()), nil)
}

func clickButton(b *e2e.Browser, host, label string) {
	b.Eval(shadowJS(host, fmt.Sprintf(`[...root.querySelectorAll('button')].find(e => e.textContent === %q).click();`, label)), nil)
}

// TestSDKApp runs examples/spa on a second loopback origin, in front of
// examples/api-backend, in each of the SDK's modes: sign up with a
// password, call the backend, add a passkey, sign out, sign in with the
// passkey, watch a refresh happen, and revoke a session; no token may be
// left in web storage. In the same-site mode the backend gets its token from
// the gatehouse_token cookie, and a sign-in made on Gatehouse's hosted pages
// (as social and email-link sign-ins end) shows in the SDK too. The
// cross-origin mode runs on SQLite, the same-site one on PostgreSQL when it
// is configured.
func TestSDKApp(t *testing.T) {
	t.Run("cross-origin", func(t *testing.T) { testSDKApp(t, app.CrossOrigin, e2e.SQLite) })
	t.Run("same-site", func(t *testing.T) {
		store := e2e.SQLite
		if os.Getenv("GATEHOUSE_TEST_POSTGRES_URL") != "" {
			store = e2e.Postgres
		}
		testSDKApp(t, app.SameSite, store)
	})
}

func testSDKApp(t *testing.T, mode string, store e2e.Store) {
	site := e2e.NewSite(t)
	h := e2e.Start(t, e2e.WithStore(store), e2e.WithConfig(func(c *gatehouse.Config) {
		onLocalhost(c)
		c.HTTP.AllowedOrigins = []string{site.URL}
		c.Passkey.Origins = []string{c.PublicURL, site.URL}
		c.Token.AccessTTL = 4 * time.Second
		if mode == app.SameSite {
			c.Session.CookieDomain = "localhost"
		}
	}))
	cl, err := backend.NewClient(context.Background(), h.URL, "", 0)
	if err != nil {
		t.Fatalf("backend.NewClient: %v", err)
	}
	defer cl.Close()
	site.Handle("/", app.Handler(h.URL, mode, backend.Routes(cl)))

	js := web.SDK()[0]
	t.Logf("SDK %s: %d bytes, integrity %s", js.Name, js.Size, js.Integrity)

	b := e2e.NewBrowser(t, site.URL)
	b.AddVirtualAuthenticator()
	b.WithoutPasskeyAutofill()
	b.Navigate(site.URL + "/")
	waitFor(t, b, "the sign-in form", shadowText("#auth")+`.includes("Create an account")`)
	b.Screenshot("sdk-sign-in")

	// Sign up with a password.
	clickButton(b, "#auth", "Create an account")
	waitFor(t, b, "the sign-up form", `document.querySelector("#auth").shadowRoot.querySelector("input[name=email]")`)
	fillAndSubmit(b, "#auth", map[string]string{"username": "ada", "email": "ada@example.com", "password": "a long user password"})
	waitFor(t, b, "the signed-in view", shadowText("#auth")+`.includes("Signed in as ada")`)
	waitFor(t, b, "the backend's answer", `document.querySelector("#backend").textContent.includes("hello to ada")`)
	b.Screenshot("sdk-signed-in")

	// Where the sign-in is kept: never in web storage; in an HttpOnly
	// cookie of the mode, and only that one.
	checkStorage := func() {
		t.Helper()
		var storage string
		b.Eval(`JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])`, &storage)
		if storage != "[[],[]]" {
			t.Errorf("web storage after sign-in = %s, want it empty", storage)
		}
	}
	checkStorage()
	switch mode {
	case app.CrossOrigin:
		if c := b.Cookie(web.RefreshCookie); c == nil || !c.HTTPOnly || c.Path != "/api/auth/refresh" {
			t.Errorf("refresh cookie = %+v, want an HttpOnly cookie on /api/auth/refresh", c)
		}
		if c := b.Cookie(web.SessionCookie); c != nil {
			t.Errorf("session cookie = %+v in the cross-origin mode, want none", c)
		}
	case app.SameSite:
		if c := b.Cookie(web.SessionCookie); c == nil || !c.HTTPOnly {
			t.Errorf("session cookie = %+v, want an HttpOnly one", c)
		}
		if c := b.Cookie(web.TokenCookie); c == nil || !c.HTTPOnly {
			t.Errorf("token cookie = %+v, want an HttpOnly one for the backend", c)
		}
		if c := b.Cookie(web.RefreshCookie); c != nil {
			t.Errorf("refresh cookie = %+v in the same-site mode, want none", c)
		}
	}

	// Add a passkey from the passkey list (a <gatehouse-passkeys> element).
	waitFor(t, b, "the passkey form", `document.querySelector("#passkeys").shadowRoot.querySelector("input[name=name]")`)
	fillAndSubmit(b, "#passkeys", map[string]string{"name": "Laptop"})
	waitFor(t, b, "the new passkey", shadowText("#passkeys")+`.includes("Laptop")`)

	// Sign out, and back in with the passkey.
	clickButton(b, "#auth", "Sign out")
	waitFor(t, b, "the sign-in form after signing out", shadowText("#auth")+`.includes("Sign in with a passkey")`)
	clickButton(b, "#auth", "Sign in with a passkey")
	waitFor(t, b, "the passkey sign-in", shadowText("#auth")+`.includes("Signed in as ada")`)

	// A refresh: the token lives 4 s, so a new one comes within seconds,
	// and the backend still answers afterwards.
	var before int
	b.Eval(`Number(document.querySelector("#token-count").textContent)`, &before)
	waitFor(t, b, "a token refresh", fmt.Sprintf(`Number(document.querySelector("#token-count").textContent) > %d`, before))
	time.Sleep(time.Second) // past the first token's life, in the same-site mode its cookie's too
	b.Eval(`document.querySelector("#backend").textContent = ""`, nil)
	b.Click("#call")
	waitFor(t, b, "the backend's answer after the refresh", `document.querySelector("#backend").textContent.includes("hello to ada")`)
	checkStorage()

	// A reload restores the sign-in from the cookie.
	b.Navigate(site.URL + "/")
	waitFor(t, b, "the sign-in restored after a reload", shadowText("#auth")+`.includes("Signed in as ada")`)

	// Sessions: revoke the current one, which signs out.
	waitFor(t, b, "the sessions list", shadowText("#sessions")+`.includes("(this one)")`)
	b.Screenshot("sdk-lists")
	clickButton(b, "#sessions", "Sign out")
	waitFor(t, b, "signed out by revoking", shadowText("#auth")+`.includes("Sign in with a passkey")`)

	if mode == app.SameSite {
		// A sign-in on Gatehouse's hosted page, the way social and email-link
		// sign-ins finish, brings the browser back signed in here too.
		b.Navigate(h.URL + "/login?return_to=" + url.QueryEscape(site.URL+"/"))
		b.Fill("#login", "ada")
		b.Fill("#password", "a long user password")
		b.Submit(submitForm)
		b.WaitURL(site.URL + "/")
		waitFor(t, b, "the hosted sign-in picked up", shadowText("#auth")+`.includes("Signed in as ada")`)
		waitFor(t, b, "the backend's answer after a hosted sign-in", `document.querySelector("#backend").textContent.includes("hello to ada")`)
	} else {
		fillAndSubmit(b, "#auth", map[string]string{"login": "ada", "password": "a long user password"})
		waitFor(t, b, "signed in again", shadowText("#auth")+`.includes("Signed in as ada")`)
	}

	// Another device's session is revocable from the list.
	other := e2e.NewBrowser(t, h.URL)
	other.Navigate("/login")
	other.Fill("#login", "ada")
	other.Fill("#password", "a long user password")
	other.Submit(submitForm)
	b.Navigate(site.URL + "/")
	waitFor(t, b, "two sessions", `document.querySelector("#sessions").shadowRoot.querySelectorAll("li").length === 2`)
	clickButton(b, "#sessions", "Revoke")
	waitFor(t, b, "the other session revoked", `document.querySelector("#sessions").shadowRoot.querySelectorAll("li").length === 1`)

	// Remove the passkey.
	waitFor(t, b, "the passkey list", shadowText("#passkeys")+`.includes("Laptop")`)
	clickButton(b, "#passkeys", "Remove")
	waitFor(t, b, "the passkey removed", shadowText("#passkeys")+`.includes("None.")`)
}

// TestSDKOriginNotAllowed loads the example app from an origin Gatehouse
// does not allow: no CORS headers, a clear error, no token.
func TestSDKOriginNotAllowed(t *testing.T) {
	site := e2e.NewSite(t)
	h := e2e.Start(t, e2e.WithConfig(func(c *gatehouse.Config) {
		onLocalhost(c)
		c.HTTP.AllowedOrigins = []string{site.URL}
	}))
	site.Handle("/", app.Handler(h.URL, app.CrossOrigin, http.NotFoundHandler()))
	h.CreateUser(t, accounts.Registration{Username: "ada", Email: "ada@example.com", Password: "a long user password"})

	b := e2e.NewBrowser(t, site.SameSiteURL)
	b.AllowConsole("CORS policy")
	b.AllowConsole("net::ERR_FAILED")
	b.Navigate(site.SameSiteURL + "/")
	waitFor(t, b, "the error", shadowText("#auth")+`.includes("allowed_origins")`)
	b.Screenshot("sdk-origin-not-allowed")

	var result string
	b.Eval(`fetch(`+fmt.Sprintf("%q", h.URL+"/api/auth/login")+`, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({login: "ada", password: "a long user password"})}).then(r => "answered " + r.status, e => "refused: " + e.name)`, &result)
	if !strings.HasPrefix(result, "refused") {
		t.Errorf("a sign-in from a page on another origin: %s, want the browser to refuse it", result)
	}

	req, _ := http.NewRequest("GET", h.URL+"/api/auth/providers", nil)
	req.Header.Set("Origin", site.SameSiteURL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("Access-Control-Allow-Origin for %s = %q, want none", site.SameSiteURL, got)
	}
}

// apiJSON posts body to Gatehouse's API with an optional bearer token and
// decodes the answer.
func apiJSON(t *testing.T, base, path, token string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: status %d, %v", path, resp.StatusCode, out)
	}
	return out
}

// TestSDKWebComponent uses the SDK with no script of the page's own beyond
// an event listener: a <gatehouse-auth> element with url, mode, methods and
// theme attributes signs in a user who has two-step verification, through
// the code step (with a recovery code), and fires gatehouse-login.
func TestSDKWebComponent(t *testing.T) {
	site := e2e.NewSite(t)
	h := e2e.Start(t, e2e.WithConfig(func(c *gatehouse.Config) {
		onLocalhost(c)
		c.HTTP.AllowedOrigins = []string{site.URL}
	}))
	h.CreateUser(t, accounts.Registration{Username: "ada", Email: "ada@example.com", Password: "a long user password"})
	pair := apiJSON(t, h.URL, "/api/auth/login", "", map[string]string{"login": "ada", "password": "a long user password"})
	at := pair["access_token"].(string)
	setup := apiJSON(t, h.URL, "/api/mfa/totp/setup", at, map[string]string{})
	codes := apiJSON(t, h.URL, "/api/mfa/totp/confirm", at, map[string]string{"code": totpCode(t, setup["secret"].(string), time.Now())})
	recovery := codes["recovery_codes"].([]any)[0].(string)

	site.Page("/", `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Web component</title>
<script src="`+h.URL+`/sdk/gatehouse.js"></script></head><body>
<gatehouse-auth id="auth" url="`+h.URL+`" mode="cross-origin" methods="password" theme="dark"></gatehouse-auth>
<p id="event">none</p>
<script>
document.addEventListener("gatehouse-login", (ev) => { document.getElementById("event").textContent = "login " + ev.detail.username; });
</script></body></html>`)
	b := e2e.NewBrowser(t, site.URL)
	b.Navigate(site.URL + "/")
	waitFor(t, b, "the sign-in form", shadowText("#auth")+`.includes("Sign in")`)
	var buttons int
	b.Eval(`document.querySelector("#auth").shadowRoot.querySelectorAll("button").length`, &buttons)
	if buttons != 2 { // Sign in, Create an account: methods="password" leaves out the rest
		t.Errorf("methods=\"password\": %d buttons, want 2 (sign in, create an account)", buttons)
	}
	b.Screenshot("sdk-component-dark")
	fillAndSubmit(b, "#auth", map[string]string{"login": "ada", "password": "a long user password"})
	waitFor(t, b, "the code step", shadowText("#auth")+`.includes("Two-step verification")`)
	b.Screenshot("sdk-component-mfa")
	fillAndSubmit(b, "#auth", map[string]string{"code": recovery})
	waitFor(t, b, "the signed-in view", shadowText("#auth")+`.includes("Signed in as ada")`)
	waitFor(t, b, "the gatehouse-login event", `document.querySelector("#event").textContent === "login ada"`)
}

// TestSDKSocialSignIn: the SDK's button for a configured provider goes
// through the provider and Gatehouse and back to the page, which the SDK
// then shows signed in (same-site mode, from Gatehouse's session cookie).
func TestSDKSocialSignIn(t *testing.T) {
	idp, providers := corpProvider(t)
	idp.SetUser(oidctest.User{Subject: "sdk-1", Email: "grace@example.com", EmailVerified: true, PreferredUsername: "grace"})
	site := e2e.NewSite(t)
	h := e2e.Start(t, e2e.WithConfig(func(c *gatehouse.Config) {
		onLocalhost(c)
		c.HTTP.AllowedOrigins = []string{site.URL}
		c.OAuth.ProvidersFile = providers
	}))
	site.Page("/", `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Social</title>
<script src="`+h.URL+`/sdk/gatehouse.js"></script></head><body>
<gatehouse-auth id="auth" url="`+h.URL+`"></gatehouse-auth>
</body></html>`)
	b := e2e.NewBrowser(t, site.URL)
	b.WithoutPasskeyAutofill()
	b.Navigate(site.URL + "/")
	waitFor(t, b, "the provider's button", shadowText("#auth")+`.includes("Continue with Corp ID")`)
	b.Eval(shadowJS("#auth", `[...root.querySelectorAll("a")].find(e => e.textContent === "Continue with Corp ID").click();`), nil)
	b.WaitURL(site.URL + "/")
	waitFor(t, b, "signed in through the provider", shadowText("#auth")+`.includes("Signed in as grace")`)
	if n := len(idp.AuthRequests()); n != 1 {
		t.Errorf("provider saw %d authorization requests, want 1", n)
	}
}

// TestSDKEmailLink: the SDK asks for a sign-in mail from its page; the
// mail's link, opened in the same browser, signs in on Gatehouse's page and
// brings the user back to the app's page, which the SDK shows signed in.
func TestSDKEmailLink(t *testing.T) {
	site := e2e.NewSite(t)
	h := e2e.Start(t, e2e.WithConfig(func(c *gatehouse.Config) {
		onLocalhost(c)
		c.HTTP.AllowedOrigins = []string{site.URL}
		c.Email.Login = true
	}))
	h.CreateUser(t, accounts.Registration{Username: "ada", Email: "ada@example.com", Password: "a long user password"})
	site.Page("/", `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Email</title>
<script src="`+h.URL+`/sdk/gatehouse.js"></script></head><body>
<gatehouse-auth id="auth" url="`+h.URL+`" methods="email"></gatehouse-auth>
</body></html>`)
	b := e2e.NewBrowser(t, site.URL)
	b.Navigate(site.URL + "/")
	waitFor(t, b, "the email button", shadowText("#auth")+`.includes("Email me a sign-in code")`)
	clickButton(b, "#auth", "Email me a sign-in code")
	waitFor(t, b, "the email form", `document.querySelector("#auth").shadowRoot.querySelector("input[name=email]")`)
	fillAndSubmit(b, "#auth", map[string]string{"email": "ada@example.com"})
	waitFor(t, b, "the code step", shadowText("#auth")+`.includes("brings you back here")`)
	b.Screenshot("sdk-email-code")

	b.Navigate(h.URL + "/dev/mail")
	link := mailLink(t, b, "/login/email/")
	if !strings.Contains(link, "return_to=") {
		t.Errorf("the mail's link %s does not lead back to the app", link)
	}
	b.Navigate(link)
	b.Submit("#email-link-continue")
	if got := b.Location(); got != site.URL+"/" {
		t.Fatalf("after the link: at %s, want the app's page %s/", got, site.URL)
	}
	waitFor(t, b, "signed in by the link", shadowText("#auth")+`.includes("Signed in as ada")`)
}

// TestSDKHiddenPageRenewsNothing: while the page is hidden (a background
// tab), the SDK does not renew the token, so an unused tab does not keep the
// session alive past its idle timeout; once the page is seen again it
// renews at once.
func TestSDKHiddenPageRenewsNothing(t *testing.T) {
	site := e2e.NewSite(t)
	h := e2e.Start(t, e2e.WithConfig(func(c *gatehouse.Config) {
		onLocalhost(c)
		c.HTTP.AllowedOrigins = []string{site.URL}
		c.Token.AccessTTL = 3 * time.Second
	}))
	h.CreateUser(t, accounts.Registration{Username: "ada", Email: "ada@example.com", Password: "a long user password"})
	site.Page("/", `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hidden</title>
<script src="`+h.URL+`/sdk/gatehouse.js"></script></head><body>
<gatehouse-auth id="auth" url="`+h.URL+`" methods="password"></gatehouse-auth>
<p id="tokens">0</p>
<script>
let hidden = false;
Object.defineProperty(document, "hidden", { get: () => hidden });
window.setHidden = (v) => { hidden = v; document.dispatchEvent(new Event("visibilitychange")); };
Gatehouse.on("token", () => { const p = document.getElementById("tokens"); p.textContent = String(Number(p.textContent) + 1); });
</script></body></html>`)
	b := e2e.NewBrowser(t, site.URL)
	b.Navigate(site.URL + "/")
	waitFor(t, b, "the sign-in form", shadowText("#auth")+`.includes("Sign in")`)
	fillAndSubmit(b, "#auth", map[string]string{"login": "ada", "password": "a long user password"})
	waitFor(t, b, "the signed-in view", shadowText("#auth")+`.includes("Signed in as ada")`)

	b.Eval(`setHidden(true)`, nil)
	var before, after int
	b.Eval(`Number(document.getElementById("tokens").textContent)`, &before)
	time.Sleep(5 * time.Second) // past the token's life
	b.Eval(`Number(document.getElementById("tokens").textContent)`, &after)
	if after != before {
		t.Errorf("a hidden page renewed its token %d times, want none", after-before)
	}
	b.Eval(`setHidden(false)`, nil)
	waitFor(t, b, "a renewal once the page is seen", fmt.Sprintf(`Number(document.getElementById("tokens").textContent) > %d`, after))
}
