package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// adminEnv has an admin and a plain user, each signed in with a cookie jar.
func adminEnv(t *testing.T, env *testEnv) (admin, user *http.Client, adminID, userID string) {
	a := env.mustRegister("root", pw, "user", "admin")
	u := env.mustRegister("plain", pw)
	admin, user = env.client(), env.client()
	login(env, admin, "root", pw)
	login(env, user, "plain", pw)
	return admin, user, a.ID, u.ID
}

func jsonBody(v any) *strings.Reader {
	b, _ := json.Marshal(v)
	return strings.NewReader(string(b))
}

func (e *testEnv) doJSON(c *http.Client, method, path string, body any, headers ...string) response {
	e.t.Helper()
	if body == nil {
		return e.do(c, method, path, nil, headers...)
	}
	return e.do(c, method, path, jsonBody(body), append([]string{"Content-Type", "application/json"}, headers...)...)
}

// Every admin route: 401 without credentials, 403 for a normal user, 2xx for
// an admin and for an API key with the admin scope, 403 for a key without it.
func TestAdminAPIAuthorization(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		admin, user, _, _ := adminEnv(t, env)
		// The user routes act on a third account, so that revoking its
		// sessions does not sign out the plain user making requests below.
		userID := env.mustRegister("target", pw).ID
		r := env.doJSON(admin, "POST", "/api/admin/api-keys", map[string]any{"name": "ops", "scopes": []string{"admin"}})
		var created struct{ ID, Key string }
		json.Unmarshal([]byte(r.body), &created)
		if r.status != 201 || !strings.HasPrefix(created.Key, "gh_") {
			t.Fatalf("create admin key = %d %s", r.status, r.body)
		}
		r = env.doJSON(admin, "POST", "/api/admin/api-keys", map[string]any{"name": "introspector", "scopes": []string{"introspect"}})
		var weak struct{ Key string }
		json.Unmarshal([]byte(r.body), &weak)

		routes := []struct {
			method, path string
			body         any
			ok           int
		}{
			{"GET", "/api/admin/users", nil, 200},
			{"GET", "/api/admin/users/" + userID, nil, 200},
			{"PATCH", "/api/admin/users/" + userID, map[string]any{"email_verified": true}, 200},
			{"POST", "/api/admin/users/" + userID + "/revoke-sessions", nil, 204},
			{"GET", "/api/admin/roles", nil, 200},
			{"POST", "/api/admin/roles", map[string]any{"name": "temp", "permissions": []string{"posts:write"}}, 201},
			{"DELETE", "/api/admin/roles/temp", nil, 204},
			{"GET", "/api/admin/api-keys", nil, 200},
			{"GET", "/api/admin/audit", nil, 200},
		}
		for _, rt := range routes {
			path, body := rt.path, rt.body
			for _, tc := range []struct {
				who    string
				c      *http.Client
				header []string
				want   int
			}{
				{"nobody", nil, nil, 401},
				{"plain user", user, nil, 403},
				{"introspect key", nil, []string{"Authorization", "Bearer " + weak.Key}, 403},
				{"bad key", nil, []string{"Authorization", "Bearer gh_" + strings.Repeat("A", 43)}, 401},
				{"admin key", nil, []string{"Authorization", "Bearer " + created.Key}, rt.ok},
			} {
				got := env.doJSON(tc.c, rt.method, path, body, tc.header...)
				if got.status != tc.want {
					t.Errorf("%s %s as %s = %d %s, want %d", rt.method, path, tc.who, got.status, got.body, tc.want)
				}
			}
		}
		// The admin's own session works on the reads too.
		if r := env.do(admin, "GET", "/api/admin/users?per_page=1&page=2&sort=username", nil); r.status != 200 || !strings.Contains(r.body, `"total":3`) || !strings.Contains(r.body, `"page":2`) {
			t.Errorf("GET /api/admin/users page 2 as admin = %d %s", r.status, r.body)
		}
		// Credentials in the URL are never accepted.
		if r := env.do(nil, "GET", "/api/admin/users?api_key="+created.Key+"&access_token="+created.Key, nil); r.status != 401 {
			t.Errorf("API key in the query = %d, want 401", r.status)
		}
		// Revoked: the next use fails.
		if r := env.do(admin, "DELETE", "/api/admin/api-keys/"+created.ID, nil); r.status != 204 {
			t.Fatalf("revoke key = %d", r.status)
		}
		if r := env.do(nil, "GET", "/api/admin/users", nil, "Authorization", "Bearer "+created.Key); r.status != 401 {
			t.Errorf("revoked key = %d, want 401", r.status)
		}
	})
}

func TestAdminAPIChangesAndGuards(t *testing.T) {
	forEachBackend(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		admin, user, adminID, userID := adminEnv(t, env)
		// Mass assignment: only roles, active and email_verified change.
		r := env.doJSON(admin, "PATCH", "/api/admin/users/"+userID, map[string]any{
			"roles": []string{"user", "editor"}, "email_verified": true, "password_hash": "x", "email": "evil@example.com", "id": adminID, "username": "hacked"})
		if r.status != 200 || !strings.Contains(r.body, `"roles":["editor","user"]`) || !strings.Contains(r.body, `"email_verified":true`) {
			t.Errorf("PATCH user = %d %s", r.status, r.body)
		}
		u, _ := env.store.FindUserByID(ctx, userID)
		if u.Email != "plain@example.com" || u.Username != "plain" || !u.HasPassword() {
			t.Errorf("PATCH changed protected fields: %+v", u)
		}
		// Unknown role: 422.
		if r := env.doJSON(admin, "PATCH", "/api/admin/users/"+userID, map[string]any{"roles": []string{"wizard"}}); r.status != 422 {
			t.Errorf("PATCH unknown role = %d, want 422", r.status)
		}
		// Self-disable and last admin.
		if r := env.doJSON(admin, "PATCH", "/api/admin/users/"+adminID, map[string]any{"active": false}); r.status != 403 {
			t.Errorf("self-disable = %d, want 403", r.status)
		}
		if r := env.doJSON(admin, "PATCH", "/api/admin/users/"+adminID, map[string]any{"roles": []string{"user"}}); r.status != 409 {
			t.Errorf("last admin losing the role = %d, want 409", r.status)
		}
		if r := env.do(admin, "DELETE", "/api/admin/users/"+adminID, nil); r.status != 403 {
			t.Errorf("self-delete = %d, want 403", r.status)
		}
		// Revoking a user's sessions ends them.
		if r := env.do(admin, "POST", "/api/admin/users/"+userID+"/revoke-sessions", nil); r.status != 204 {
			t.Fatalf("revoke-sessions = %d", r.status)
		}
		if r := env.do(user, "GET", "/api/me", nil); r.status != 401 {
			t.Errorf("user after revoke-sessions = %d, want 401", r.status)
		}
		login(env, user, "plain", pw)
		// Disabling logs the user out at once.
		if r := env.do(user, "GET", "/api/me", nil); r.status != 200 {
			t.Fatalf("user before disabling = %d", r.status)
		}
		if r := env.doJSON(admin, "PATCH", "/api/admin/users/"+userID, map[string]any{"active": false}); r.status != 200 || !strings.Contains(r.body, `"active":false`) {
			t.Errorf("disable = %d %s", r.status, r.body)
		}
		if r := env.do(user, "GET", "/api/me", nil); r.status != 401 {
			t.Errorf("disabled user's session = %d, want 401", r.status)
		}
		// Filters.
		if r := env.do(admin, "GET", "/api/admin/users?active=false", nil); !strings.Contains(r.body, `"total":1`) || !strings.Contains(r.body, "plain") {
			t.Errorf("filter active=false = %s", r.body)
		}
		if r := env.do(admin, "GET", "/api/admin/users?active=maybe", nil); r.status != 400 {
			t.Errorf("active=maybe = %d, want 400", r.status)
		}
		if r := env.do(admin, "GET", "/api/admin/users?per_page=1000", nil); r.status != 400 {
			t.Errorf("per_page=1000 = %d, want 400", r.status)
		}
		// Built-in roles stay; deleting the user works; the audit API lists it.
		if r := env.do(admin, "DELETE", "/api/admin/roles/admin", nil); r.status != 409 {
			t.Errorf("delete role admin = %d, want 409", r.status)
		}
		if r := env.do(admin, "DELETE", "/api/admin/users/"+userID, nil); r.status != 204 {
			t.Errorf("delete user = %d", r.status)
		}
		if r := env.do(admin, "GET", "/api/admin/users/"+userID, nil); r.status != 404 {
			t.Errorf("deleted user = %d, want 404", r.status)
		}
		r = env.do(admin, "GET", "/api/admin/audit?user_id="+userID, nil)
		for _, ev := range []string{"role.changed", "email.verified", "account.disabled", "account.deleted"} {
			if !strings.Contains(r.body, `"type":"`+ev+`"`) {
				t.Errorf("audit for the user lacks %s: %s", ev, r.body)
			}
		}
		if r := env.doJSON(admin, "PATCH", "/api/admin/users/"+userID, "not an object"); r.status != 400 {
			t.Errorf("PATCH with a string body = %d, want 400", r.status)
		}
		if r := env.do(admin, "PATCH", "/api/admin/users/"+adminID, strings.NewReader(`{"active":`), "Content-Type", "application/json"); r.status != 400 || !strings.Contains(r.body, "invalid_request") {
			t.Errorf("malformed JSON = %d %s, want 400 invalid_request", r.status, r.body)
		}
		if r := env.do(admin, "PATCH", "/api/admin/users/"+adminID, strings.NewReader(`{"active":true}`), "Content-Type", "text/plain"); r.status != 400 {
			t.Errorf("JSON sent as text/plain = %d, want 400", r.status)
		}
	})
}
