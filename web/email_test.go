package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/smtptest"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

var bg = context.Background()

// Registering sends a confirmation mail through the SMTP server; its link
// confirms the address once, and the banner asking for it goes away.
func TestRegisterVerifyEmailFlow(t *testing.T) {
	forEachMailBackend(t, mailOptions{}, func(t *testing.T, env *mailEnv) {
		c := env.client()
		r := env.postForm(c, "/register", url.Values{"username": {"alice"}, "email": {"alice@example.com"},
			"password": {pw}, "confirm_password": {pw}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("POST /register = %d, want 303", r.status)
		}
		if r := env.do(c, "GET", "/account", nil); !strings.Contains(r.body, `id="verify-banner"`) {
			t.Errorf("the account page of an unconfirmed address has no banner asking to confirm it")
		}
		m := env.lastMail("alice@example.com", 1)
		if m.Subject != "Confirm your email address for Gatehouse" {
			t.Errorf("subject = %q, want the confirmation mail", m.Subject)
		}
		link := env.linkIn(m, "/verify-email/")
		if tok := tokenOf(link); !strings.HasPrefix(tok, "ghverify_") || len(tok) != len("ghverify_")+43 {
			t.Errorf("confirmation secret %q, want ghverify_ and 256 bits in base64url", tok)
		}
		r = env.do(c, "GET", link, nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account" {
			t.Fatalf("GET %s = %d %q, want 303 to /account", link, r.status, r.header.Get("Location"))
		}
		if got := r.header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("Referrer-Policy = %q, want no-referrer", got)
		}
		u, err := env.store.FindUserByLogin(bg, "alice")
		if err != nil || !u.EmailVerified {
			t.Fatalf("after the link, user = %+v, %v; want the address confirmed", u, err)
		}
		r = env.do(c, "GET", "/account", nil)
		if !strings.Contains(r.body, "Your email address is confirmed.") || strings.Contains(r.body, `id="verify-banner"`) {
			t.Errorf("account page after confirming: want the notice and no banner")
		}
		if r := env.do(env.client(), "GET", link, nil); r.status != http.StatusUnauthorized {
			t.Errorf("the link a second time = %d, want 401", r.status)
		}
		r = env.do(nil, "POST", "/api/auth/verify-email/confirm", rawJSON(`{"token":"`+tokenOf(link)+`"}`), "Content-Type", jsonCT)
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, `"invalid_token"`) {
			t.Errorf("API confirm with a used token = %d %s, want 401 invalid_token", r.status, r.body)
		}
	})
}

// A confirmation link is bound to the address it was sent to and to its
// purpose.
func TestVerifyLinkBoundToAddressAndPurpose(t *testing.T) {
	env := newMailEnv(t, storetest.OpenSQLite(t), mailOptions{})
	u := env.mustRegister("bob", pw)
	link := env.linkIn(env.lastMail("bob@example.com", 1), "/verify-email/")
	carol := "carol@example.com"
	if _, err := env.store.UpdateUser(bg, u.ID, auth.UserUpdate{Email: &carol}); err != nil {
		t.Fatal(err)
	}
	// A reset link at the confirmation endpoint, and the other way round.
	r := env.do(nil, "GET", "/reset-password/"+tokenOf(link), nil)
	if r.status != http.StatusUnauthorized {
		t.Errorf("a confirmation secret at /reset-password = %d, want 401", r.status)
	}
	if r := env.do(nil, "GET", link, nil); r.status != http.StatusUnauthorized {
		t.Errorf("a link sent to bob@ after the address became carol@ = %d, want 401", r.status)
	}
	if got, _ := env.store.FindUserByID(bg, u.ID); got.EmailVerified {
		t.Error("the link for the old address confirmed the new one")
	}
	// A reset link does not confirm an address.
	env.do(nil, "POST", "/api/auth/password-reset", rawJSON(`{"email":"carol@example.com"}`), "Content-Type", jsonCT)
	reset := env.linkIn(env.lastMail(carol, 1), "/reset-password/")
	if r := env.do(nil, "GET", "/verify-email/"+tokenOf(reset), nil); r.status != http.StatusUnauthorized {
		t.Errorf("a reset secret at /verify-email = %d, want 401", r.status)
	}
	for _, bad := range []string{tokenOf(reset)[:len(tokenOf(reset))-1] + "A", "ghreset_x", strings.Repeat("a", 2000)} {
		if r := env.do(nil, "GET", "/reset-password/"+bad, nil); r.status != http.StatusUnauthorized {
			t.Errorf("GET /reset-password/%.20s… = %d, want 401", bad, r.status)
		}
	}
}

// The whole reset: the link arrives through SMTP, sets a new password once,
// and ends every earlier session and token; nobody is signed in by it.
func TestPasswordResetFlow(t *testing.T) {
	forEachMailBackend(t, mailOptions{}, func(t *testing.T, env *mailEnv) {
		env.mustRegister("alice", pw)
		browser := env.signIn("alice", pw)
		r := env.do(nil, "POST", "/api/auth/login", rawJSON(`{"login":"alice","password":"`+pw+`"}`), "Content-Type", jsonCT)
		var pair tokenResponse
		if err := json.Unmarshal([]byte(r.body), &pair); err != nil || r.status != 200 {
			t.Fatalf("API login = %d %s", r.status, r.body)
		}

		r = env.postForm(env.client(), "/reset-password", url.Values{"email": {"Alice@Example.com"}})
		if r.status != http.StatusOK || !strings.Contains(r.body, `id="mail-sent"`) {
			t.Fatalf("POST /reset-password = %d, want 200 and the same answer as always", r.status)
		}
		m := env.lastMail("alice@example.com", 2) // the confirmation mail, then the reset
		if m.Subject != "Reset your Gatehouse password" {
			t.Fatalf("subject = %q", m.Subject)
		}
		link := env.linkIn(m, "/reset-password/")
		if tok := tokenOf(link); !strings.HasPrefix(tok, "ghreset_") || len(tok) != len("ghreset_")+43 {
			t.Errorf("reset secret %q, want ghreset_ and 256 bits", tok)
		}
		c := env.client()
		r = env.do(c, "GET", link, nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "Choose a new password") {
			t.Fatalf("GET the reset link = %d", r.status)
		}
		for h, want := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
			if got := r.header.Get(h); got != want {
				t.Errorf("reset page %s = %q, want %q", h, got, want)
			}
		}
		if strings.Contains(r.body, "https://") || !strings.Contains(r.body, "clean-url.js") {
			t.Errorf("the reset page loads something from elsewhere, or keeps the secret in the address bar")
		}
		// A refused password leaves the link working.
		r = env.postForm(c, link, url.Values{"password": {"password1"}, "confirm_password": {"password1"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "too common") {
			t.Fatalf("a common password = %d, want 422 saying it is too common", r.status)
		}
		next := "a brand new passphrase for alice"
		r = env.postForm(c, link, url.Values{"password": {next}, "confirm_password": {next}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" || sessionCookie(r) != nil && sessionCookie(r).Value != "" {
			t.Fatalf("POST the new password = %d %q, want 303 to /login and no session", r.status, r.header.Get("Location"))
		}

		// Every earlier session and token is dead.
		if r := env.do(browser, "GET", "/account", nil); r.status != http.StatusSeeOther {
			t.Errorf("the earlier browser session = %d, want a redirect to sign in", r.status)
		}
		if r := env.do(nil, "GET", "/api/me", nil, "Authorization", "Bearer "+pair.AccessToken); r.status != http.StatusUnauthorized {
			t.Errorf("the earlier access token = %d, want 401", r.status)
		}
		r = env.do(nil, "POST", "/api/auth/refresh", rawJSON(`{"refresh_token":"`+pair.RefreshToken+`"}`), "Content-Type", jsonCT)
		if r.status != http.StatusUnauthorized {
			t.Errorf("the earlier refresh token = %d, want 401", r.status)
		}
		// The link works once.
		if r := env.postForm(env.client(), link, url.Values{"password": {next + "!"}, "confirm_password": {next + "!"}}); r.status != http.StatusUnauthorized {
			t.Errorf("the link a second time = %d, want 401", r.status)
		}
		r = env.do(nil, "POST", "/api/auth/password-reset/confirm", rawJSON(`{"token":"`+tokenOf(link)+`","password":"another fine passphrase"}`), "Content-Type", jsonCT)
		if r.status != http.StatusUnauthorized {
			t.Errorf("API confirm with the used token = %d, want 401", r.status)
		}
		if r := login(env.testEnv, env.client(), "alice", pw); r.status != http.StatusUnauthorized {
			t.Errorf("sign-in with the old password = %d, want 401", r.status)
		}
		if r := login(env.testEnv, env.client(), "alice", next); r.status != http.StatusSeeOther {
			t.Errorf("sign-in with the new password = %d, want 303", r.status)
		}
		if notice := env.lastMail("alice@example.com", 3); notice.Subject != "Your Gatehouse password was changed" {
			t.Errorf("third mail = %q, want the notice of the change", notice.Subject)
		}
		if u, _ := env.store.FindUserByLogin(bg, "alice"); !u.EmailVerified {
			t.Error("a completed reset did not count as confirming the address")
		}
	})
}

var nonceAttr = regexp.MustCompile(`nonce="[^"]*"`)

// An unknown address gets the same answer as a known one, and no mail; the
// answer comes before any lookup (see accounts.TestResetAnswersBeforeLookup).
func TestPasswordResetSameAnswerForUnknownAddress(t *testing.T) {
	forEachMailBackend(t, mailOptions{}, func(t *testing.T, env *mailEnv) {
		env.mustRegister("alice", pw)
		page := func(addr string) response {
			r := env.postForm(env.client(), "/reset-password", url.Values{"email": {addr}})
			r.body = nonceAttr.ReplaceAllString(strings.ReplaceAll(r.body, addr, "ADDRESS"), "")
			return r
		}
		known, unknown := page("alice@example.com"), page("nobody@example.com")
		if known.status != unknown.status || known.body != unknown.body {
			t.Errorf("page answers differ: %d and %d", known.status, unknown.status)
		}
		api := func(addr string) response {
			return env.do(nil, "POST", "/api/auth/password-reset", rawJSON(`{"email":"`+addr+`"}`), "Content-Type", jsonCT)
		}
		known, unknown = api("alice@example.com"), api("nobody@example.com")
		if known.status != http.StatusAccepted || known.status != unknown.status || known.body != unknown.body {
			t.Errorf("API answers: %d %s and %d %s, want the same 202", known.status, known.body, unknown.status, unknown.body)
		}
		env.noMail("nobody@example.com")
		if n := len(env.smtp.To("alice@example.com")); n != 3 {
			t.Errorf("alice got %d mails, want 3 (confirmation and two resets)", n)
		}
	})
}

// The link is made from the configured public URL whatever Host and
// forwarding headers the request carries (reset-link poisoning).
func TestResetLinkUsesPublicURL(t *testing.T) {
	env := newMailEnv(t, storetest.OpenSQLite(t), mailOptions{})
	env.mustRegister("alice", pw)
	headers := []map[string]string{
		{"Host": "evil.example"},
		{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
		{"Forwarded": "host=evil.example;proto=https"},
	}
	for _, hs := range headers {
		req, _ := http.NewRequest("POST", env.srv.URL+"/api/auth/password-reset", rawJSON(`{"email":"alice@example.com"}`))
		req.Header.Set("Content-Type", jsonCT)
		for k, v := range hs {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST with %v = %d, want 202", hs, resp.StatusCode)
		}
	}
	mails := env.mails("alice@example.com", 1+len(headers))
	for i, m := range mails[1:] {
		link := m.Link("/reset-password/")
		if !strings.HasPrefix(link, env.public+"/reset-password/ghreset_") {
			t.Errorf("with %v the link is %q, want it under %s", headers[i], link, env.public)
		}
		if strings.Contains(m.Text+m.HTML, "evil.example") {
			t.Errorf("with %v the mail mentions evil.example", headers[i])
		}
	}
}

// A mail requested while the SMTP server is down arrives once it is back.
func TestResetMailSurvivesSMTPOutage(t *testing.T) {
	forEachMailBackend(t, mailOptions{smtpDown: true}, func(t *testing.T, env *mailEnv) {
		env.mustRegister("alice", pw)
		r := env.do(nil, "POST", "/api/auth/password-reset", rawJSON(`{"email":"alice@example.com"}`), "Content-Type", jsonCT)
		if r.status != http.StatusAccepted {
			t.Fatalf("reset request during the outage = %d, want 202", r.status)
		}
		env.accounts.Flush()
		deadline := time.Now().Add(5 * time.Second)
		for {
			ms, err := env.store.FindMails(bg, 10)
			if err != nil {
				t.Fatal(err)
			}
			failed := 0
			for _, m := range ms {
				if m.LastError != "" && m.SentAt == nil {
					failed++
				}
			}
			if failed == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the worker has not failed on both mails while the server is down")
			}
			time.Sleep(20 * time.Millisecond)
		}
		env.smtp.Start()
		m := env.lastMail("alice@example.com", 2)
		link := m.Link("/reset-password/")
		if m.Subject != "Reset your Gatehouse password" || link == "" {
			t.Fatalf("after the outage got %q, want the reset mail", m.Subject)
		}
		r = env.do(nil, "POST", "/api/auth/password-reset/confirm",
			rawJSON(`{"token":"`+tokenOf(link)+`","password":"a passphrase after the outage"}`), "Content-Type", jsonCT)
		if r.status != http.StatusNoContent {
			t.Errorf("the delayed link = %d %s, want 204", r.status, r.body)
		}
	})
}

// Of concurrent uses of one reset link exactly one succeeds.
func TestResetLinkRace(t *testing.T) {
	forEachMailBackend(t, mailOptions{}, func(t *testing.T, env *mailEnv) {
		env.mustRegister("alice", pw)
		env.do(nil, "POST", "/api/auth/password-reset", rawJSON(`{"email":"alice@example.com"}`), "Content-Type", jsonCT)
		token := tokenOf(env.linkIn(env.lastMail("alice@example.com", 2), "/reset-password/"))
		var ok, refused atomic.Int32
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := rawJSON(`{"token":"` + token + `","password":"racing passphrase number ` + string(rune('a'+i)) + `"}`)
				switch r := env.do(nil, "POST", "/api/auth/password-reset/confirm", body, "Content-Type", jsonCT); r.status {
				case http.StatusNoContent:
					ok.Add(1)
				case http.StatusUnauthorized:
					refused.Add(1)
				default:
					t.Errorf("concurrent confirm = %d %s", r.status, r.body)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 || refused.Load() != 9 {
			t.Errorf("10 concurrent uses: %d succeeded, %d refused; want 1 and 9", ok.Load(), refused.Load())
		}
	})
}

var codeLine = regexp.MustCompile(`(?m)^\s+(\d{6})\s*$`)

func codeIn(t *testing.T, m *smtptest.Parsed) string {
	t.Helper()
	c := codeLine.FindStringSubmatch(m.Text)
	if c == nil {
		t.Fatalf("no code in the mail:\n%s", m.Text)
	}
	return c[1]
}

// The link of a sign-in mail signs in once, after a press of a button (mail
// scanners open links too); the code of the same mail dies with it.
func TestEmailLoginLink(t *testing.T) {
	forEachMailBackend(t, mailOptions{}, func(t *testing.T, env *mailEnv) {
		u := env.mustRegister("alice", pw)
		yes := true
		env.store.UpdateUser(bg, u.ID, auth.UserUpdate{EmailVerified: &yes})
		c := env.client()
		r := env.postForm(c, "/login/email", url.Values{"email": {"alice@example.com"}, "return_to": {"/account?tab=1"}})
		if r.status != http.StatusOK || !strings.Contains(r.body, `name="code"`) {
			t.Fatalf("POST /login/email = %d, want 200 and the code form", r.status)
		}
		m := env.lastMail("alice@example.com", 2)
		if m.Subject != "Sign in to Gatehouse" {
			t.Fatalf("subject = %q", m.Subject)
		}
		link := env.linkIn(m, "/login/email/")
		r = env.do(c, "GET", link, nil)
		if r.status != http.StatusOK || sessionCookie(r) != nil || r.header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("GET the link = %d (cookie %v), want 200, no session and no referrer", r.status, sessionCookie(r))
		}
		if !strings.Contains(link, "?return_to="+url.QueryEscape("/account?tab=1")) || !strings.Contains(r.body, `name="return_to" value="/account?tab=1"`) {
			t.Errorf("link %s and its page do not carry the return_to of the request", link)
		}
		r = env.postForm(c, link, nil)
		if r.status != http.StatusSeeOther || sessionCookie(r) == nil || r.header.Get("Location") != "/account?tab=1" {
			t.Fatalf("POST the link = %d to %q, want 303 with a session to /account?tab=1", r.status, r.header.Get("Location"))
		}
		if r := env.do(c, "GET", "/account", nil); r.status != 200 || !strings.Contains(r.body, `id="account-username">alice<`) {
			t.Errorf("account after the link = %d, want alice's", r.status)
		}
		if r := env.postForm(env.client(), link, nil); r.status != http.StatusUnauthorized {
			t.Errorf("the link a second time = %d, want 401", r.status)
		}
		r = env.postForm(env.client(), "/login/email", url.Values{"email": {"alice@example.com"}, "code": {codeIn(t, m)}})
		if r.status != http.StatusUnauthorized {
			t.Errorf("the code of a mail whose link was used = %d, want 401", r.status)
		}
		if u, _ := env.store.FindUserByLogin(bg, "alice"); !u.EmailVerified || !u.HasPassword() {
			t.Errorf("after signing in by email: verified %v, password %v; want a confirmed account's password kept", u.EmailVerified, u.HasPassword())
		}
	})
}

// A sign-in mail asked for through the API (the sign-in SDK) links back to
// the page that asked, when it is on an allowed origin, and nowhere else.
func TestEmailLoginLinkReturnsToApp(t *testing.T) {
	forEachMailBackend(t, mailOptions{origins: []string{"https://app.example"}, metrics: true}, func(t *testing.T, env *mailEnv) {
		env.mustRegister("alice", pw)
		for i, tt := range []struct{ returnTo, want string }{
			{"https://app.example/notes?x=1", "https://app.example/notes?x=1"},
			{"https://evil.example/", ""},
			{"//evil.example/", ""},
		} {
			body := rawJSON(`{"email":"alice@example.com","return_to":"` + tt.returnTo + `"}`)
			if r := env.do(nil, "POST", "/api/auth/email-login", body, "Content-Type", jsonCT); r.status != http.StatusAccepted {
				t.Fatalf("email-login = %d %s", r.status, r.body)
			}
			link := env.linkIn(env.lastMail("alice@example.com", i+2), "/login/email/")
			if got := linkReturnTo(link); got != tt.want {
				t.Errorf("return_to %q: the link goes on to %q, want %q", tt.returnTo, got, tt.want)
			}
			if tt.want == "" {
				continue
			}
			r := env.postForm(env.client(), link, nil)
			if r.status != http.StatusSeeOther || r.header.Get("Location") != tt.want {
				t.Errorf("POST the link = %d to %q, want 303 to %q", r.status, r.header.Get("Location"), tt.want)
			}
		}
		// Sign-ins by email are counted like the others.
		if body := env.do(nil, "GET", "/metrics", nil).body; !strings.Contains(body, `gatehouse_sign_ins_total{method="email",result="success"} 1`) {
			t.Errorf("/metrics does not count the sign-in by email link")
		}
	})
}

// linkReturnTo is the return_to of a link, "" without one.
func linkReturnTo(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	return u.Query().Get("return_to")
}

// The code signs in once, on the page and through the API; the link of the
// same mail dies with it.
func TestEmailLoginCode(t *testing.T) {
	forEachMailBackend(t, mailOptions{}, func(t *testing.T, env *mailEnv) {
		env.mustRegister("alice", pw)
		if r := env.do(nil, "POST", "/api/auth/email-login", rawJSON(`{"email":"alice@example.com"}`), "Content-Type", jsonCT); r.status != http.StatusAccepted {
			t.Fatalf("API email-login = %d", r.status)
		}
		m := env.lastMail("alice@example.com", 2)
		code := codeIn(t, m)
		body := `{"email":"Alice@Example.com","code":"` + code[:3] + " " + code[3:] + `"}`
		r := env.do(nil, "POST", "/api/auth/email-login/confirm", rawJSON(body), "Content-Type", jsonCT)
		var pair tokenResponse
		if err := json.Unmarshal([]byte(r.body), &pair); r.status != 200 || err != nil || pair.AccessToken == "" || pair.User.Username != "alice" {
			t.Fatalf("API confirm with the code = %d %s, want a token pair for alice", r.status, r.body)
		}
		if r := env.do(nil, "POST", "/api/auth/email-login/confirm", rawJSON(body), "Content-Type", jsonCT); r.status != http.StatusUnauthorized {
			t.Errorf("the code a second time = %d, want 401", r.status)
		}
		r = env.do(nil, "POST", "/api/auth/email-login/confirm", rawJSON(`{"token":"`+tokenOf(env.linkIn(m, "/login/email/"))+`"}`), "Content-Type", jsonCT)
		if r.status != http.StatusUnauthorized {
			t.Errorf("the link of a mail whose code was used = %d, want 401", r.status)
		}

		// On the page, with return_to kept through the code form.
		c := env.client()
		env.postForm(c, "/login/email", url.Values{"email": {"alice@example.com"}, "return_to": {"/account?x=1"}})
		code = codeIn(t, env.lastMail("alice@example.com", 3))
		r = env.postForm(c, "/login/email", url.Values{"email": {"alice@example.com"}, "code": {code}, "return_to": {"/account?x=1"}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account?x=1" || sessionCookie(r) == nil {
			t.Fatalf("POST the code = %d %q, want 303 to /account?x=1 with a session", r.status, r.header.Get("Location"))
		}
		r = env.postForm(env.client(), "/login/email", url.Values{"email": {"alice@example.com"}, "code": {code}})
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "That code is not right") {
			t.Errorf("the code twice on the page = %d, want 401 with a message", r.status)
		}
	})
}

// A code from another user's mail does not sign in, and five wrong codes
// end a mail's code.
func TestEmailLoginCodeBoundToAddress(t *testing.T) {
	forEachMailBackend(t, mailOptions{}, func(t *testing.T, env *mailEnv) {
		env.mustRegister("alice", pw)
		env.mustRegister("bob", pw)
		for _, a := range []string{"alice@example.com", "bob@example.com"} {
			env.do(nil, "POST", "/api/auth/email-login", rawJSON(`{"email":"`+a+`"}`), "Content-Type", jsonCT)
		}
		aliceCode := codeIn(t, env.lastMail("alice@example.com", 2))
		bobCode := codeIn(t, env.lastMail("bob@example.com", 2))
		confirm := func(addr, code string) int {
			return env.do(nil, "POST", "/api/auth/email-login/confirm", rawJSON(`{"email":"`+addr+`","code":"`+code+`"}`), "Content-Type", jsonCT).status
		}
		if bobCode != aliceCode {
			if got := confirm("alice@example.com", bobCode); got != http.StatusUnauthorized {
				t.Errorf("bob's code with alice's address = %d, want 401", got)
			}
		}
		if got := confirm("carol@example.com", aliceCode); got != http.StatusUnauthorized {
			t.Errorf("alice's code with an address that has no mail = %d, want 401", got)
		}
		// Four more wrong guesses at alice's code (bob's was the first): the
		// code is dead, even the right one.
		wrong := "000000"
		if wrong == aliceCode {
			wrong = "111111"
		}
		for i := 0; i < 4; i++ {
			if got := confirm("alice@example.com", wrong); got != http.StatusUnauthorized {
				t.Errorf("wrong code #%d = %d, want 401", i+2, got)
			}
		}
		if got := confirm("alice@example.com", aliceCode); got != http.StatusUnauthorized {
			t.Errorf("the right code after five wrong ones = %d, want 401", got)
		}
		if got := confirm("bob@example.com", bobCode); got != http.StatusOK {
			t.Errorf("bob's own code = %d, want 200", got)
		}
	})
}

// With the rate limits on, the mails per address are capped with the same
// answer for every address, and wrong codes lead to 429 with Retry-After.
func TestEmailRateLimits(t *testing.T) {
	env := newMailEnv(t, storetest.OpenSQLite(t), mailOptions{limits: true})
	env.mustRegister("alice", pw)
	statuses := map[int]int{}
	for range 8 {
		r := env.do(nil, "POST", "/api/auth/password-reset", rawJSON(`{"email":"alice@example.com"}`), "Content-Type", jsonCT)
		statuses[r.status]++
		if r.status == http.StatusTooManyRequests && r.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if statuses[http.StatusAccepted] != 5 || statuses[http.StatusTooManyRequests] != 3 {
		t.Errorf("8 reset requests for one address: %v, want 5 accepted and 3 refused", statuses)
	}
	env.accounts.Flush()
	env.drain()
	if n := len(env.smtp.To("alice@example.com")); n != 6 {
		t.Errorf("alice got %d mails, want 6 (confirmation and five resets)", n)
	}
	// The unknown address is limited the same way.
	for i := range 6 {
		r := env.do(nil, "POST", "/api/auth/password-reset", rawJSON(`{"email":"nobody@example.com"}`), "Content-Type", jsonCT)
		if want := map[bool]int{true: 202, false: 429}[i < 5]; r.status != want {
			t.Errorf("request %d for an unknown address = %d, want %d", i+1, r.status, want)
		}
	}

	env.mustRegister("bob", pw)
	env.do(nil, "POST", "/api/auth/email-login", rawJSON(`{"email":"bob@example.com"}`), "Content-Type", jsonCT)
	code := codeIn(t, env.lastMail("bob@example.com", 2))
	for range 5 {
		env.do(nil, "POST", "/api/auth/email-login/confirm", rawJSON(`{"email":"bob@example.com","code":"999999x"}`), "Content-Type", jsonCT)
	}
	wrong := "999999"
	if wrong == code {
		wrong = "888888"
	}
	for range 5 {
		env.do(nil, "POST", "/api/auth/email-login/confirm", rawJSON(`{"email":"bob@example.com","code":"`+wrong+`"}`), "Content-Type", jsonCT)
	}
	r := env.do(nil, "POST", "/api/auth/email-login/confirm", rawJSON(`{"email":"bob@example.com","code":"`+code+`"}`), "Content-Type", jsonCT)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, `"rate_limited"`) {
		t.Errorf("the right code after five wrong ones = %d %s, want 429 with Retry-After", r.status, r.body)
	}
}

// Sign-in by email can create an account without a password, when the
// deployment allows it; otherwise an unknown address gets nothing.
func TestEmailLoginSignUp(t *testing.T) {
	env := newMailEnv(t, storetest.OpenSQLite(t), mailOptions{signUp: true})
	c := env.client()
	env.postForm(c, "/login/email", url.Values{"email": {"new.person@example.com"}})
	link := env.linkIn(env.lastMail("new.person@example.com", 1), "/login/email/")
	if r := env.postForm(c, link, nil); r.status != http.StatusSeeOther || sessionCookie(r) == nil {
		t.Fatalf("POST the sign-up link = %d, want 303 with a session", r.status)
	}
	u, err := env.store.FindUserByLogin(bg, "new.person@example.com")
	if err != nil || u.Username != "new.person" || u.HasPassword() || !u.EmailVerified || !u.HasRole("user") {
		t.Fatalf("the new account = %+v, %v; want new.person, confirmed, no password, role user", u, err)
	}

	off := newMailEnv(t, storetest.OpenSQLite(t), mailOptions{})
	r := off.postForm(off.client(), "/login/email", url.Values{"email": {"stranger@example.com"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="mail-sent"`) {
		t.Errorf("POST /login/email for an unknown address = %d, want the usual answer", r.status)
	}
	off.noMail("stranger@example.com")
}

// An account made with someone else's unconfirmed address loses its password
// and sessions when the owner of the address signs in by email
// (pre-hijacking).
func TestEmailLoginClaimsSquattedAccount(t *testing.T) {
	env := newMailEnv(t, storetest.OpenSQLite(t), mailOptions{})
	env.mustRegister("victim", "squatter's passphrase 42") // made by the squatter, who knows the password
	squatter := env.signIn("victim", "squatter's passphrase 42")
	env.postForm(env.client(), "/login/email", url.Values{"email": {"victim@example.com"}})
	code := codeIn(t, env.lastMail("victim@example.com", 2))
	r := env.postForm(env.client(), "/login/email", url.Values{"email": {"victim@example.com"}, "code": {code}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("the owner's code = %d, want 303", r.status)
	}
	if r := env.do(squatter, "GET", "/account", nil); r.status != http.StatusSeeOther {
		t.Errorf("the squatter's session = %d, want it ended", r.status)
	}
	if r := login(env.testEnv, env.client(), "victim", "squatter's passphrase 42"); r.status != http.StatusUnauthorized {
		t.Errorf("the squatter's password = %d, want 401", r.status)
	}
}

// Changing the address needs the password and takes effect only when the
// new address confirms; the old address is told.
func TestChangeEmailFlow(t *testing.T) {
	forEachMailBackend(t, mailOptions{}, func(t *testing.T, env *mailEnv) {
		env.mustRegister("alice", pw)
		env.mustRegister("bob", pw)
		c := env.signIn("alice", pw)
		r := env.postForm(c, "/account/email", url.Values{"new_email": {"alice@new.example"}, "password": {"not it"}})
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "The password is not right.") {
			t.Errorf("wrong password = %d, want 403 with the message", r.status)
		}
		r = env.postForm(c, "/account/email", url.Values{"new_email": {"bob@example.com"}, "password": {pw}})
		if r.status != http.StatusConflict || !strings.Contains(r.body, "Email is already registered.") {
			t.Errorf("a taken address = %d, want 409", r.status)
		}
		r = env.postForm(c, "/account/email", url.Values{"new_email": {"Alice@New.Example"}, "password": {pw}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("POST /account/email = %d, want 303", r.status)
		}
		if u, _ := env.store.FindUserByLogin(bg, "alice"); u.Email != "alice@example.com" {
			t.Errorf("the address changed to %s before the new one confirmed", u.Email)
		}
		link := env.linkIn(env.lastMail("alice@new.example", 1), "/verify-email/")
		if !strings.HasPrefix(tokenOf(link), "ghemail_") {
			t.Errorf("change link %q, want a ghemail_ secret", link)
		}
		r = env.do(c, "GET", link, nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account" {
			t.Fatalf("GET the change link = %d, want 303 to /account", r.status)
		}
		u, _ := env.store.FindUserByLogin(bg, "alice")
		if u.Email != "alice@new.example" || !u.EmailVerified {
			t.Errorf("after the link: %s (verified %v), want alice@new.example, confirmed", u.Email, u.EmailVerified)
		}
		notice := env.lastMail("alice@example.com", 2)
		if !strings.Contains(notice.Subject, "email address of your Gatehouse account was changed") || !strings.Contains(notice.Text, "alice@new.example") {
			t.Errorf("the old address got %q, want the notice naming the new address", notice.Subject)
		}
		if r := env.do(c, "GET", link, nil); r.status != http.StatusUnauthorized {
			t.Errorf("the change link twice = %d, want 401", r.status)
		}
		// The API starts a change the same way.
		r = env.do(c, "POST", "/api/auth/email", rawJSON(`{"new_email":"alice@third.example","password":"`+pw+`"}`), "Content-Type", jsonCT)
		if r.status != http.StatusAccepted {
			t.Errorf("POST /api/auth/email = %d %s, want 202", r.status, r.body)
		}
		env.lastMail("alice@third.example", 1)
	})
}

// A password reset cancels a pending change of address: an attacker with a
// session cannot finish moving the account to his address after the owner
// has taken it back.
func TestResetCancelsPendingEmailChange(t *testing.T) {
	env := newMailEnv(t, storetest.OpenSQLite(t), mailOptions{})
	env.mustRegister("alice", pw)
	attacker := env.signIn("alice", pw)
	env.postForm(attacker, "/account/email", url.Values{"new_email": {"attacker@evil.example"}, "password": {pw}})
	change := env.linkIn(env.lastMail("attacker@evil.example", 1), "/verify-email/")

	env.do(nil, "POST", "/api/auth/password-reset", rawJSON(`{"email":"alice@example.com"}`), "Content-Type", jsonCT)
	reset := tokenOf(env.linkIn(env.lastMail("alice@example.com", 2), "/reset-password/"))
	r := env.do(nil, "POST", "/api/auth/password-reset/confirm", rawJSON(`{"token":"`+reset+`","password":"alice takes it back now"}`), "Content-Type", jsonCT)
	if r.status != http.StatusNoContent {
		t.Fatalf("reset = %d %s", r.status, r.body)
	}
	if r := env.do(nil, "GET", change, nil); r.status != http.StatusUnauthorized {
		t.Errorf("the pending change link after a reset = %d, want 401", r.status)
	}
	if u, _ := env.store.FindUserByLogin(bg, "alice"); u.Email != "alice@example.com" {
		t.Errorf("address = %s, want it unchanged", u.Email)
	}
}

// With verification required, a new account signs in only once its address
// is confirmed.
func TestVerificationRequired(t *testing.T) {
	env := newMailEnv(t, storetest.OpenSQLite(t), mailOptions{verification: "required"})
	c := env.client()
	r := env.postForm(c, "/register", url.Values{"username": {"alice"}, "email": {"alice@example.com"}, "password": {pw}, "confirm_password": {pw}})
	if r.status != http.StatusCreated || sessionCookie(r) != nil || !strings.Contains(r.body, "Confirm your email address") {
		t.Fatalf("POST /register = %d (cookie %v), want 201, no session, and a request to confirm", r.status, sessionCookie(r))
	}
	r = login(env.testEnv, c, "alice", pw)
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "Confirm your email address first") || !strings.Contains(r.body, "/verify-email") {
		t.Errorf("sign-in before confirming = %d, want 403 offering a new link", r.status)
	}
	if r := login(env.testEnv, c, "alice", "wrong password here"); r.status != http.StatusUnauthorized {
		t.Errorf("a wrong password for an unconfirmed account = %d, want the usual 401", r.status)
	}
	r = env.do(nil, "POST", "/api/auth/login", rawJSON(`{"login":"alice","password":"`+pw+`"}`), "Content-Type", jsonCT)
	if r.status != http.StatusForbidden || !strings.Contains(r.body, `"email_not_verified"`) {
		t.Errorf("API sign-in before confirming = %d %s, want 403 email_not_verified", r.status, r.body)
	}
	link := env.linkIn(env.lastMail("alice@example.com", 1), "/verify-email/")
	if r := env.do(c, "GET", link, nil); r.status != http.StatusOK || !strings.Contains(r.body, `id="email-confirmed"`) {
		t.Fatalf("GET the link = %d, want the confirmation page", r.status)
	}
	if r := login(env.testEnv, c, "alice", pw); r.status != http.StatusSeeOther {
		t.Errorf("sign-in after confirming = %d, want 303", r.status)
	}
}

// The development mailbox lists the outbox with working links, in
// development mode only.
func TestDevMailbox(t *testing.T) {
	env := newMailEnv(t, storetest.OpenSQLite(t), mailOptions{devMail: true})
	env.mustRegister("alice", pw)
	env.accounts.Flush()
	r := env.do(nil, "GET", "/dev/mail", nil)
	if r.status != 200 || !strings.Contains(r.body, "Confirm your email address for Gatehouse") ||
		!strings.Contains(r.body, `class="dev-mail-to">alice@example.com<`) || !strings.Contains(r.body, `<a href="`+env.public+`/verify-email/ghverify_`) {
		t.Errorf("GET /dev/mail = %d, want the mail with its link:\n%s", r.status, r.body)
	}
	env.do(nil, "POST", "/api/auth/password-reset", rawJSON(`{"email":"alice@example.com"}`), "Content-Type", jsonCT)
	env.accounts.Flush()
	r = env.do(nil, "GET", "/dev/mail", nil)
	if i, j := strings.Index(r.body, "Reset your Gatehouse password"), strings.Index(r.body, "Confirm your email"); i < 0 || i > j {
		t.Errorf("the newest mail is not first")
	}
	prod := newMailEnv(t, storetest.OpenSQLite(t), mailOptions{})
	if r := prod.do(nil, "GET", "/dev/mail", nil); r.status != http.StatusNotFound {
		t.Errorf("GET /dev/mail outside development mode = %d, want 404", r.status)
	}
}

// Each password rule has its own message at registration, and a long
// passphrase passes.
func TestRegisterPasswordPolicy(t *testing.T) {
	env := newEnv(t, storetest.OpenSQLite(t))
	cases := map[string]string{
		"short1":                   "Password must be at least 8 characters.",
		"iloveyou2":                "This password is too common",
		"zxzxzxzxzxzx":             "repeated or sequential",
		"policytester":             "Password must not be your username.",
		"policytester@example.com": "Password must not be your email address.",
	}
	for pwd, want := range cases {
		r := env.do(nil, "POST", "/api/auth/register", rawJSON(`{"username":"policytester","email":"policytester@example.com","password":"`+pwd+`"}`), "Content-Type", jsonCT)
		var body errorBody
		json.Unmarshal([]byte(r.body), &body)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(body.Fields["password"], want) {
			t.Errorf("register with %q = %d %v, want 422 with %q", pwd, r.status, body.Fields, want)
		}
	}
	long := "correct horse battery staple, and then some: 64 characters long!"
	if len(long) != 64 {
		t.Fatalf("passphrase has %d characters", len(long))
	}
	r := env.do(nil, "POST", "/api/auth/register", rawJSON(`{"username":"policytester","email":"policytester@example.com","password":"`+long+`"}`), "Content-Type", jsonCT)
	if r.status != http.StatusCreated {
		t.Errorf("register with a 64-character passphrase = %d %s, want 201", r.status, r.body)
	}
}
