package web

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// Sign-ins, failures, sign-outs, revocations, password changes and denied
// access land in the audit log with the user, the client IP and user agent,
// and never with a password.
func TestAuditEventsFromTheBrowserFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		u := env.mustRegister("uma", pw)
		login(env, nil, "uma", "wrong password!!")
		login(env, nil, "ghost", "wrong password!!")
		a, b := env.client(), env.client()
		login(env, a, "uma", pw)
		login(env, b, "uma", pw)
		sessions, _ := env.store.FindUserSessions(ctx, u.ID)
		env.postForm(a, "/account/sessions/"+sessions[0].ID+"/revoke", nil)
		env.postForm(a, "/account/password", url.Values{"current_password": {pw}, "new_password": {"another long passphrase"}, "confirm_password": {"another long passphrase"}})
		env.postForm(a, "/logout", nil)

		events, _, err := env.store.FindEvents(ctx, auth.EventFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]*auth.Event{}
		for _, e := range events {
			key := e.Type
			if e.Type == auth.EventLoginFailed {
				key += ":" + e.Data["reason"]
			}
			if seen[key] == nil {
				seen[key] = e
			}
			for _, v := range e.Data {
				if strings.Contains(v, pw) || strings.Contains(v, "wrong password!!") || strings.Contains(v, "another long passphrase") {
					t.Errorf("event %s holds a password: %v", e.Type, e.Data)
				}
			}
		}
		for _, want := range []string{auth.EventUserRegistered, auth.EventLoginFailed + ":wrong password", auth.EventLoginFailed + ":unknown user",
			auth.EventLoginSucceeded, auth.EventSessionRevoked, auth.EventPasswordChanged, auth.EventLogout} {
			e := seen[want]
			if e == nil {
				t.Errorf("no %s event; have %v", want, keys(seen))
				continue
			}
			if want != auth.EventLoginFailed+":unknown user" && e.TargetID != u.ID {
				t.Errorf("%s target = %q, want %q", want, e.TargetID, u.ID)
			}
			if want != auth.EventUserRegistered && e.IP != "127.0.0.1" {
				t.Errorf("%s IP = %q, want 127.0.0.1", want, e.IP)
			}
		}
		if e := seen[auth.EventLoginFailed+":unknown user"]; e != nil && e.Data["login"] != "ghost" {
			t.Errorf("failed sign-in of an unknown user lacks the identifier typed: %v", e.Data)
		}
	})
}

func keys(m map[string]*auth.Event) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// API keys created and revoked, and a reused refresh token, are in the log.
func TestAuditEventsForKeysAndTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		admin, _, adminID, _ := adminEnv(t, env)
		r := env.doJSON(admin, "POST", "/api/admin/api-keys", map[string]any{"name": "ci", "scopes": []string{"introspect"}})
		var k struct{ ID string }
		json.Unmarshal([]byte(r.body), &k)
		env.do(admin, "DELETE", "/api/admin/api-keys/"+k.ID, nil)
		pair, _ := env.tokenLogin("plain", pw)
		env.refresh(pair.RefreshToken)
		env.refresh(pair.RefreshToken)
		for typ, actor := range map[string]string{auth.EventAPIKeyCreated: adminID, auth.EventAPIKeyRevoked: adminID, auth.EventRefreshTokenReused: ""} {
			events, n, _ := env.store.FindEvents(context.Background(), auth.EventFilter{Type: typ})
			if n != 1 || events[0].ActorID != actor {
				t.Errorf("%s events = %d (%v), want one by %q", typ, n, events, actor)
			}
		}
		if events, _, _ := env.store.FindEvents(context.Background(), auth.EventFilter{Type: auth.EventRefreshTokenReused}); len(events) == 1 &&
			(events[0].TargetID != pair.User.ID || events[0].Data["session_id"] == "") {
			t.Errorf("refresh reuse event = %+v, want the user as target and the ended session", events[0])
		}
	})
}
