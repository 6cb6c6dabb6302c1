package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	otptotp "github.com/pquerna/otp/totp"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

func encodeB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// codeAt is the code an authenticator app shows for secret at t.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := otptotp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enableTOTP turns TOTP on for u directly through the service (its
// confirming code spends the current step) and returns the secret.
func (e *socialEnv) enableTOTP(t *testing.T, u *auth.User) string {
	t.Helper()
	secret, _ := e.enableTOTPWithCodes(t, u)
	return secret
}

// enableTOTPWithCodes is enableTOTP that returns the recovery codes too.
func (e *socialEnv) enableTOTPWithCodes(t *testing.T, u *auth.User) (string, []string) {
	t.Helper()
	en, err := e.totp.BeginEnrollment(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := e.totp.ConfirmEnrollment(context.Background(), u, codeAt(t, en.Secret, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return en.Secret, codes
}

// mfaAnswer is a 401 mfa_required body.
type mfaAnswer struct {
	Error    string `json:"error"`
	MFAToken string `json:"mfa_token"`
}

// passwordStep signs in through the API and expects the second step.
func (e *socialEnv) passwordStep(t *testing.T, login, pw string) string {
	t.Helper()
	r := e.doJSON(nil, "POST", "/api/auth/login", map[string]string{"login": login, "password": pw})
	var a mfaAnswer
	json.Unmarshal([]byte(r.body), &a)
	if r.status != http.StatusUnauthorized || a.Error != auth.EMFARequired || !strings.HasPrefix(a.MFAToken, MFATokenPrefix) {
		t.Fatalf("POST /api/auth/login for a user with TOTP = %d %s, want 401 mfa_required with an mfa_token", r.status, r.body)
	}
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 mfa_required lacks WWW-Authenticate")
	}
	return a.MFAToken
}

func (e *socialEnv) secondStep(token, code string) (tokenResponse, response) {
	r := e.doJSON(nil, "POST", "/api/auth/login/mfa", map[string]string{"mfa_token": token, "code": code})
	var tr tokenResponse
	json.Unmarshal([]byte(r.body), &tr)
	return tr, r
}

func TestTOTPEnrolAndSignInAPI(t *testing.T) {
	forEachSocialBackend(t, func(t *testing.T, st store.Store) {
		env := newSocialEnv(t, st, nil)
		env.mustRegister("tina", "correct horse battery")
		tr, _ := env.tokenLogin("tina", "correct horse battery")
		other, _ := env.tokenLogin("tina", "correct horse battery")
		bearer := bearerHeader(tr.AccessToken)

		// Set-up: the secret three ways.
		r := env.do(nil, "POST", "/api/mfa/totp/setup", nil, bearer...)
		var setup totpSetupResponse
		json.Unmarshal([]byte(r.body), &setup)
		if r.status != http.StatusOK || setup.Secret == "" || !strings.HasPrefix(setup.OTPAuthURI, "otpauth://totp/") ||
			!strings.HasPrefix(setup.QRPNG, "data:image/png;base64,") {
			t.Fatalf("POST /api/mfa/totp/setup = %d %.200s", r.status, r.body)
		}
		if r := env.doJSON(nil, "POST", "/api/mfa/totp/confirm", map[string]string{"code": "000000"}, bearer...); r.status != http.StatusUnprocessableEntity {
			t.Errorf("confirm with a wrong code = %d %s, want 422", r.status, r.body)
		}
		now := time.Now()
		r = env.doJSON(nil, "POST", "/api/mfa/totp/confirm", map[string]string{"code": codeAt(t, setup.Secret, now)}, bearer...)
		var rc recoveryCodesResponse
		json.Unmarshal([]byte(r.body), &rc)
		if r.status != http.StatusOK || len(rc.RecoveryCodes) != auth.RecoveryCodeCount {
			t.Fatalf("confirm = %d %s, want 10 recovery codes", r.status, r.body)
		}
		// Turning it on ended the other session, not this one.
		if r := env.do(nil, "GET", "/api/me", nil, bearerHeader(other.AccessToken)...); r.status != http.StatusUnauthorized {
			t.Errorf("other session after TOTP was turned on = %d, want 401", r.status)
		}
		if r := env.do(nil, "GET", "/api/mfa/totp", nil, bearer...); !strings.Contains(r.body, `"enabled":true`) || !strings.Contains(r.body, `"recovery_codes_left":10`) {
			t.Errorf("GET /api/mfa/totp = %s", r.body)
		}
		if ev := env.events(t, auth.EventTOTPEnabled, ""); len(ev) != 1 {
			t.Errorf("mfa.totp_enabled events = %d, want 1", len(ev))
		}

		// The password alone gets no tokens, only an mfa_token.
		token := env.passwordStep(t, "tina", "correct horse battery")
		if r := env.do(nil, "GET", "/api/me", nil, "Authorization", "Bearer "+token); r.status != http.StatusUnauthorized {
			t.Errorf("the mfa_token as a bearer token = %d, want 401", r.status)
		}
		// The code that confirmed the set-up is spent.
		if _, r := env.secondStep(token, codeAt(t, setup.Secret, now)); r.status != http.StatusUnauthorized || errorCode(r.body) != auth.EInvalidCredentials {
			t.Errorf("second step with the confirming code = %d %s, want 401 invalid_credentials", r.status, r.body)
		}
		next := codeAt(t, setup.Secret, now.Add(30*time.Second))
		pair, r := env.secondStep(token, next)
		if r.status != http.StatusOK || pair.AccessToken == "" || pair.RefreshToken == "" {
			t.Fatalf("second step = %d %s, want a token pair", r.status, r.body)
		}
		if r := env.do(nil, "GET", "/api/me", nil, bearerHeader(pair.AccessToken)...); r.status != http.StatusOK {
			t.Errorf("GET /api/me with the new token = %d", r.status)
		}
		// The token is spent.
		if _, r := env.secondStep(token, next); r.status != http.StatusUnauthorized || errorCode(r.body) != auth.EInvalidToken {
			t.Errorf("the mfa_token again = %d %s, want 401 invalid_token", r.status, r.body)
		}

		// The same code with a fresh sign-in: refused (it was used once).
		token = env.passwordStep(t, "tina", "correct horse battery")
		if _, r := env.secondStep(token, next); r.status != http.StatusUnauthorized || errorCode(r.body) != auth.EInvalidCredentials {
			t.Errorf("the same TOTP code a second time = %d %s, want 401 invalid_credentials", r.status, r.body)
		}

		// A recovery code works, once.
		if _, r := env.secondStep(token, strings.ToUpper(rc.RecoveryCodes[3])); r.status != http.StatusOK {
			t.Fatalf("second step with a recovery code = %d %s", r.status, r.body)
		}
		token = env.passwordStep(t, "tina", "correct horse battery")
		if _, r := env.secondStep(token, rc.RecoveryCodes[3]); r.status != http.StatusUnauthorized {
			t.Errorf("the same recovery code again = %d, want 401", r.status)
		}
		verified := env.events(t, auth.EventMFAVerified, "")
		if len(verified) != 2 || verified[0].Data["factor"] != "recovery_code" || verified[0].Data["recovery_codes_left"] != "9" {
			t.Errorf("mfa.verified events = %+v, want the recovery code, 9 left, newest first", verified)
		}
	})
}

// A pending sign-in survives five codes; then even the right one is refused.
func TestMFATokenDiesAfterFiveCodes(t *testing.T) {
	env := newSocialEnv(t, storetest.OpenSQLite(t), nil)
	u := env.mustRegister("una", "correct horse battery")
	secret := env.enableTOTP(t, u)
	token := env.passwordStep(t, "una", "correct horse battery")
	for i := range 4 {
		if _, r := env.secondStep(token, "123456"); r.status != http.StatusUnauthorized || errorCode(r.body) != auth.EInvalidCredentials {
			t.Fatalf("wrong code %d = %d %s, want 401 invalid_credentials", i+1, r.status, r.body)
		}
	}
	if _, r := env.secondStep(token, "not-a-code"); r.status != http.StatusUnauthorized {
		t.Fatalf("fifth wrong code = %d", r.status)
	}
	if _, r := env.secondStep(token, codeAt(t, secret, time.Now().Add(30*time.Second))); r.status != http.StatusUnauthorized || errorCode(r.body) != auth.EInvalidToken {
		t.Errorf("the right code after five wrong = %d %s, want 401 invalid_token", r.status, r.body)
	}
	if ev := env.events(t, auth.EventMFAFailed, u.ID); len(ev) != 5 {
		t.Errorf("mfa.failed events = %d, want 5", len(ev))
	}
}

// Wrong codes count against the account across pending sign-ins: a new
// password step does not buy new guesses.
func TestMFAWrongCodesRateLimited(t *testing.T) {
	mem, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := ratelimit.NewPolicy(ratelimit.PolicyConfig{Limiter: mem, Limits: ratelimit.Limits{WrongCodePerAccount: ratelimit.Per(3, time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	env := newSocialEnv(t, storetest.OpenSQLite(t), nil, func(c *Config) { c.Limits = policy })
	u := env.mustRegister("vic", "correct horse battery")
	secret := env.enableTOTP(t, u)
	for i := range 3 {
		token := env.passwordStep(t, "vic", "correct horse battery")
		if _, r := env.secondStep(token, "000000"); r.status != http.StatusUnauthorized && r.status != http.StatusTooManyRequests {
			t.Fatalf("wrong code %d = %d", i+1, r.status)
		}
	}
	token := env.passwordStep(t, "vic", "correct horse battery")
	_, r := env.secondStep(token, codeAt(t, secret, time.Now().Add(30*time.Second)))
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("the right code while limited = %d %s (Retry-After %q), want 429 with Retry-After", r.status, r.body, r.header.Get("Retry-After"))
	}
}

// The hosted pages: the password step leads to /login/mfa with a pending
// cookie and no session; the code starts the session.
func TestLoginMFAPage(t *testing.T) {
	forEachSocialBackend(t, func(t *testing.T, st store.Store) {
		env := newSocialEnv(t, st, nil)
		u := env.mustRegister("wes", "correct horse battery")
		secret := env.enableTOTP(t, u)
		c := env.client()

		r := login(env.testEnv, c, "wes", "correct horse battery", "return_to", "/next?a=b")
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login/mfa" {
			t.Fatalf("password step = %d to %q, want 303 to /login/mfa", r.status, r.header.Get("Location"))
		}
		wantNoSession(t, "password step", r)
		var pending *http.Cookie
		for _, ck := range (&http.Response{Header: r.header}).Cookies() {
			if ck.Name == MFACookieNameInsecure {
				pending = ck
			}
		}
		if pending == nil || !pending.HttpOnly || pending.MaxAge <= 0 || pending.MaxAge > 300 || pending.SameSite != http.SameSiteLaxMode {
			t.Fatalf("pending cookie = %+v, want HttpOnly, Lax, at most 5 minutes", pending)
		}
		if env.me(t, c) != nil {
			t.Fatal("signed in after the password alone")
		}
		// The pending sign-in is not a token for the API.
		if _, r := env.secondStep(pending.Value, codeAt(t, secret, time.Now().Add(30*time.Second))); r.status != http.StatusUnauthorized || errorCode(r.body) != auth.EInvalidToken {
			t.Errorf("the page's pending sign-in at the API = %d %s, want 401 invalid_token", r.status, r.body)
		}
		if r := env.do(c, "GET", "/login/mfa", nil); r.status != http.StatusOK || !strings.Contains(r.body, `autocomplete="one-time-code"`) {
			t.Fatalf("GET /login/mfa = %d", r.status)
		}
		if r := env.postForm(c, "/login/mfa", url.Values{"code": {"111111"}}); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "That code is not valid") {
			t.Errorf("wrong code = %d, want 401 with the message", r.status)
		}
		code := codeAt(t, secret, time.Now().Add(30*time.Second))
		r = env.postForm(c, "/login/mfa", url.Values{"code": {code}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/next?a=b" || sessionCookie(r) == nil {
			t.Fatalf("right code = %d to %q, want 303 to /next?a=b with a session", r.status, r.header.Get("Location"))
		}
		if me := env.me(t, c); me == nil || me.ID != u.ID {
			t.Errorf("signed in as %+v, want wes", me)
		}
		// The same code in another browser's second step: refused.
		c2 := env.client()
		login(env.testEnv, c2, "wes", "correct horse battery")
		if r := env.postForm(c2, "/login/mfa", url.Values{"code": {code}}); r.status != http.StatusUnauthorized {
			t.Errorf("the same code again = %d, want 401", r.status)
		}
		// Without a pending sign-in, the page sends the browser to sign in.
		if r := env.do(env.client(), "GET", "/login/mfa", nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
			t.Errorf("GET /login/mfa without a pending sign-in = %d to %q, want 303 to /login", r.status, r.header.Get("Location"))
		}
	})
}

// Turning TOTP off needs a recent sign-in (or the password) and a code.
func TestTOTPDisableNeedsReauthAndCode(t *testing.T) {
	env := newSocialEnv(t, storetest.OpenSQLite(t), nil, func(c *Config) { c.ReauthWindow = time.Nanosecond })
	u := env.mustRegister("xena", "correct horse battery")
	secret, recovery := env.enableTOTPWithCodes(t, u)
	token := env.passwordStep(t, "xena", "correct horse battery")
	pair, _ := env.secondStep(token, recovery[0])
	bearer := bearerHeader(pair.AccessToken)

	code := codeAt(t, secret, time.Now().Add(30*time.Second))
	if r := env.doJSON(nil, "DELETE", "/api/mfa/totp", map[string]string{"code": code}, bearer...); r.status != http.StatusForbidden || errorCode(r.body) != auth.EReauthRequired {
		t.Errorf("disable from an old session = %d %s, want 403 reauth_required", r.status, r.body)
	}
	if r := env.doJSON(nil, "DELETE", "/api/mfa/totp", map[string]string{"code": code, "password": "wrong password"}, bearer...); r.status != http.StatusForbidden || !strings.Contains(r.body, `"password"`) {
		t.Errorf("disable with a wrong password = %d %s, want 403 with fields.password", r.status, r.body)
	}
	if r := env.doJSON(nil, "DELETE", "/api/mfa/totp", map[string]string{"code": "000000", "password": "correct horse battery"}, bearer...); r.status != http.StatusUnauthorized {
		t.Errorf("disable with a wrong code = %d %s, want 401", r.status, r.body)
	}
	if r := env.doJSON(nil, "POST", "/api/mfa/totp/setup", map[string]string{}, bearer...); r.status != http.StatusForbidden || errorCode(r.body) != auth.EReauthRequired {
		t.Errorf("setup from an old session = %d %s, want 403 reauth_required", r.status, r.body)
	}
	r := env.doJSON(nil, "DELETE", "/api/mfa/totp", map[string]string{"code": code, "password": "correct horse battery"}, bearer...)
	if r.status != http.StatusNoContent {
		t.Fatalf("disable with the password and a code = %d %s, want 204", r.status, r.body)
	}
	if on, _ := env.totp.Enabled(context.Background(), u.ID); on {
		t.Error("TOTP still on")
	}
	if ev := env.events(t, auth.EventTOTPDisabled, u.ID); len(ev) != 1 || ev[0].Data["factor"] != "totp" {
		t.Errorf("mfa.totp_disabled events = %+v", ev)
	}
	if pair, r := env.tokenLogin("xena", "correct horse battery"); r.status != http.StatusOK || pair.AccessToken == "" {
		t.Errorf("password sign-in after TOTP is off = %d %s, want tokens", r.status, r.body)
	}
}

// The hosted re-authentication page replaces an old session with a fresh
// one.
func TestReauthPage(t *testing.T) {
	env := newSocialEnv(t, storetest.OpenSQLite(t), nil, func(c *Config) { c.ReauthWindow = 200 * time.Millisecond })
	env.mustRegister("yuri", "correct horse battery")
	c := env.client()
	login(env.testEnv, c, "yuri", "correct horse battery")
	time.Sleep(300 * time.Millisecond)
	r := env.postForm(c, "/account/mfa/totp/setup", url.Values{})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/account/reauth?return_to=") {
		t.Fatalf("set-up from an old session = %d to %q, want 303 to /account/reauth", r.status, r.header.Get("Location"))
	}
	if r := env.postForm(c, "/account/reauth", url.Values{"password": {"nope"}, "return_to": {"/account/mfa"}}); r.status != http.StatusForbidden {
		t.Errorf("reauth with a wrong password = %d, want 403", r.status)
	}
	r = env.postForm(c, "/account/reauth", url.Values{"password": {"correct horse battery"}, "return_to": {"/account/mfa"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account/mfa" || sessionCookie(r) == nil {
		t.Fatalf("reauth = %d to %q, want 303 back with a new session", r.status, r.header.Get("Location"))
	}
	r = env.postForm(c, "/account/mfa/totp/setup", url.Values{})
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="totp-secret"`) || !strings.Contains(r.body, `src="data:image/png;base64,`) {
		t.Fatalf("set-up after reauth = %d, want the QR code and the key:\n%.500s", r.status, r.body)
	}
	if ev := env.events(t, auth.EventReauthenticated, ""); len(ev) != 1 {
		t.Errorf("session.reauthenticated events = %d, want 1", len(ev))
	}
}

// Users of a role that requires TOTP reach only its set-up until it is on.
func TestMFARequiredRole(t *testing.T) {
	env := newSocialEnv(t, storetest.OpenSQLite(t), nil, func(c *Config) { c.MFARequiredRoles = []string{auth.RoleAdmin} })
	env.mustRegister("zed", "correct horse battery", auth.RoleUser, auth.RoleAdmin)
	c := env.client()
	r := login(env.testEnv, c, "zed", "correct horse battery", "return_to", "/admin")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account/mfa?return_to=%2Fadmin" {
		t.Fatalf("sign-in = %d to %q, want 303 to the set-up", r.status, r.header.Get("Location"))
	}
	for _, path := range []string{"/account", "/admin", "/admin/users"} {
		if r := env.do(c, "GET", path, nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/account/mfa") {
			t.Errorf("GET %s before set-up = %d to %q, want 303 to /account/mfa", path, r.status, r.header.Get("Location"))
		}
	}
	for _, path := range []string{"/api/sessions", "/api/admin/users", "/api/passkeys"} {
		if r := env.do(c, "GET", path, nil); r.status != http.StatusForbidden {
			t.Errorf("GET %s before set-up = %d, want 403", path, r.status)
		}
	}
	if r := env.do(c, "GET", "/api/me", nil); r.status != http.StatusOK {
		t.Errorf("GET /api/me before set-up = %d, want 200", r.status)
	}
	if r := env.do(c, "GET", "/account/mfa", nil); r.status != http.StatusOK || !strings.Contains(r.body, `id="mfa-due"`) {
		t.Errorf("GET /account/mfa = %d, want the set-up with the notice", r.status)
	}
	if _, r := env.tokenLogin("zed", "correct horse battery"); r.status != http.StatusForbidden {
		t.Errorf("API sign-in before set-up = %d %s, want 403 and no tokens", r.status, r.body)
	}

	// Set up through the cookie API; then everything opens.
	r = env.do(c, "POST", "/api/mfa/totp/setup", nil)
	var setup totpSetupResponse
	json.Unmarshal([]byte(r.body), &setup)
	if r.status != http.StatusOK {
		t.Fatalf("setup = %d %s", r.status, r.body)
	}
	if r := env.doJSON(c, "POST", "/api/mfa/totp/confirm", map[string]string{"code": codeAt(t, setup.Secret, time.Now())}); r.status != http.StatusOK {
		t.Fatalf("confirm = %d %s", r.status, r.body)
	}
	if r := env.do(c, "GET", "/admin", nil); r.status != http.StatusOK {
		t.Errorf("GET /admin after set-up = %d, want 200", r.status)
	}
	env.passwordStep(t, "zed", "correct horse battery") // the API now asks for the code
	// It cannot be turned off.
	if r := env.doJSON(c, "DELETE", "/api/mfa/totp", map[string]string{"code": codeAt(t, setup.Secret, time.Now().Add(30*time.Second))}); r.status != http.StatusForbidden {
		t.Errorf("disable for a required role = %d %s, want 403", r.status, r.body)
	}
}

// Unlinking the last way to sign in is refused.
func TestUnlinkLastIdentityRefused(t *testing.T) {
	st := storetest.OpenSQLite(t)
	env := newSocialEnv(t, st, nil)
	ctx := context.Background()
	u := &auth.User{Username: "solo", Email: "solo@example.com", Active: true, Roles: []string{auth.RoleUser}}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	ident := &auth.Identity{UserID: u.ID, Provider: "p", Issuer: "https://p.example", Subject: "1"}
	if err := st.CreateIdentity(ctx, ident); err != nil {
		t.Fatal(err)
	}
	if err := env.accounts.UnlinkIdentity(ctx, u.ID, ident.ID); auth.ErrorCode(err) != auth.EConflict {
		t.Errorf("UnlinkIdentity(last way in) = %v, want conflict", err)
	}
	if err := env.accounts.UnlinkIdentity(ctx, "someone-else", ident.ID); !auth.IsNotFound(err) {
		t.Errorf("UnlinkIdentity(another user's) = %v, want not_found", err)
	}
	second := &auth.Identity{UserID: u.ID, Provider: "q", Issuer: "https://q.example", Subject: "1"}
	if err := st.CreateIdentity(ctx, second); err != nil {
		t.Fatal(err)
	}
	if err := env.accounts.UnlinkIdentity(ctx, u.ID, ident.ID); err != nil {
		t.Errorf("UnlinkIdentity(with another left) = %v", err)
	}
}

// The second step of a sign-in is counted in the sign-in metrics, wrong
// codes and right ones.
func TestSecondFactorCounted(t *testing.T) {
	m := metrics.New()
	env := newSocialEnv(t, storetestSQLite(t), nil, func(c *Config) { c.Metrics = m; c.ServeMetrics = true })
	u := env.mustRegister("ada", pw)
	_, codes := env.enableTOTPWithCodes(t, u)
	login := func() string {
		r := env.do(nil, "POST", "/api/auth/login", strings.NewReader(`{"login":"ada","password":"`+pw+`"}`), "Content-Type", "application/json")
		var a mfaAnswer
		json.Unmarshal([]byte(r.body), &a)
		if a.MFAToken == "" {
			t.Fatalf("login = %d %s, want mfa_required", r.status, r.body)
		}
		return a.MFAToken
	}
	tok := login()
	for _, code := range []string{"000000", codes[0]} {
		env.do(nil, "POST", "/api/auth/login/mfa", strings.NewReader(`{"mfa_token":"`+tok+`","code":"`+code+`"}`), "Content-Type", "application/json")
	}
	body := env.do(nil, "GET", "/metrics", nil).body
	for _, want := range []string{`gatehouse_sign_ins_total{method="second_factor",result="failure"} 1`,
		`gatehouse_sign_ins_total{method="second_factor",result="success"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
