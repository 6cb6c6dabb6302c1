//go:build e2e

package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/client"
	"github.com/gatehouse-dev/gatehouse/e2e"
	"github.com/gatehouse-dev/gatehouse/examples/spa/app"
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

// TestSDKCrossOriginApp runs examples/spa on a second loopback origin: sign
// up with a password, call the backend, add a passkey, sign out, sign in
// with the passkey, watch a refresh happen, and revoke a session; no token
// may be left in web storage. A page on an origin Gatehouse does not allow
// gets no CORS headers and shows why.
func TestSDKCrossOriginApp(t *testing.T) {
	site := e2e.NewSite(t)
	h := e2e.Start(t, e2e.WithConfig(func(c *gatehouse.Config) {
		onLocalhost(c)
		c.HTTP.AllowedOrigins = []string{site.URL}
		c.Passkey.Origins = []string{c.PublicURL, site.URL}
		c.Token.AccessTTL = 4 * time.Second
	}))
	cl, err := client.New(context.Background(), h.URL)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	defer cl.Close()
	backend := cl.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := client.ClaimsFrom(r.Context())
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"hello":%q}`, claims.Username)
	}))
	site.Handle("/", app.Handler(h.URL, backend))

	js := web.SDK()[0]
	t.Logf("SDK %s: %d bytes, integrity %s", js.Name, js.Size, js.Integrity)

	b := e2e.NewBrowser(t, site.URL)
	b.AddVirtualAuthenticator()
	b.WithoutPasskeyAutofill()
	b.Navigate(site.URL + "/")
	waitFor(t, b, "the sign-in form", shadowText("#auth")+`.includes("Create an account")`)

	// Sign up with a password.
	clickButton(b, "#auth", "Create an account")
	waitFor(t, b, "the sign-up form", `document.querySelector("#auth").shadowRoot.querySelector("input[name=email]")`)
	fillAndSubmit(b, "#auth", map[string]string{"username": "ada", "email": "ada@example.com", "password": "a long user password"})
	waitFor(t, b, "the signed-in view", shadowText("#auth")+`.includes("Signed in as ada")`)
	waitFor(t, b, "the backend's answer", `document.querySelector("#backend").textContent.includes("hello to ada")`)
	b.Screenshot("sdk-signed-in")

	// Add a passkey from the passkey list.
	waitFor(t, b, "the passkey form", `document.querySelector("#passkeys").shadowRoot.querySelector("input[name=name]")`)
	fillAndSubmit(b, "#passkeys", map[string]string{"name": "Laptop"})
	waitFor(t, b, "the new passkey", shadowText("#passkeys")+`.includes("Laptop")`)

	// Sign out, and back in with the passkey.
	clickButton(b, "#auth", "Sign out")
	waitFor(t, b, "the sign-in form after signing out", shadowText("#auth")+`.includes("Sign in with a passkey")`)
	clickButton(b, "#auth", "Sign in with a passkey")
	waitFor(t, b, "the passkey sign-in", shadowText("#auth")+`.includes("Signed in as ada")`)

	// A refresh: the token lives 4 s, so a new one comes within seconds.
	var before int
	b.Eval(`Number(document.querySelector("#token-count").textContent)`, &before)
	waitFor(t, b, "a token refresh", fmt.Sprintf(`Number(document.querySelector("#token-count").textContent) > %d`, before))
	b.Click("#call")
	waitFor(t, b, "the backend's answer after the refresh", `document.querySelector("#backend").textContent.includes("hello to ada")`)

	// No token in web storage; the refresh token only in its HttpOnly cookie.
	var storage string
	b.Eval(`JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])`, &storage)
	if storage != "[[],[]]" {
		t.Errorf("web storage after sign-in = %s, want it empty", storage)
	}
	if c := b.Cookie(web.RefreshCookie); c == nil || !c.HTTPOnly || c.Path != "/api/auth/refresh" {
		t.Errorf("refresh cookie = %+v, want an HttpOnly cookie on /api/auth/refresh", c)
	}

	// Sessions: two (the password and the passkey sign-ins, the first
	// ended by signing out, so one live); revoke the current one.
	waitFor(t, b, "the sessions list", shadowText("#sessions")+`.includes("(this one)")`)
	b.Screenshot("sdk-lists")
	clickButton(b, "#sessions", "Sign out")
	waitFor(t, b, "signed out by revoking", shadowText("#auth")+`.includes("Sign in with a passkey")`)

	// Remove the passkey after signing in with the password again.
	fillAndSubmit(b, "#auth", map[string]string{"login": "ada", "password": "a long user password"})
	waitFor(t, b, "signed in again", shadowText("#auth")+`.includes("Signed in as ada")`)
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
	site.Handle("/", app.Handler(h.URL, http.NotFoundHandler()))
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
