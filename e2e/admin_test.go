//go:build e2e

package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/e2e"
)

// TestAdminPanel walks an admin through every page of the admin panel, with
// a screenshot of each at both widths, while a user is signed in on another
// browser: the admin makes the user an editor on the user's page, and the
// user's next page shows the new role; the admin disables the user, and the
// user's open session ends on its next request.
func TestAdminPanel(t *testing.T) {
	for _, store := range e2e.Stores() {
		t.Run(string(store), func(t *testing.T) { testAdminPanel(t, store) })
	}
}

// The passwords of the admin scenarios' two accounts.
const (
	adminPassword = "the admin's long password"
	userPassword  = "a long user password"
)

// adminAndUser starts Gatehouse on store with an admin, root, and a user,
// ada, and returns them with a browser for each, ada's signed in already.
func adminAndUser(t *testing.T, store e2e.Store) (h *e2e.Harness, ada *auth.User, admin, user *e2e.Browser) {
	t.Helper()
	h = e2e.Start(t, e2e.WithStore(store))
	h.CreateUser(t, accounts.Registration{Username: "root", Email: "root@example.com", Password: adminPassword, Roles: []string{"user", "admin"}})
	ada = h.CreateUser(t, accounts.Registration{Username: "ada", Email: "ada@example.com", Password: userPassword})
	admin, user = h.Browser(t), h.Browser(t)
	if got := signIn(user, "user-login", "ada", userPassword, false); got != http.StatusOK {
		t.Fatalf("sign in as ada: got status %d, want %d", got, http.StatusOK)
	}
	return h, ada, admin, user
}

func testAdminPanel(t *testing.T, store e2e.Store) {
	h, ada, admin, user := adminAndUser(t, store)

	// The user sees the plain user role.
	if got := strings.Fields(user.Text("#account-roles")); strings.Join(got, " ") != "user" {
		t.Errorf("ada's roles before = %q, want [user]", got)
	}

	// The admin signs in and finds the Admin link.
	if got := signIn(admin, "admin-login", "root", adminPassword, false); got != http.StatusOK {
		t.Fatalf("sign in as root: got status %d, want %d", got, http.StatusOK)
	}
	if got := admin.Submit("#nav-admin"); got != http.StatusOK {
		t.Fatalf("follow the Admin link: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := admin.Location(), h.URL+"/admin"; got != want {
		t.Errorf("the Admin link leads to %s, want %s", got, want)
	}
	if got, want := admin.Text("#stat-users"), "2"; got != want {
		t.Errorf("dashboard user count = %q, want %q", got, want)
	}
	if got, want := admin.Text("#stat-signins"), "2"; got != want {
		t.Errorf("dashboard sign-ins = %q, want %q", got, want)
	}
	if role, _ := admin.Attr("svg.chart", "role"); role != "img" {
		t.Errorf("dashboard chart role = %q, want img", role)
	}
	admin.Screenshot("dashboard")

	// The users table, a search, and the user's page.
	admin.Navigate("/admin/users")
	admin.Screenshot("users")
	admin.Fill("#q", "ad")
	if got := admin.Submit("form.filters button[type=submit]"); got != http.StatusOK {
		t.Fatalf("search users: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := admin.Text("#users-showing"), "Showing 1–1 of 1"; got != want {
		t.Errorf("search for ad shows %q, want %q", got, want)
	}
	admin.Screenshot("users-search")
	if got := admin.Submit(`#users-table a[href$="/admin/users/` + ada.ID + `"]`); got != http.StatusOK {
		t.Fatalf("open ada's page: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := admin.Text("#user-title"), "ada"; got != want {
		t.Errorf("user page heading = %q, want %q", got, want)
	}
	admin.Screenshot("user")

	// Make ada an editor.
	admin.Click("#role-editor")
	if got := admin.Submit("#save-roles"); got != http.StatusOK {
		t.Fatalf("save roles: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := admin.Location(), h.URL+"/admin/users/"+ada.ID; got != want {
		t.Errorf("saving roles leads to %s, want %s", got, want)
	}
	if got := admin.Text("main [role=status]"); !strings.HasPrefix(got, "Roles saved.") {
		t.Errorf("notice after saving roles = %q, want it to start %q", got, "Roles saved.")
	}
	if got := admin.Text("#user-roles"); !strings.Contains(got, "editor") {
		t.Errorf("ada's roles on the admin page = %q, want editor among them", got)
	}
	admin.Screenshot("roles-saved")

	// Ada's next page shows what editors see.
	user.Navigate("/account")
	if got := user.Status(); got != http.StatusOK {
		t.Errorf("ada's account after the role change: got status %d, want %d", got, http.StatusOK)
	}
	if got := strings.Fields(user.Text("#account-roles")); strings.Join(got, " ") != "editor user" {
		t.Errorf("ada's roles after the change = %q, want [editor user]", got)
	}
	user.Screenshot("editor-account")

	// The delete confirmation page, left with Cancel.
	admin.Navigate("/admin/users/" + ada.ID + "/delete")
	if got, want := admin.Text("h1"), "Delete ada?"; got != want {
		t.Errorf("delete page heading = %q, want %q", got, want)
	}
	admin.Screenshot("delete-confirm")
	admin.Navigate("/admin/users/" + ada.ID)

	// Disable ada: her open session ends on its next request.
	if got, want := admin.Text("#toggle-active"), "Disable"; got != want {
		t.Errorf("active button = %q, want %q", got, want)
	}
	if got := admin.Submit("#toggle-active"); got != http.StatusOK {
		t.Fatalf("disable ada: got status %d, want %d", got, http.StatusOK)
	}
	if got := admin.Text("#user-status"); got != "disabled" {
		t.Errorf("ada's status after disabling = %q, want disabled", got)
	}
	admin.Screenshot("disabled")
	user.Navigate("/account")
	if got, want := user.Location(), h.URL+"/login?return_to=%2Faccount"; got != want {
		t.Errorf("ada's next page after disabling is %s, want %s", got, want)
	}
	if c := user.Cookie(sessionCookie); c != nil {
		t.Errorf("ada's browser still holds a %s cookie after being disabled", sessionCookie)
	}
	user.Screenshot("disabled-signed-out")
	u, err := h.Gatehouse.Store().FindUserByID(context.Background(), ada.ID)
	if err != nil || u.Active {
		t.Errorf("FindUserByID(ada) = %+v, %v; want a disabled account", u, err)
	}

	// The audit log shows what happened, filtered by user.
	admin.Navigate("/admin/audit")
	admin.Screenshot("audit")
	admin.Fill("#user", "ada")
	if got := admin.Submit("form.filters button[type=submit]"); got != http.StatusOK {
		t.Fatalf("filter the audit log: got status %d, want %d", got, http.StatusOK)
	}
	if got := admin.Text("#audit-table"); !strings.Contains(got, "role.changed") || !strings.Contains(got, "account.disabled") {
		t.Errorf("ada's audit log lacks role.changed or account.disabled:\n%s", got)
	}
	admin.Screenshot("audit-ada")

	// API keys: made, shown once, listed without the secret.
	admin.Navigate("/admin/api-keys")
	admin.Screenshot("api-keys")
	admin.Fill("#key-name", "billing backend")
	admin.Click("#scope-admin")
	if got := admin.Submit("#create-key"); got != http.StatusCreated {
		t.Fatalf("create an API key: got status %d, want %d", got, http.StatusCreated)
	}
	secret, _ := admin.Attr("#new-api-key", "value")
	if !strings.HasPrefix(secret, accounts.APIKeyPrefix) {
		t.Fatalf("new API key = %q, want one starting %q", secret, accounts.APIKeyPrefix)
	}
	admin.Screenshot("api-key-created")
	admin.Navigate("/admin/api-keys")
	var html string
	admin.Eval(`document.documentElement.outerHTML`, &html)
	if strings.Contains(html, secret) {
		t.Error("the API keys page shows the secret again")
	}
	if got := admin.Text("#keys-table"); !strings.Contains(got, "billing backend") {
		t.Errorf("the key list lacks the new key:\n%s", got)
	}
	admin.Screenshot("api-keys-list")
}
