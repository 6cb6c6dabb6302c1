package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/store"
)

// newMFAMailEnv is a server with TOTP whose account service queues mail in
// the store's outbox, where the test reads it (no worker sends it). Users
// made with mustRegister get no verification mail, so the outbox holds only
// what the test causes.
func newMFAMailEnv(t *testing.T, st store.Store) *socialEnv {
	t.Helper()
	return newSocialEnv(t, st, nil, func(c *Config) {
		hasher, err := password.New(password.Params{Memory: 1024, Iterations: 1})
		if err != nil {
			t.Fatal(err)
		}
		outbox, err := mail.NewOutbox(mail.OutboxConfig{PublicURL: c.PublicURL})
		if err != nil {
			t.Fatal(err)
		}
		acc, err := accounts.New(accounts.Config{Store: st, Hasher: hasher, Logger: c.Logger, Audit: c.Audit,
			Sessions: c.Sessions, Email: accounts.EmailConfig{Outbox: outbox}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(acc.Close)
		c.Accounts = acc
	})
}

// outbox returns the mails queued for addr, oldest first.
func outboxTo(t *testing.T, st store.Store, addr string) []*auth.OutboxMail {
	t.Helper()
	all, err := st.FindMails(context.Background(), 500)
	if err != nil {
		t.Fatal(err)
	}
	var out []*auth.OutboxMail
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].To == addr {
			out = append(out, all[i])
		}
	}
	return out
}

func mailKinds(mails []*auth.OutboxMail) []string {
	out := []string{}
	for _, m := range mails {
		out = append(out, m.Kind)
	}
	return out
}

func (e *socialEnv) totpOn(t *testing.T, userID string) bool {
	t.Helper()
	on, err := e.totp.Enabled(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return on
}

// An admin turns off a user's two-step verification from the user's page:
// the button shows only while it is on, needs the admin's confirmation,
// ends the user's sessions, mails the user and records mfa.totp_reset with
// the admin as actor. Nobody resets their own here.
func TestAdminResetMFAPage(t *testing.T) {
	forEachSocialBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		env := newMFAMailEnv(t, st)
		admin, user, adminID, userID := adminEnv(t, env.testEnv)
		page := "/admin/users/" + userID
		reset := page + "/mfa/reset"
		yes := url.Values{"confirm": {"yes"}}

		r := env.do(admin, "GET", page, nil)
		if !strings.Contains(r.body, `id="user-mfa"><span class="badge">off</span>`) || strings.Contains(r.body, `id="reset-mfa"`) {
			t.Errorf("GET %s with TOTP off = %d, want it shown off and no reset button:\n%s", page, r.status, r.body)
		}
		u, err := st.FindUserByID(ctx, userID)
		if err != nil {
			t.Fatal(err)
		}
		env.enableTOTP(t, u)
		r = env.do(admin, "GET", page, nil)
		for _, want := range []string{`id="user-mfa"><span class="badge ok">on</span>`, `action="/admin/users/` + userID + `/mfa/reset"`,
			`id="reset-mfa"`, `name="confirm" type="checkbox" value="yes" required`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("GET %s with TOTP on lacks %q:\n%s", page, want, r.body)
			}
		}

		// Refused to the anonymous and to plain users.
		if r := env.postForm(nil, reset, yes); r.status != http.StatusUnauthorized {
			t.Errorf("POST %s anonymously = %d, want 401", reset, r.status)
		}
		if r := env.postForm(user, reset, yes); r.status != http.StatusForbidden {
			t.Errorf("POST %s as a plain user = %d, want 403", reset, r.status)
		}
		// Cross-site form posts are refused before anything happens.
		if r := env.postForm(admin, reset, yes, "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
			t.Errorf("POST %s cross-site = %d, want 403", reset, r.status)
		}
		// Without the confirmation the page says what is missing.
		if r := env.postForm(admin, reset, nil); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Confirm that you checked") {
			t.Errorf("POST %s without confirm = %d, want 422 asking for the confirmation:\n%s", reset, r.status, r.body)
		}
		if !env.totpOn(t, userID) {
			t.Fatal("a refused reset turned TOTP off")
		}

		r = env.postForm(admin, reset, yes)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != page {
			t.Fatalf("POST %s = %d to %q, want 303 to the user's page:\n%s", reset, r.status, r.header.Get("Location"), r.body)
		}
		if env.totpOn(t, userID) {
			t.Error("TOTP is still on after the reset")
		}
		r = env.do(admin, "GET", page, nil)
		if !strings.Contains(r.body, flashMessages[flashMFAReset]) || strings.Contains(r.body, `id="reset-mfa"`) {
			t.Errorf("the user's page after the reset lacks the notice or still offers the reset:\n%s", r.body)
		}
		if r := env.do(user, "GET", "/api/me", nil); r.status != http.StatusUnauthorized {
			t.Errorf("the user's session after the reset: GET /api/me = %d, want 401", r.status)
		}
		ev := env.events(t, auth.EventTOTPReset, "")
		if len(ev) != 1 || ev[0].ActorID != adminID || ev[0].TargetID != userID {
			t.Errorf("mfa.totp_reset events = %+v, want one by %s about %s", ev, adminID, userID)
		}
		mails := outboxTo(t, st, "plain@example.com")
		if len(mails) != 1 || mails[0].Kind != mail.KindMFADisabled || !strings.Contains(mails[0].Text, "An administrator turned off") {
			t.Errorf("mails to the user = %v, want one mfa_disabled notice saying an administrator did it", mailKinds(mails))
		}

		// Off already: the page says so, with 409.
		if r := env.postForm(admin, reset, yes); r.status != http.StatusConflict || !strings.Contains(r.body, "not on for this user") {
			t.Errorf("POST %s again = %d, want 409 saying it is not on:\n%s", reset, r.status, r.body)
		}

		// An admin's own: no button here, and the action is refused.
		self, err := st.FindUserByID(ctx, adminID)
		if err != nil {
			t.Fatal(err)
		}
		env.enableTOTP(t, self)
		own := "/admin/users/" + adminID
		if r := env.do(admin, "GET", own, nil); strings.Contains(r.body, `id="reset-mfa"`) || !strings.Contains(r.body, "Turn off your own on your account") {
			t.Errorf("GET %s (own page) offers the reset:\n%s", own, r.body)
		}
		if r := env.postForm(admin, own+"/mfa/reset", yes); r.status != http.StatusForbidden || !env.totpOn(t, adminID) {
			t.Errorf("POST %s/mfa/reset (own) = %d, want 403 and TOTP still on", own, r.status)
		}
	})
}

// DELETE /api/admin/users/{id}/mfa: 204 and the user's sessions and
// tokens end; 409 when it is not on; 404 for an unknown user; 403 for the
// admin's own; and an API key with the admin scope may do it too.
func TestAdminResetMFAAPI(t *testing.T) {
	forEachSocialBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		env := newMFAMailEnv(t, st)
		admin, user, adminID, userID := adminEnv(t, env.testEnv)
		path := "/api/admin/users/" + userID + "/mfa"
		u, err := st.FindUserByID(ctx, userID)
		if err != nil {
			t.Fatal(err)
		}
		tr, _ := env.tokenLogin("plain", pw) // before TOTP, so no second step
		env.enableTOTP(t, u)

		if r := env.do(nil, "DELETE", path, nil); r.status != http.StatusUnauthorized {
			t.Errorf("DELETE %s anonymously = %d, want 401", path, r.status)
		}
		if r := env.do(user, "DELETE", path, nil); r.status != http.StatusForbidden {
			t.Errorf("DELETE %s as a plain user = %d, want 403", path, r.status)
		}
		if r := env.do(admin, "DELETE", path, nil); r.status != http.StatusNoContent {
			t.Fatalf("DELETE %s = %d %s, want 204", path, r.status, r.body)
		}
		if env.totpOn(t, userID) {
			t.Error("TOTP is still on after the reset")
		}
		if r := env.do(nil, "GET", "/api/me", nil, bearerHeader(tr.AccessToken)...); r.status != http.StatusUnauthorized {
			t.Errorf("the user's access token after the reset = %d, want 401", r.status)
		}
		if _, r := env.refresh(tr.RefreshToken); r.status != http.StatusUnauthorized {
			t.Errorf("the user's refresh token after the reset = %d, want 401", r.status)
		}
		if ev := env.events(t, auth.EventTOTPReset, userID); len(ev) != 1 || ev[0].ActorID != adminID {
			t.Errorf("mfa.totp_reset events = %+v, want one by the admin", ev)
		}
		if got := mailKinds(outboxTo(t, st, "plain@example.com")); len(got) != 1 || got[0] != mail.KindMFADisabled {
			t.Errorf("mails to the user = %v, want [mfa_disabled]", got)
		}

		if r := env.do(admin, "DELETE", path, nil); r.status != http.StatusConflict || errorCode(r.body) != auth.EConflict {
			t.Errorf("DELETE %s when off = %d %s, want 409 conflict", path, r.status, r.body)
		}
		if r := env.do(admin, "DELETE", "/api/admin/users/nosuchuser/mfa", nil); r.status != http.StatusNotFound || errorCode(r.body) != auth.ENotFound {
			t.Errorf("DELETE for an unknown user = %d %s, want 404 not_found", r.status, r.body)
		}
		if r := env.do(admin, "DELETE", "/api/admin/users/"+adminID+"/mfa", nil); r.status != http.StatusForbidden {
			t.Errorf("DELETE the admin's own = %d %s, want 403", r.status, r.body)
		}

		// An API key with the admin scope.
		r := env.doJSON(admin, "POST", "/api/admin/api-keys", map[string]any{"name": "ops", "scopes": []string{"admin"}})
		var key struct {
			Key string `json:"key"`
		}
		if err := json.Unmarshal([]byte(r.body), &key); err != nil || key.Key == "" {
			t.Fatalf("POST /api/admin/api-keys = %d %s", r.status, r.body)
		}
		env.enableTOTP(t, u)
		if r := env.do(nil, "DELETE", path, nil, bearerHeader(key.Key)...); r.status != http.StatusNoContent || env.totpOn(t, userID) {
			t.Errorf("DELETE %s with an admin API key = %d %s, want 204", path, r.status, r.body)
		}
	})
}

// The user is mailed a security notice when they turn two-step
// verification on, replace their recovery codes, and turn it off.
func TestTOTPChangesMailNotices(t *testing.T) {
	forEachSocialBackend(t, func(t *testing.T, st store.Store) {
		env := newMFAMailEnv(t, st)
		env.mustRegister("tina", pw)
		tr, _ := env.tokenLogin("tina", pw)
		bearer := bearerHeader(tr.AccessToken)
		sent := func(want ...string) {
			t.Helper()
			if got := mailKinds(outboxTo(t, st, "tina@example.com")); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("mails to tina = %v, want %v", got, want)
			}
		}

		r := env.do(nil, "POST", "/api/mfa/totp/setup", nil, bearer...)
		var setup totpSetupResponse
		json.Unmarshal([]byte(r.body), &setup)
		if r.status != http.StatusOK {
			t.Fatalf("POST /api/mfa/totp/setup = %d %s", r.status, r.body)
		}
		sent() // starting the set-up changes nothing yet
		if r := env.doJSON(nil, "POST", "/api/mfa/totp/confirm", map[string]string{"code": "000000"}, bearer...); r.status != http.StatusUnprocessableEntity {
			t.Errorf("confirm with a wrong code = %d, want 422", r.status)
		}
		sent()
		now := time.Now()
		if r := env.doJSON(nil, "POST", "/api/mfa/totp/confirm", map[string]string{"code": codeAt(t, setup.Secret, now)}, bearer...); r.status != http.StatusOK {
			t.Fatalf("confirm = %d %s", r.status, r.body)
		}
		sent(mail.KindMFAEnabled)

		if r := env.doJSON(nil, "POST", "/api/mfa/totp/recovery-codes", map[string]string{"code": "000000"}, bearer...); r.status != http.StatusUnauthorized {
			t.Errorf("new recovery codes with a wrong code = %d, want 401", r.status)
		}
		sent(mail.KindMFAEnabled)
		r = env.doJSON(nil, "POST", "/api/mfa/totp/recovery-codes", map[string]string{"code": codeAt(t, setup.Secret, now.Add(30*time.Second))}, bearer...)
		var rc recoveryCodesResponse
		if json.Unmarshal([]byte(r.body), &rc); r.status != http.StatusOK || len(rc.RecoveryCodes) == 0 {
			t.Fatalf("new recovery codes = %d %s", r.status, r.body)
		}
		sent(mail.KindMFAEnabled, mail.KindRecoveryCodesRenewed)

		// Every code of the app near now is spent: off with a recovery code.
		if r := env.doJSON(nil, "DELETE", "/api/mfa/totp", map[string]string{"code": rc.RecoveryCodes[0]}, bearer...); r.status != http.StatusNoContent {
			t.Fatalf("DELETE /api/mfa/totp = %d %s", r.status, r.body)
		}
		sent(mail.KindMFAEnabled, mail.KindRecoveryCodesRenewed, mail.KindMFADisabled)
		mails := outboxTo(t, st, "tina@example.com")
		if off := mails[2]; strings.Contains(off.Text, "An administrator") || !strings.Contains(off.Text, env.srv.URL+"/account/mfa") {
			t.Errorf("the user's own turning off mailed:\n%s\nwant a notice without an administrator, linking to /account/mfa", off.Text)
		}
	})
}
