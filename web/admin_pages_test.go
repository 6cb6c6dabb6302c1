package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// forEachAdminBackend runs fn against each store; newEnv wires the account
// service to the session manager, as gatehouse.New does, so that disabling,
// deleting and signing out everywhere end the user's sessions.
func forEachAdminBackend(t *testing.T, fn func(t *testing.T, env *testEnv)) {
	forEachBackend(t, fn)
}

// rowUsernames lists the usernames of the users table, in order.
var rowUsername = regexp.MustCompile(`<th scope="row"><a href="[^"]*/admin/users/[a-z0-9]+">([^<]+)</a></th>`)

func rowUsernames(body string) []string {
	out := []string{}
	for _, m := range rowUsername.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// Every admin page: a browser without a session is sent to sign in, a user
// without the admin role gets the 403 page, and an admin gets the page.
// Every admin action refuses the anonymous and the plain user alike.
func TestAdminPagesAccess(t *testing.T) {
	forEachAdminBackend(t, func(t *testing.T, env *testEnv) {
		admin, user, _, userID := adminEnv(t, env)
		pages := []struct {
			path, want string
		}{
			{"/admin", `id="stat-users">2<`},
			{"/admin/users", `id="users-total">(2)<`},
			{"/admin/users/" + userID, `<h1 id="user-title">plain</h1>`},
			{"/admin/users/" + userID + "/delete", `Delete plain?`},
			{"/admin/audit", `<code>login.succeeded</code>`},
			{"/admin/api-keys", `Create a key`},
		}
		for _, pg := range pages {
			r := env.do(nil, "GET", pg.path, nil)
			if want := env.srv.URL + "/login?return_to=" + url.QueryEscape(pg.path); r.status != http.StatusSeeOther || r.header.Get("Location") != want {
				t.Errorf("GET %s anonymously = %d to %q, want 303 to %q", pg.path, r.status, r.header.Get("Location"), want)
			}
			r = env.do(user, "GET", pg.path, nil)
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "Not allowed") || strings.Contains(r.body, pg.want) {
				t.Errorf("GET %s as a plain user = %d, want the 403 page", pg.path, r.status)
			}
			if !strings.Contains(r.body, `>plain</a>`) || !strings.Contains(r.body, ">Sign out</button>") {
				t.Errorf("GET %s as a plain user: the 403 page does not show who is signed in", pg.path)
			}
			r = env.do(admin, "GET", pg.path, nil)
			if r.status != http.StatusOK || !strings.Contains(r.body, pg.want) {
				t.Errorf("GET %s as an admin = %d, want 200 with %q:\n%s", pg.path, r.status, pg.want, r.body)
			}
			if !strings.Contains(r.body, `id="nav-admin"`) || !strings.Contains(r.body, `aria-current="page"`) {
				t.Errorf("GET %s as an admin lacks the Admin link or the admin navigation", pg.path)
			}
		}
		if r := env.do(user, "GET", "/account", nil); strings.Contains(r.body, `id="nav-admin"`) {
			t.Error("a plain user's pages link to the admin panel")
		}

		actions := []struct {
			path string
			form url.Values
		}{
			{"/admin/users/" + userID + "/active", url.Values{"active": {"false"}}},
			{"/admin/users/" + userID + "/roles", url.Values{"roles": {"admin"}}},
			{"/admin/users/" + userID + "/verified", url.Values{"verified": {"true"}}},
			{"/admin/users/" + userID + "/revoke-sessions", nil},
			{"/admin/users/" + userID + "/delete", nil},
			{"/admin/api-keys", url.Values{"name": {"x"}, "scopes": {"admin"}}},
		}
		for _, a := range actions {
			for _, tc := range []struct {
				who  string
				c    *http.Client
				want int
			}{{"anonymously", nil, http.StatusUnauthorized}, {"as a plain user", user, http.StatusForbidden}} {
				if r := env.postForm(tc.c, a.path, a.form); r.status != tc.want {
					t.Errorf("POST %s %s = %d, want %d", a.path, tc.who, r.status, tc.want)
				}
			}
		}
		u, err := env.store.FindUserByID(context.Background(), userID)
		if err != nil || !u.Active || u.EmailVerified || u.HasRole(auth.RoleAdmin) {
			t.Errorf("refused actions changed the user: %+v, %v", u, err)
		}
		if keys, _ := env.store.FindAPIKeys(context.Background()); len(keys) != 0 {
			t.Errorf("refused actions created %d API keys", len(keys))
		}
	})
}

// An admin disables and enables a user, changes roles, marks the email
// verified, signs the user out everywhere and deletes the account through the
// confirmation page; each step shows its notice and the user's own session
// feels it.
func TestAdminUserActions(t *testing.T) {
	forEachAdminBackend(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		admin, user, _, userID := adminEnv(t, env)
		page := "/admin/users/" + userID
		find := func() *auth.User {
			t.Helper()
			u, err := env.store.FindUserByID(ctx, userID)
			if err != nil {
				t.Fatalf("FindUserByID() = %v", err)
			}
			return u
		}
		step := func(path string, form url.Values, notice string) {
			t.Helper()
			r := env.postForm(admin, path, form)
			if r.status != http.StatusSeeOther || r.header.Get("Location") != page {
				t.Fatalf("POST %s %v = %d to %q, want 303 to %s:\n%s", path, form, r.status, r.header.Get("Location"), page, r.body)
			}
			if r := env.do(admin, "GET", page, nil); r.status != 200 || !strings.Contains(r.body, notice) {
				t.Errorf("user page after POST %s = %d, want the notice %q", path, r.status, notice)
			}
		}

		// Roles: the user becomes an editor.
		step(page+"/roles", url.Values{"roles": {"user", "editor"}}, "Roles saved.")
		if got := find().Roles; !cmp.Equal(got, []string{"editor", "user"}) {
			t.Errorf("roles after saving = %v, want [editor user]", got)
		}
		if r := env.do(user, "GET", "/account", nil); !strings.Contains(r.body, `<span class="badge">editor</span>`) {
			t.Errorf("the user's account page does not show the editor role:\n%s", r.body)
		}
		if r := env.postForm(admin, page+"/roles", url.Values{"roles": {"user", "wizard"}}); r.status != http.StatusUnprocessableEntity ||
			!strings.Contains(r.body, `There is no role &#34;wizard&#34;.`) {
			t.Errorf("POST roles with an unknown role = %d, want 422 with the message:\n%s", r.status, r.body)
		}

		// Email verified, and back.
		step(page+"/verified", url.Values{"verified": {"true"}}, "The email address is marked verified.")
		if !find().EmailVerified {
			t.Error("email not verified after marking it")
		}
		step(page+"/verified", url.Values{"verified": {"false"}}, "marked not verified")
		if find().EmailVerified {
			t.Error("email still verified after unmarking it")
		}
		if r := env.postForm(admin, page+"/verified", url.Values{"verified": {"maybe"}}); r.status != http.StatusBadRequest {
			t.Errorf("POST verified=maybe = %d, want 400", r.status)
		}

		// Sign out everywhere: the user's cookie stops working.
		if r := env.do(user, "GET", "/api/me", nil); r.status != 200 {
			t.Fatalf("GET /api/me as the user = %d, want 200", r.status)
		}
		step(page+"/revoke-sessions", nil, "signed out on every device")
		if r := env.do(user, "GET", "/api/me", nil); r.status != http.StatusUnauthorized {
			t.Errorf("GET /api/me after sign-out everywhere = %d, want 401", r.status)
		}

		// Disable: sign-in refused and sessions ended; enable again.
		login(env, user, "plain", pw)
		step(page+"/active", url.Values{"active": {"false"}}, "The account was disabled")
		if find().Active {
			t.Error("user still active after disabling")
		}
		if r := env.do(user, "GET", "/api/me", nil); r.status != http.StatusUnauthorized {
			t.Errorf("GET /api/me after disabling = %d, want 401", r.status)
		}
		if r := env.do(admin, "GET", page, nil); !strings.Contains(r.body, `<span class="badge danger">disabled</span>`) || !strings.Contains(r.body, ">Enable</button>") {
			t.Error("the user page of a disabled user does not say so or offer Enable")
		}
		step(page+"/active", url.Values{"active": {"true"}}, "The account was enabled.")
		if !find().Active {
			t.Error("user not active after enabling")
		}

		// Delete: the GET asks, only the POST deletes.
		r := env.do(admin, "GET", page+"/delete", nil)
		if r.status != 200 || !strings.Contains(r.body, `id="confirm-delete"`) {
			t.Fatalf("GET the delete page = %d, want a confirmation form", r.status)
		}
		find()
		r = env.postForm(admin, page+"/delete", nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/users" {
			t.Fatalf("POST delete = %d to %q, want 303 to /admin/users", r.status, r.header.Get("Location"))
		}
		if r := env.do(admin, "GET", "/admin/users", nil); !strings.Contains(r.body, "The account was deleted.") || strings.Contains(r.body, ">plain<") {
			t.Errorf("users table after deleting does not show the notice, or still lists plain")
		}
		if _, err := env.store.FindUserByID(ctx, userID); !auth.IsNotFound(err) {
			t.Errorf("FindUserByID(deleted) = %v, want not found", err)
		}
		if r := env.do(admin, "GET", page, nil); r.status != http.StatusNotFound {
			t.Errorf("GET the deleted user's page = %d, want 404", r.status)
		}
		// The audit log keeps the deleted account's events, shown by ID.
		if r := env.do(admin, "GET", "/admin/audit?user="+userID, nil); !strings.Contains(r.body, userID+" (deleted)") ||
			!strings.Contains(r.body, "<code>account.deleted</code>") {
			t.Errorf("audit log of the deleted user lacks its events:\n%s", r.body)
		}
	})
}

// The guards refuse with their message on the page, a 4xx status, and no
// change: an admin cannot disable or delete their own account, and the last
// active admin keeps the role.
func TestAdminGuardsOnPages(t *testing.T) {
	forEachAdminBackend(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		admin, _, adminID, _ := adminEnv(t, env)
		self := "/admin/users/" + adminID
		for _, tc := range []struct {
			name, path string
			form       url.Values
			status     int
			message    string
		}{
			{"self-disable", self + "/active", url.Values{"active": {"false"}}, http.StatusForbidden, "You cannot disable your own account."},
			{"self-delete", self + "/delete", nil, http.StatusForbidden, "You cannot delete your own account here."},
			{"last admin loses the role", self + "/roles", url.Values{"roles": {"user"}}, http.StatusConflict,
				"This is the last active admin: make someone else an admin first."},
			{"last admin with no roles", self + "/roles", nil, http.StatusConflict, "This is the last active admin"},
		} {
			r := env.postForm(admin, tc.path, tc.form)
			if r.status != tc.status || !strings.Contains(r.body, `<div class="alert alert-error" role="alert" id="admin-error">`+tc.message) {
				t.Errorf("%s: POST %s = %d, want %d with %q on the page:\n%s", tc.name, tc.path, r.status, tc.status, tc.message, r.body)
			}
			u, err := env.store.FindUserByID(ctx, adminID)
			if err != nil || !u.Active || !u.HasRole(auth.RoleAdmin) {
				t.Errorf("%s changed the admin: %+v, %v", tc.name, u, err)
			}
		}
		// The page does not offer what the guards refuse.
		r := env.do(admin, "GET", self, nil)
		if strings.Contains(r.body, `id="toggle-active"`) || strings.Contains(r.body, `id="delete-user"`) {
			t.Error("an admin's own page offers to disable or delete the account")
		}
		if r := env.do(admin, "GET", self+"/delete", nil); !strings.Contains(r.body, "You cannot delete your own account here.") || strings.Contains(r.body, "confirm-delete") {
			t.Error("the delete page for oneself offers to delete")
		}
		// With a second admin, the first may give up the role.
		second := env.mustRegister("second", pw, "user", "admin")
		if r := env.postForm(admin, self+"/roles", url.Values{"roles": {"user"}}); r.status != http.StatusSeeOther {
			t.Errorf("dropping the admin role with another admin = %d, want 303", r.status)
		}
		// Now the admin is not one: the panel is closed to them.
		if r := env.do(admin, "GET", "/admin/users/"+second.ID, nil); r.status != http.StatusForbidden {
			t.Errorf("GET admin page after losing the role = %d, want 403", r.status)
		}
	})
}

// Unknown users and bad input get the error page with the right status,
// not a 500.
func TestAdminPagesErrors(t *testing.T) {
	forEachAdminBackend(t, func(t *testing.T, env *testEnv) {
		admin, _, _, userID := adminEnv(t, env)
		for _, tc := range []struct {
			method, path string
			form         url.Values
			want         int
		}{
			{"GET", "/admin/users/nosuchuser", nil, 404},
			{"GET", "/admin/users/nosuchuser/delete", nil, 404},
			{"POST", "/admin/users/nosuchuser/active", url.Values{"active": {"false"}}, 404},
			{"POST", "/admin/users/nosuchuser/delete", nil, 404},
			{"POST", "/admin/users/" + userID + "/active", url.Values{"active": {"perhaps"}}, 400},
			{"POST", "/admin/api-keys/nosuchkey/revoke", nil, 404},
			{"GET", "/admin/users?sort=password_hash", nil, 400},
			{"GET", "/admin/users?page=0", nil, 400},
			{"GET", "/admin/users?active=maybe", nil, 400},
			{"GET", "/admin/audit?page=x", nil, 400},
		} {
			var r response
			if tc.method == "GET" {
				r = env.do(admin, "GET", tc.path, nil)
			} else {
				r = env.postForm(admin, tc.path, tc.form)
			}
			if r.status != tc.want || !strings.Contains(r.body, "<h1>") {
				t.Errorf("%s %s = %d, want the %d page", tc.method, tc.path, r.status, tc.want)
			}
		}
	})
}

// The users table: search by username or email prefix, the role, status and
// email filters, sorting both ways, and pages.
func TestAdminUsersTable(t *testing.T) {
	forEachAdminBackend(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		admin, _, _, _ := adminEnv(t, env) // root (admin) and plain
		for i := range 25 {
			roles := []string{"user"}
			if i%4 == 0 {
				roles = append(roles, "editor")
			}
			u := env.mustRegister(fmt.Sprintf("u%02d", i), pw, roles...)
			if i%5 == 0 {
				if _, err := env.accounts.SetActive(ctx, nil, u.ID, false); err != nil {
					t.Fatal(err)
				}
			}
			if i%3 == 0 {
				if _, err := env.accounts.SetEmailVerified(ctx, nil, u.ID, true); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, tc := range []struct {
			name, query string
			want        []string
			showing     string
		}{
			{"search a username prefix", "q=U0&sort=username", []string{"u00", "u01", "u02", "u03", "u04", "u05", "u06", "u07", "u08", "u09"}, "Showing 1–10 of 10"},
			{"search an email prefix", "q=plain%40", []string{"plain"}, "of 1"},
			{"search nothing matches", "q=zzz", []string{}, "No users match."},
			{"role editor", "role=editor&sort=username", []string{"u00", "u04", "u08", "u12", "u16", "u20", "u24"}, "of 7"},
			{"role admin", "role=admin", []string{"root"}, "of 1"},
			{"disabled", "active=false&sort=username", []string{"u00", "u05", "u10", "u15", "u20"}, "of 5"},
			{"disabled, verified", "active=false&verified=true&sort=username", []string{"u00", "u15"}, "of 2"},
			{"editors, verified, search", "q=u&role=editor&verified=true&sort=-username", []string{"u24", "u12", "u00"}, "of 3"},
			{"by username, page 1", "sort=username&per_page=5", []string{"plain", "root", "u00", "u01", "u02"}, "Showing 1–5 of 27"},
			{"by username, page 2", "sort=username&per_page=5&page=2", []string{"u03", "u04", "u05", "u06", "u07"}, "Showing 6–10 of 27"},
			{"by username, last page", "sort=username&per_page=5&page=6", []string{"u23", "u24"}, "Showing 26–27 of 27"},
			{"by username, reversed", "sort=-username&per_page=3", []string{"u24", "u23", "u22"}, "of 27"},
			{"by email", "sort=email&per_page=2", []string{"plain", "root"}, "of 27"},
			{"newest first (default)", "per_page=2", []string{"u24", "u23"}, "of 27"},
			{"oldest first", "sort=created_at&per_page=2", []string{"root", "plain"}, "of 27"},
			{"past the end", "page=9&per_page=5", []string{}, "There are no users on this page."},
		} {
			r := env.do(admin, "GET", "/admin/users?"+tc.query, nil)
			if r.status != 200 {
				t.Errorf("%s: GET /admin/users?%s = %d", tc.name, tc.query, r.status)
				continue
			}
			if d := cmp.Diff(tc.want, rowUsernames(r.body)); d != "" {
				t.Errorf("%s: GET /admin/users?%s users (-want +got):\n%s", tc.name, tc.query, d)
			}
			if !strings.Contains(r.body, tc.showing) {
				t.Errorf("%s: GET /admin/users?%s does not say %q", tc.name, tc.query, tc.showing)
			}
		}

		// Paging links keep the filters and sort; the headings sort.
		r := env.do(admin, "GET", "/admin/users?sort=username&per_page=5&page=2&role=user", nil)
		for _, want := range []string{
			`rel="prev" href="/admin/users?per_page=5&amp;role=user&amp;sort=username"`,
			`rel="next" href="/admin/users?page=3&amp;per_page=5&amp;role=user&amp;sort=username"`,
			`aria-sort="ascending"><a href="/admin/users?per_page=5&amp;role=user&amp;sort=-username">Username`,
			`<a href="/admin/users?per_page=5&amp;role=user&amp;sort=email">Email`,
			`Page 2 of 6`,
			`<option value="user" selected>user</option>`,
		} {
			if !strings.Contains(r.body, want) {
				t.Errorf("users page 2 lacks %s", want)
			}
		}
		if r := env.do(admin, "GET", "/admin/users?sort=username&per_page=5&page=6", nil); strings.Contains(r.body, `rel="next"`) {
			t.Error("the last page links to a next one")
		}
		if r := env.do(admin, "GET", "/admin/users", nil); !strings.Contains(r.body, `aria-sort="descending"><a href="/admin/users?sort=created_at">Created`) {
			t.Error("the default order is not marked on the Created heading")
		}
	})
}

// The audit log page filters by user (username, email or ID) and type, and
// pages newest first.
func TestAdminAuditPage(t *testing.T) {
	forEachAdminBackend(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		admin, _, adminID, userID := adminEnv(t, env)
		t0 := time.Now().Add(-time.Hour)
		for i := range 60 {
			e := &auth.Event{Type: auth.EventLoginFailed, TargetID: userID, IP: "192.0.2.7",
				Data: map[string]string{"reason": "wrong password", "n": fmt.Sprint(i)}, CreatedAt: t0.Add(time.Duration(i) * time.Second)}
			if err := env.store.AppendEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		env.accounts.SetEmailVerified(ctx, &auth.User{ID: adminID}, userID, true)

		r := env.do(admin, "GET", "/admin/audit?user=plain&type=login.failed", nil)
		if r.status != 200 || strings.Count(r.body, "<code>login.failed</code>") != 50 || !strings.Contains(r.body, "Showing 1–50 of 60, newest first") {
			t.Errorf("audit page 1 for plain's failures = %d, %d rows, want 50 of 60", r.status, strings.Count(r.body, "<code>login.failed</code>"))
		}
		if !strings.Contains(r.body, "n: 59, reason: wrong password") || !strings.Contains(r.body, "192.0.2.7") || !strings.Contains(r.body, "Events by or about plain.") {
			t.Error("audit page lacks the newest event's details, its IP or the user note")
		}
		if !strings.Contains(r.body, `rel="next" href="/admin/audit?page=2&amp;type=login.failed&amp;user=plain"`) {
			t.Error("audit page 1 lacks a link to older events that keeps the filters")
		}
		r = env.do(admin, "GET", "/admin/audit?user=plain%40example.com&type=login.failed&page=2", nil)
		if n := strings.Count(r.body, "<code>login.failed</code>"); n != 10 || !strings.Contains(r.body, "n: 0,") || strings.Contains(r.body, `rel="next"`) {
			t.Errorf("audit page 2 = %d rows, want the 10 oldest and no next link", n)
		}
		// By ID, every type: the change an admin made, with the admin named
		// as actor, and on the next page plain's sign-in and registration.
		r = env.do(admin, "GET", "/admin/audit?user="+userID, nil)
		for _, want := range []string{"<code>email.verified</code>", `<a href="/admin/users/` + adminID + `">root</a>`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("audit of plain by ID lacks %s", want)
			}
		}
		r = env.do(admin, "GET", "/admin/audit?user="+userID+"&page=2", nil)
		for _, want := range []string{"<code>user.registered</code>", "<code>login.succeeded</code>"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("audit page 2 of plain by ID lacks %s", want)
			}
		}
		// Another user's events stay out.
		r = env.do(admin, "GET", "/admin/audit?user=root&type=login.failed", nil)
		if strings.Contains(r.body, "<code>login.failed</code>") || !strings.Contains(r.body, "No events match.") {
			t.Error("root's audit lists plain's failed sign-ins")
		}
		r = env.do(admin, "GET", "/admin/audit?user=ghost", nil)
		if !strings.Contains(r.body, "No account is called ghost now") || !strings.Contains(r.body, "No events match.") {
			t.Errorf("audit for an unknown user does not say so:\n%s", r.body)
		}
		r = env.do(admin, "GET", "/admin/audit?type=user.registered", nil)
		if n := strings.Count(r.body, "<code>user.registered</code>"); n != 2 || !strings.Contains(r.body, `id="type" name="type" value="user.registered"`) {
			t.Errorf("audit by type user.registered = %d rows, want 2 with the type in the filter", n)
		}
	})
}

// The dashboard counts users, live sessions, and sign-ins and failures in
// the last 24 hours, and charts the week per hour.
func TestAdminDashboard(t *testing.T) {
	forEachAdminBackend(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		admin, _, _, userID := adminEnv(t, env) // two sign-ins, two sessions
		for range 3 {
			login(env, nil, "plain", "not the password")
		}
		// Two days ago: in the chart, not in the 24-hour counts.
		old := time.Now().Add(-48 * time.Hour)
		for _, typ := range []string{auth.EventLoginSucceeded, auth.EventLoginFailed, auth.EventLogout} {
			env.store.AppendEvent(ctx, &auth.Event{Type: typ, TargetID: userID, CreatedAt: old})
		}
		// Eight days ago: in neither.
		env.store.AppendEvent(ctx, &auth.Event{Type: auth.EventLoginSucceeded, TargetID: userID, CreatedAt: time.Now().Add(-8 * 24 * time.Hour)})
		// An expired session does not count.
		env.store.CreateSession(ctx, &auth.Session{TokenHash: auth.HashSecret("old"), UserID: userID,
			CreatedAt: old, ExpiresAt: old.Add(time.Hour)})

		r := env.do(admin, "GET", "/admin", nil)
		for _, want := range []string{
			`id="stat-users">2<`, `id="stat-sessions">2<`, `id="stat-signins">2<`, `id="stat-failures">3<`,
			`<svg class="chart" viewBox="0 0 720 260" role="img" aria-labelledby="signin-chart-title signin-chart-desc"`,
			`: 3 sign-ins (at most 2 in one hour`, `; 4 failed sign-ins (at most 3 in one hour`,
			`<caption id="days-caption">`,
		} {
			if !strings.Contains(r.body, want) {
				t.Errorf("dashboard lacks %s", want)
			}
		}
		if strings.Count(r.body, "<polyline") != 2 {
			t.Errorf("dashboard chart has %d lines, want 2", strings.Count(r.body, "<polyline"))
		}
		if strings.Contains(r.body, "style=") {
			t.Error("dashboard has a style attribute, which the CSP refuses")
		}
	})
}

// API keys: made on the page and shown once, listed without the secret,
// usable on the admin API, and dead after revoking.
func TestAdminAPIKeysPage(t *testing.T) {
	forEachAdminBackend(t, func(t *testing.T, env *testEnv) {
		admin, _, _, _ := adminEnv(t, env)
		expires := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
		r := env.postForm(admin, "/admin/api-keys", url.Values{"name": {"billing backend"}, "scopes": {"admin", "introspect"}, "expires_on": {expires}})
		key := regexp.MustCompile(`value="(gh_[A-Za-z0-9_-]{43})"`).FindStringSubmatch(r.body)
		if r.status != http.StatusCreated || key == nil || !strings.Contains(r.body, "it is shown this once") {
			t.Fatalf("POST /admin/api-keys = %d, want 201 showing the key once:\n%s", r.status, r.body)
		}
		secret := key[1]
		if strings.Count(r.body, secret) != 1 {
			t.Errorf("the new key appears %d times on its page, want once", strings.Count(r.body, secret))
		}
		list := env.do(admin, "GET", "/admin/api-keys", nil)
		if list.status != 200 || strings.Contains(list.body, secret) || strings.Contains(list.body, secret[len(secret)-20:]) {
			t.Errorf("the list page shows the secret (status %d)", list.status)
		}
		for _, want := range []string{">billing backend<", "<code>" + secret[:9] + "…</code>", `<span class="badge">admin</span>`,
			`<span class="badge">introspect</span>`, "by root", `<td class="nowrap" data-label="Last used">never</td>`, time.Now().AddDate(0, 1, 1).Format("2 Jan 2006") + " 00:00 UTC"} {
			if !strings.Contains(list.body, want) {
				t.Errorf("the key list lacks %s", want)
			}
		}

		// The key works on the admin API, and the list then shows its use.
		if r := env.do(nil, "GET", "/api/admin/users", nil, "Authorization", "Bearer "+secret); r.status != 200 || !strings.Contains(r.body, `"total":2`) {
			t.Errorf("GET /api/admin/users with the new key = %d %s, want 200", r.status, r.body)
		}
		if r := env.do(admin, "GET", "/admin/api-keys", nil); strings.Contains(r.body, `<td class="nowrap" data-label="Last used">never</td>`) {
			t.Error("the key list does not show when the key was used")
		}

		// Revoke.
		keys, _ := env.store.FindAPIKeys(context.Background())
		if len(keys) != 1 {
			t.Fatalf("%d keys stored, want 1", len(keys))
		}
		r = env.postForm(admin, "/admin/api-keys/"+keys[0].ID+"/revoke", nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/api-keys" {
			t.Fatalf("POST revoke = %d to %q", r.status, r.header.Get("Location"))
		}
		if r := env.do(admin, "GET", "/admin/api-keys", nil); !strings.Contains(r.body, "The API key was revoked.") || strings.Contains(r.body, ">billing backend<") {
			t.Errorf("the list after revoking lacks the notice or still lists the key:\n%s", r.body)
		}
		if r := env.do(nil, "GET", "/api/admin/users", nil, "Authorization", "Bearer "+secret); r.status != http.StatusUnauthorized {
			t.Errorf("GET /api/admin/users with the revoked key = %d, want 401", r.status)
		}

		// Mistakes are shown next to their fields, and nothing is made.
		for _, tc := range []struct {
			name string
			form url.Values
			want string
		}{
			{"no name", url.Values{"scopes": {"admin"}}, `id="name-error">Give the key a name`},
			{"no scope", url.Values{"name": {"x"}}, `id="scopes-error">Choose at least one scope.`},
			{"unknown scope", url.Values{"name": {"x"}, "scopes": {"root"}}, `id="scopes-error">Unknown scope root`},
			{"bad date", url.Values{"name": {"x"}, "scopes": {"admin"}, "expires_on": {"31/12/2030"}}, `id="expires-error">Enter a date such as 2030-12-31.`},
			{"past date", url.Values{"name": {"x"}, "scopes": {"admin"}, "expires_on": {"2001-01-01"}}, `id="expires-error">The expiry must be in the future.`},
		} {
			r := env.postForm(admin, "/admin/api-keys", tc.form)
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, tc.want) || strings.Contains(r.body, `id="new-api-key"`) {
				t.Errorf("%s: POST /admin/api-keys = %d, want 422 with %s", tc.name, r.status, tc.want)
			}
		}
		if r := env.postForm(admin, "/admin/api-keys", url.Values{"name": {"kept"}, "scopes": {"revocations"}, "expires_on": {"bad"}}); !strings.Contains(r.body, `value="kept"`) ||
			!strings.Contains(r.body, `value="revocations" checked`) {
			t.Error("a refused form does not keep what was typed")
		}
		if keys, _ := env.store.FindAPIKeys(context.Background()); len(keys) != 0 {
			t.Errorf("refused forms made %d keys", len(keys))
		}
	})
}

// Admin actions posted from another site are refused by the cross-origin
// protection, and change nothing.
func TestAdminActionsCrossOrigin(t *testing.T) {
	forEachAdminBackend(t, func(t *testing.T, env *testEnv) {
		admin, _, _, userID := adminEnv(t, env)
		for _, path := range []string{
			"/admin/users/" + userID + "/active", "/admin/users/" + userID + "/roles", "/admin/users/" + userID + "/verified",
			"/admin/users/" + userID + "/revoke-sessions", "/admin/users/" + userID + "/delete", "/admin/api-keys",
		} {
			form := url.Values{"active": {"false"}, "roles": {"admin"}, "verified": {"true"}, "name": {"x"}, "scopes": {"admin"}}
			for _, h := range [][]string{
				{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
				{"Sec-Fetch-Site", "same-site"},
				{"Origin", "https://evil.example"},
			} {
				if r := env.postForm(admin, path, form, h...); r.status != http.StatusForbidden {
					t.Errorf("POST %s with %v = %d, want 403", path, h, r.status)
				}
			}
		}
		u, err := env.store.FindUserByID(context.Background(), userID)
		if err != nil || !u.Active || u.EmailVerified || u.HasRole(auth.RoleAdmin) {
			t.Errorf("cross-origin posts changed the user: %+v, %v", u, err)
		}
		if keys, _ := env.store.FindAPIKeys(context.Background()); len(keys) != 0 {
			t.Errorf("cross-origin posts made %d API keys", len(keys))
		}
	})
}

// cappedStore reports FindUsers totals as a store with more users than
// auth.MaxUserCount does.
type cappedStore struct{ store.Store }

func (s cappedStore) FindUsers(ctx context.Context, f auth.UserFilter) ([]*auth.User, int, error) {
	users, _, err := s.Store.FindUsers(ctx, f)
	return users, auth.MaxUserCount + 1, err
}

// Past auth.MaxUserCount matches the table says "10,000+", and pages on
// without a last page.
func TestAdminUsersTableCapped(t *testing.T) {
	env := newEnv(t, cappedStore{storetest.OpenSQLite(t)})
	admin, _, _, _ := adminEnv(t, env)
	r := env.do(admin, "GET", "/admin/users?per_page=1&page=2", nil)
	for _, want := range []string{`id="users-total">(10,000&#43;)<`, "Showing 2–2 of 10,000&#43;", ">Page 2<", `rel="next"`, `rel="prev"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("users table past the count cap lacks %s:\n%s", want, r.body)
		}
	}
	if strings.Contains(r.body, "Page 2 of") {
		t.Error("users table past the count cap names a last page")
	}
}
