package web

// The admin panel: server-rendered pages for people with the admin role, with
// no script. Every change goes through the account service, whose guards
// (nobody disables or deletes their own account, the last active admin keeps
// the role) hold here as they do for the JSON API and the command line; a
// guard that refuses shows its message on the page, with the status the
// error maps to, and changes nothing.

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
)

// auditPerPage is the length of a page of the audit log.
const auditPerPage = 50

// Notices after admin actions (see flash.go).
const (
	flashUserEnabled     = "admin_user_enabled"
	flashUserDisabled    = "admin_user_disabled"
	flashRolesSaved      = "admin_roles_saved"
	flashEmailVerified   = "admin_email_verified"
	flashEmailUnverified = "admin_email_unverified"
	flashUserSignedOut   = "admin_user_signed_out"
	flashUserDeleted     = "admin_user_deleted"
	flashAPIKeyRevoked   = "admin_api_key_revoked"
	flashMFAReset        = "admin_mfa_reset"
)

// The admin notices join flashMessages here, beside the pages that set them,
// before anything can read the map.
func init() {
	for k, v := range map[string]string{
		flashUserEnabled:     "The account was enabled.",
		flashUserDisabled:    "The account was disabled and signed out everywhere.",
		flashRolesSaved:      "Roles saved. The user's devices pick them up on their next request.",
		flashEmailVerified:   "The email address is marked verified.",
		flashEmailUnverified: "The email address is marked not verified.",
		flashUserSignedOut:   "The user was signed out on every device.",
		flashUserDeleted:     "The account was deleted.",
		flashAPIKeyRevoked:   "The API key was revoked. It stopped working at once.",
		flashMFAReset:        "Two-step verification is off for this user, who was signed out everywhere and told by mail.",
	} {
		flashMessages[k] = v
	}
}

// eventTypes suggests audit event types for the audit log's filter, which
// takes any type: other parts of Gatehouse add their own.
var eventTypes = []string{
	auth.EventLoginSucceeded, auth.EventLoginFailed, auth.EventLogout, auth.EventUserRegistered,
	auth.EventAdminCreatedBySetup, auth.EventPasswordChanged, auth.EventPasswordUpgraded,
	auth.EventSessionRevoked, auth.EventSessionsRevoked, auth.EventRefreshTokenReused, auth.EventAccessDenied,
	auth.EventRoleChanged, auth.EventAccountDisabled, auth.EventAccountEnabled, auth.EventAccountDeleted,
	auth.EventEmailVerified, auth.EventAPIKeyCreated, auth.EventAPIKeyRevoked, auth.EventRoleCreated, auth.EventRoleDeleted,
	auth.EventTOTPReset,
}

// adminPage serves h to signed-in admins only: a browser without a session
// is sent to sign in, and anyone else gets the 403 page.
func (s *Server) adminPage(h pageHandler) http.Handler {
	return s.RequireRole(auth.RoleAdmin)(s.page(h))
}

// navLink is one entry of the admin pages' own navigation.
type navLink struct {
	Path, Label string
	Current     bool
}

func adminNav(current string) []navLink {
	links := []navLink{{"/admin", "Dashboard", false}, {"/admin/users", "Users", false},
		{"/admin/audit", "Audit log", false}, {"/admin/api-keys", "API keys", false}, {"/admin/sdk", "SDK", false}}
	for i := range links {
		links[i].Current = links[i].Path == current
	}
	return links
}

// dateTime formats a time for the admin pages: always UTC, to the minute.
func dateTime(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04") + " UTC" }

func optionalDateTime(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return dateTime(*t)
}

// --- Dashboard ---

// adminDashboardPage is the data of admin_dashboard.html.
type adminDashboardPage struct {
	Nav                                []navLink
	Users, Sessions, SignIns, Failures string
	Chart                              hourlyChart
}

// chartHours is the span of the dashboard's chart: 7 days.
const chartHours = 7 * 24

func (s *Server) adminDashboard(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	st := s.cfg.Accounts.Store()
	now := time.Now()
	users, err := st.CountUsers(ctx, auth.UserFilter{})
	if err != nil {
		return err
	}
	sessions, err := st.CountActiveSessions(ctx, now)
	if err != nil {
		return err
	}
	types := []string{auth.EventLoginSucceeded, auth.EventLoginFailed}
	day, err := st.CountEventsByHour(ctx, types, now.Add(-24*time.Hour), now)
	if err != nil {
		return err
	}
	sums := map[string]int{}
	for _, c := range day {
		sums[c.Type] += c.Count
	}
	// The chart's last hour is the current one, so it is still filling.
	start := now.UTC().Truncate(time.Hour).Add(-(chartHours - 1) * time.Hour)
	week, err := st.CountEventsByHour(ctx, types, start, now)
	if err != nil {
		return err
	}
	signins, failures := make([]int, chartHours), make([]int, chartHours)
	for _, c := range week {
		i := int(c.Hour.Sub(start) / time.Hour)
		if i < 0 || i >= chartHours {
			continue
		}
		if c.Type == auth.EventLoginSucceeded {
			signins[i] += c.Count
		} else {
			failures[i] += c.Count
		}
	}
	s.render(w, r, http.StatusOK, "admin_dashboard.html", adminDashboardPage{
		Nav: adminNav("/admin"), Users: formatCount(users), Sessions: formatCount(sessions),
		SignIns: formatCount(sums[auth.EventLoginSucceeded]), Failures: formatCount(sums[auth.EventLoginFailed]),
		Chart: hourlyChart{ID: "signin-chart", Title: "Sign-ins and failed sign-ins per hour, last 7 days (UTC)", Start: start,
			Series: []chartSeries{
				{Name: "sign-ins", Class: "chart-signins", Counts: signins},
				{Name: "failed sign-ins", Class: "chart-failures", Dashed: true, Counts: failures},
			}},
	})
	return nil
}

// --- Users table ---

// adminUsersPage is the data of admin_users.html.
type adminUsersPage struct {
	Nav                           []navLink
	Query, Role, Active, Verified string // the filters, as the form sends them
	Sort                          string
	Roles                         []string
	Columns                       []sortColumn
	Users                         []adminUserRow
	Total, Showing, PageLabel     string
	PrevURL, NextURL              string
	Filtered                      bool
}

// sortColumn is a sortable column heading: a link that sorts by it, or
// reverses the order when it is the current one.
type sortColumn struct {
	Label, URL string
	AriaSort   string // "ascending", "descending" or "" (not sorted by it)
}

type adminUserRow struct {
	ID, Username, Email string
	Roles               []string
	Active, Verified    bool
	Created, LastLogin  string
}

// usersQuery is the users table's query string for a filter, sort and page.
func usersQuery(q url.Values, sortBy string, pageNo int) string {
	v := url.Values{}
	for _, k := range []string{"q", "role", "active", "verified", "per_page"} {
		if x := q.Get(k); x != "" {
			v.Set(k, x)
		}
	}
	if sortBy != "" {
		v.Set("sort", sortBy)
	}
	if pageNo > 1 {
		v.Set("page", strconv.Itoa(pageNo))
	}
	if len(v) == 0 {
		return "/admin/users"
	}
	return "/admin/users?" + v.Encode()
}

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request) error {
	f, pageNo, perPage, err := userFilter(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	st := s.cfg.Accounts.Store()
	users, total, err := st.FindUsers(ctx, f)
	if err != nil {
		return err
	}
	roles, err := st.FindRoles(ctx)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p := adminUsersPage{Nav: adminNav("/admin/users"), Query: q.Get("q"), Role: f.Role, Active: q.Get("active"),
		Verified: q.Get("verified"), Sort: f.Sort,
		Filtered: f.Query != "" || f.Role != "" || f.Active != nil || f.EmailVerified != nil}
	for _, role := range roles {
		p.Roles = append(p.Roles, role.Name)
	}
	for _, c := range []struct{ label, key string }{
		{"Username", "username"}, {"Email", "email"}, {"Created", "created_at"}, {"Last sign-in", "last_login_at"},
	} {
		col := sortColumn{Label: c.label, URL: usersQuery(q, c.key, 1)}
		cur := f.Sort
		if cur == "" {
			cur = "-created_at"
		}
		switch cur {
		case c.key:
			col.AriaSort, col.URL = "ascending", usersQuery(q, "-"+c.key, 1)
		case "-" + c.key:
			col.AriaSort = "descending"
		}
		p.Columns = append(p.Columns, col)
	}
	for _, u := range users {
		p.Users = append(p.Users, adminUserRow{ID: u.ID, Username: u.Username, Email: u.Email, Roles: u.Roles,
			Active: u.Active, Verified: u.EmailVerified, Created: u.CreatedAt.UTC().Format("2 Jan 2006"),
			LastLogin: optionalDateTime(u.LastLoginAt, "never")})
	}
	capped := total > auth.MaxUserCount
	p.Total = formatCount(total)
	if capped {
		p.Total = formatCount(auth.MaxUserCount) + "+"
	}
	first := f.Offset + 1
	switch {
	case len(users) == 0:
		p.Showing = "No users match."
		if !p.Filtered {
			p.Showing = "No users yet."
		}
		if pageNo > 1 {
			p.Showing = "There are no users on this page."
		}
	default:
		p.Showing = "Showing " + formatCount(first) + "–" + formatCount(f.Offset+len(users)) + " of " + p.Total
	}
	p.PageLabel = "Page " + formatCount(pageNo)
	if !capped && total > 0 {
		p.PageLabel += " of " + formatCount((total+perPage-1)/perPage)
	}
	if pageNo > 1 {
		p.PrevURL = usersQuery(q, f.Sort, pageNo-1)
	}
	if len(users) == perPage && (capped || f.Offset+perPage < total) {
		p.NextURL = usersQuery(q, f.Sort, pageNo+1)
	}
	s.render(w, r, http.StatusOK, "admin_users.html", p)
	return nil
}

// --- One user ---

// adminUserPage is the data of admin_user.html.
type adminUserPage struct {
	Nav               []navLink
	User              *auth.User
	Self              bool // the admin looking is this user
	TOTP              bool // the user has two-step verification on
	Roles             []roleOption
	Sessions          []sessionView
	Created, LastSeen string
	Events            []auditRow
	Error             string
}

type roleOption struct {
	Name, Description string
	Checked           bool
}

func (s *Server) adminUser(w http.ResponseWriter, r *http.Request) error {
	return s.renderAdminUser(w, r, http.StatusOK, "")
}

// renderAdminUser shows the user page, with msg in an alert when an action
// was refused.
func (s *Server) renderAdminUser(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	ctx := r.Context()
	st := s.cfg.Accounts.Store()
	u, err := st.FindUserByID(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	actor, _ := UserFrom(ctx)
	roles, err := st.FindRoles(ctx)
	if err != nil {
		return err
	}
	sessions, err := s.sessionViews(r, u.ID, "")
	if err != nil {
		return err
	}
	events, _, err := st.FindEvents(ctx, auth.EventFilter{UserID: u.ID, Limit: 10})
	if err != nil {
		return err
	}
	totpOn, err := s.cfg.Accounts.TOTPEnabled(ctx, u.ID)
	if err != nil {
		return err
	}
	p := adminUserPage{Nav: adminNav("/admin/users"), User: u, Self: actor.ID == u.ID, TOTP: totpOn, Sessions: sessions,
		Created: dateTime(u.CreatedAt), LastSeen: optionalDateTime(u.LastLoginAt, "never"), Error: msg}
	p.Events, err = s.auditRows(r, events)
	if err != nil {
		return err
	}
	for _, role := range roles {
		p.Roles = append(p.Roles, roleOption{Name: role.Name, Description: role.Description, Checked: u.HasRole(role.Name)})
	}
	s.render(w, r, status, "admin_user.html", p)
	return nil
}

// adminUserAction runs one change to the user named in the path and, when it
// works, goes back to the user's page with the notice act returns. A refusal
// the admin can act on (a guard, an unknown role) is shown on the user's
// page and changes nothing; anything else is the error page.
func (s *Server) adminUserAction(w http.ResponseWriter, r *http.Request, act func(actor *auth.User, id string) (notice string, err error)) error {
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	actor, _ := UserFrom(r.Context())
	id := r.PathValue("id")
	notice, err := act(actor, id)
	if err != nil {
		return s.refusedOnUserPage(w, r, err)
	}
	setFlash(w, notice)
	http.Redirect(w, r, s.base+"/admin/users/"+url.PathEscape(id), http.StatusSeeOther)
	return nil
}

// refusedOnUserPage shows a refusal on the user's page with its status, or
// passes on an error that is not the admin's to fix (a missing user, a
// failure).
func (s *Server) refusedOnUserPage(w http.ResponseWriter, r *http.Request, err error) error {
	var e *auth.Error
	if errors.As(err, &e) && e.Code != auth.EInternal && e.Code != auth.ENotFound && e.Code != auth.EInvalidRequest {
		return s.renderAdminUser(w, r, statusOf(e.Code), e.Message)
	}
	return err
}

// formBool reads a true/false form field.
func formBool(r *http.Request, name string) (bool, error) {
	b, err := strconv.ParseBool(r.PostForm.Get(name))
	if err != nil {
		return false, auth.Errorf(auth.EInvalidRequest, "The form's %s field must be true or false.", name)
	}
	return b, nil
}

func (s *Server) adminSetActive(w http.ResponseWriter, r *http.Request) error {
	return s.adminUserAction(w, r, func(actor *auth.User, id string) (string, error) {
		active, err := formBool(r, "active")
		if err != nil {
			return "", err
		}
		if _, err := s.cfg.Accounts.SetActive(r.Context(), actor, id, active); err != nil {
			return "", err
		}
		if active {
			return flashUserEnabled, nil
		}
		return flashUserDisabled, nil
	})
}

func (s *Server) adminSetRoles(w http.ResponseWriter, r *http.Request) error {
	return s.adminUserAction(w, r, func(actor *auth.User, id string) (string, error) {
		_, err := s.cfg.Accounts.SetRoles(r.Context(), actor, id, r.PostForm["roles"])
		return flashRolesSaved, err
	})
}

func (s *Server) adminSetVerified(w http.ResponseWriter, r *http.Request) error {
	return s.adminUserAction(w, r, func(actor *auth.User, id string) (string, error) {
		verified, err := formBool(r, "verified")
		if err != nil {
			return "", err
		}
		if _, err := s.cfg.Accounts.SetEmailVerified(r.Context(), actor, id, verified); err != nil {
			return "", err
		}
		if verified {
			return flashEmailVerified, nil
		}
		return flashEmailUnverified, nil
	})
}

func (s *Server) adminRevokeSessions(w http.ResponseWriter, r *http.Request) error {
	return s.adminUserAction(w, r, func(actor *auth.User, id string) (string, error) {
		return flashUserSignedOut, s.cfg.Accounts.RevokeSessions(r.Context(), actor, id)
	})
}

// errResetUnconfirmed refuses a reset whose form lacks the admin's
// confirmation that the user asked for it.
var errResetUnconfirmed = &auth.Error{Code: auth.EValidation,
	Message: "Confirm that you checked the request comes from the user before turning off their two-step verification.",
	Fields:  map[string]string{"confirm": "Confirm that you checked who is asking."}}

// adminResetMFA turns off the user's two-step verification for a user who
// lost their authenticator app and recovery codes (accounts.ResetMFA, which
// ends their sessions and mails them). The form must carry the admin's
// confirmation that they checked, by another channel, that the user asked:
// after the reset the password alone signs in, so this is the moment a
// social engineer would aim for.
func (s *Server) adminResetMFA(w http.ResponseWriter, r *http.Request) error {
	return s.adminUserAction(w, r, func(actor *auth.User, id string) (string, error) {
		if r.PostForm.Get("confirm") != "yes" {
			return "", errResetUnconfirmed
		}
		return flashMFAReset, s.cfg.Accounts.ResetMFA(r.Context(), actor, id)
	})
}

// adminDeletePage is the data of admin_user_delete.html.
type adminDeletePage struct {
	Nav  []navLink
	User *auth.User
	Self bool
}

// adminDeleteConfirm asks before deleting: a GET never changes anything.
func (s *Server) adminDeleteConfirm(w http.ResponseWriter, r *http.Request) error {
	u, err := s.cfg.Accounts.Store().FindUserByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	actor, _ := UserFrom(r.Context())
	s.render(w, r, http.StatusOK, "admin_user_delete.html", adminDeletePage{Nav: adminNav("/admin/users"), User: u, Self: actor.ID == u.ID})
	return nil
}

func (s *Server) adminDeleteUser(w http.ResponseWriter, r *http.Request) error {
	actor, _ := UserFrom(r.Context())
	if err := s.cfg.Accounts.DeleteUser(r.Context(), actor, r.PathValue("id")); err != nil {
		return s.refusedOnUserPage(w, r, err)
	}
	setFlash(w, flashUserDeleted)
	http.Redirect(w, r, s.base+"/admin/users", http.StatusSeeOther)
	return nil
}

// --- Audit log ---

// adminAuditPage is the data of admin_audit.html.
type adminAuditPage struct {
	Nav              []navLink
	User, Type       string // the filters, as typed
	UserNote         string // how the user filter was understood
	Types            []string
	Events           []auditRow
	Showing          string
	PrevURL, NextURL string
}

// auditRow is one event as the admin pages list it.
type auditRow struct {
	Time, TimeISO     string
	Type              string
	Actor, ActorURL   string
	Target, TargetURL string
	IP, Details       string
}

// auditRows describes events, naming the users they mention. Each user is
// looked up once per page; a deleted one is shown by ID.
func (s *Server) auditRows(r *http.Request, events []*auth.Event) ([]auditRow, error) {
	names := map[string]string{} // ID → username, "" for a deleted account
	lookup := func(id string) error {
		if _, ok := names[id]; ok || id == "" {
			return nil
		}
		u, err := s.cfg.Accounts.Store().FindUserByID(r.Context(), id)
		switch {
		case auth.IsNotFound(err):
			names[id] = ""
		case err != nil:
			return err
		default:
			names[id] = u.Username
		}
		return nil
	}
	rows := make([]auditRow, 0, len(events))
	for _, e := range events {
		if err := lookup(e.ActorID); err != nil {
			return nil, err
		}
		if err := lookup(e.TargetID); err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(e.Data))
		for k := range e.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		details := make([]string, 0, len(keys))
		for _, k := range keys {
			details = append(details, k+": "+e.Data[k])
		}
		rows = append(rows, auditRow{
			Time: e.CreatedAt.UTC().Format("2 Jan 2006 15:04:05"), TimeISO: e.CreatedAt.UTC().Format(time.RFC3339),
			Type:  e.Type,
			Actor: displayName(e.ActorID, names[e.ActorID]), ActorURL: userURL(e.ActorID, names[e.ActorID]),
			Target: displayName(e.TargetID, names[e.TargetID]), TargetURL: userURL(e.TargetID, names[e.TargetID]),
			IP: e.IP, Details: strings.Join(details, ", "),
		})
	}
	return rows, nil
}

// displayName is a username, or for a deleted account its ID.
func displayName(id, username string) string {
	switch {
	case id == "":
		return "—"
	case username == "":
		return id + " (deleted)"
	}
	return username
}

// userURL links to a user's admin page while the account exists.
func userURL(id, username string) string {
	if id == "" || username == "" {
		return ""
	}
	return "/admin/users/" + url.PathEscape(id)
}

func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) error {
	pageNo, _, err := paging(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	q := r.URL.Query()
	p := adminAuditPage{Nav: adminNav("/admin/audit"), User: strings.TrimSpace(q.Get("user")), Type: q.Get("type"), Types: eventTypes}
	f := auth.EventFilter{Type: p.Type, Offset: (pageNo - 1) * auditPerPage, Limit: auditPerPage}
	if p.User != "" {
		// An ID, a username or an email; an ID that no account has any more
		// still finds the events of the deleted account.
		u, err := findUserByRef(r, s.cfg.Accounts.Store(), p.User)
		switch {
		case err != nil:
			return err
		case u != nil:
			f.UserID = u.ID
			p.UserNote = "Events by or about " + u.Username + "."
		default:
			f.UserID = p.User
			p.UserNote = "No account is called " + p.User + " now; showing events with that ID."
		}
	}
	events, total, err := s.cfg.Accounts.Store().FindEvents(ctx, f)
	if err != nil {
		return err
	}
	if p.Events, err = s.auditRows(r, events); err != nil {
		return err
	}
	switch {
	case len(events) == 0 && pageNo > 1:
		p.Showing = "There are no events on this page."
	case len(events) == 0:
		p.Showing = "No events match."
	default:
		p.Showing = "Showing " + formatCount(f.Offset+1) + "–" + formatCount(f.Offset+len(events)) + " of " + formatCount(total) + ", newest first"
	}
	link := func(n int) string {
		v := url.Values{}
		if p.User != "" {
			v.Set("user", p.User)
		}
		if p.Type != "" {
			v.Set("type", p.Type)
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return "/admin/audit"
		}
		return "/admin/audit?" + v.Encode()
	}
	if pageNo > 1 {
		p.PrevURL = link(pageNo - 1)
	}
	if f.Offset+len(events) < total {
		p.NextURL = link(pageNo + 1)
	}
	s.render(w, r, http.StatusOK, "admin_audit.html", p)
	return nil
}

// findUserByRef finds a user by ID, username or email; nobody is (nil, nil).
func findUserByRef(r *http.Request, st auth.Store, ref string) (*auth.User, error) {
	u, err := st.FindUserByID(r.Context(), ref)
	if auth.IsNotFound(err) {
		u, err = st.FindUserByLogin(r.Context(), ref)
	}
	if auth.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}

// --- API keys ---

// scopeHelp says what each API key scope allows.
var scopeHelp = map[string]string{
	auth.ScopeAdmin:       "The admin API: users, roles, API keys and the audit log.",
	auth.ScopeIntrospect:  "Token introspection (POST /api/introspect).",
	auth.ScopeRevocations: "The revocation feed, for services that verify tokens themselves.",
}

// adminAPIKeysPage is the data of admin_api_keys.html.
type adminAPIKeysPage struct {
	Nav    []navLink
	Keys   []apiKeyRow
	Scopes []roleOption // the scope checkboxes
	// The form, as sent, when it was refused.
	Name, Expires string
	Error         string
	Fields        map[string]string
	// NewKey is the secret of the key just created: on the page that
	// answers the creation and never again.
	NewKey, NewKeyName string
}

type apiKeyRow struct {
	ID, Name, Prefix                      string
	Scopes                                []string
	CreatedBy, Created, LastUsed, Expires string
	Expired                               bool
}

func (s *Server) adminAPIKeys(w http.ResponseWriter, r *http.Request) error {
	return s.renderAPIKeys(w, r, http.StatusOK, adminAPIKeysPage{})
}

// renderAPIKeys shows the list and the form, with p's form values, errors or
// new key.
func (s *Server) renderAPIKeys(w http.ResponseWriter, r *http.Request, status int, p adminAPIKeysPage) error {
	ctx := r.Context()
	keys, err := s.cfg.Accounts.Store().FindAPIKeys(ctx)
	if err != nil {
		return err
	}
	p.Nav = adminNav("/admin/api-keys")
	now := time.Now()
	names := map[string]string{}
	for _, k := range keys {
		if _, ok := names[k.CreatedBy]; !ok {
			u, err := s.cfg.Accounts.Store().FindUserByID(ctx, k.CreatedBy)
			if err != nil && !auth.IsNotFound(err) {
				return err
			}
			if u != nil {
				names[k.CreatedBy] = u.Username
			}
		}
		row := apiKeyRow{ID: k.ID, Name: k.Name, Prefix: k.Prefix + "…", Scopes: k.Scopes,
			CreatedBy: displayName(k.CreatedBy, names[k.CreatedBy]), Created: dateTime(k.CreatedAt),
			LastUsed: optionalDateTime(k.LastUsedAt, "never"), Expires: optionalDateTime(k.ExpiresAt, "never")}
		row.Expired = k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)
		p.Keys = append(p.Keys, row)
	}
	checked := map[string]bool{}
	if r.Method == http.MethodPost && p.NewKey == "" {
		for _, sc := range r.PostForm["scopes"] {
			checked[sc] = true
		}
	}
	for _, sc := range accounts.Scopes {
		p.Scopes = append(p.Scopes, roleOption{Name: sc, Description: scopeHelp[sc], Checked: checked[sc]})
	}
	s.render(w, r, status, "admin_api_keys.html", p)
	return nil
}

func (s *Server) adminCreateAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	actor, _ := UserFrom(r.Context())
	name, expiresOn := r.PostForm.Get("name"), strings.TrimSpace(r.PostForm.Get("expires_on"))
	refused := func(e *auth.Error) error {
		return s.renderAPIKeys(w, r, statusOf(e.Code), adminAPIKeysPage{Name: name, Expires: expiresOn,
			Error: "The key was not created.", Fields: e.Fields})
	}
	var expires *time.Time
	if expiresOn != "" {
		day, err := time.Parse("2006-01-02", expiresOn)
		if err != nil {
			return refused(auth.ValidationError(map[string]string{"expires_at": "Enter a date such as 2030-12-31."}))
		}
		// The key works through the whole of the chosen day (UTC).
		end := day.Add(24 * time.Hour)
		expires = &end
	}
	scopes := slices.DeleteFunc(slices.Clone(r.PostForm["scopes"]), func(sc string) bool { return sc == "" })
	k, secret, err := s.cfg.Accounts.CreateAPIKey(r.Context(), actor, name, scopes, expires)
	var e *auth.Error
	if errors.As(err, &e) && e.Code == auth.EValidation {
		return refused(e)
	}
	if err != nil {
		return err
	}
	// Shown once, in this response, which no cache keeps (Cache-Control:
	// no-store on every page); there is no way to show it again.
	return s.renderAPIKeys(w, r, http.StatusCreated, adminAPIKeysPage{NewKey: secret, NewKeyName: k.Name})
}

func (s *Server) adminRevokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	actor, _ := UserFrom(r.Context())
	if err := s.cfg.Accounts.RevokeAPIKey(r.Context(), actor, r.PathValue("id")); err != nil {
		return err
	}
	setFlash(w, flashAPIKeyRevoked)
	http.Redirect(w, r, s.base+"/admin/api-keys", http.StatusSeeOther)
	return nil
}
