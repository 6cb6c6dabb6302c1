package oidctest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
)

// GitHubUser is the account the GitHub fake signs in as: the fields of
// GET /user that Gatehouse reads.
type GitHubUser struct {
	// ID is the numeric user ID, the subject of the identity.
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Name  string `json:"name,omitempty"`
	// Email is the public profile email, which GitHub does not promise is
	// verified; null in JSON when empty.
	Email string `json:"-"`
}

// GitHubEmail is one entry of GET /user/emails.
type GitHubEmail struct {
	// Email is the address; Primary and Verified are GitHub's flags.
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
	// Visibility is "public", "private" or "" (JSON null).
	Visibility string `json:"-"`
}

// GitHubOptions configures a GitHub fake.
type GitHubOptions struct {
	// ClientID is the OAuth app's client ID. Default: "gatehouse-github".
	ClientID string
	// ClientSecret is its secret. Default: "gatehouse-github-secret".
	ClientSecret string
}

// GitHub is a GitHub-shaped OAuth server on 127.0.0.1: the web flow
// (/login/oauth/authorize, /login/oauth/access_token) and the two REST
// endpoints a sign-in needs (/user, /user/emails), on one base URL. Like
// GitHub, the token endpoint answers form-encoded unless asked for JSON, and
// reports errors with status 200.
type GitHub struct {
	// URL is the base URL of every endpoint (the web and API hosts of the
	// real GitHub are one here).
	URL string
	// ClientID and ClientSecret are the OAuth app's.
	ClientID     string
	ClientSecret string

	*authz
	srv *httptest.Server

	mu     sync.Mutex
	user   GitHubUser
	emails []GitHubEmail
	deny   bool
	access map[string]struct{}
}

// NewGitHub starts a GitHub fake; Close stops it. The default user is
// octocat (ID 583231) with the verified primary address
// octocat@example.com.
func NewGitHub(opts GitHubOptions) *GitHub {
	if opts.ClientID == "" {
		opts.ClientID = "gatehouse-github"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "gatehouse-github-secret"
	}
	g := &GitHub{
		ClientID:     opts.ClientID,
		ClientSecret: opts.ClientSecret,
		authz:        newAuthz(opts.ClientID, opts.ClientSecret, nil),
		user:         GitHubUser{ID: 583231, Login: "octocat", Name: "The Octocat"},
		emails:       []GitHubEmail{{Email: "octocat@example.com", Primary: true, Verified: true, Visibility: "private"}},
		access:       map[string]struct{}{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", g.authorizeHandler)
	mux.HandleFunc("/login/oauth/access_token", g.token)
	mux.HandleFunc("GET /user", g.userHandler)
	mux.HandleFunc("GET /user/emails", g.emailsHandler)
	g.srv = httptest.NewServer(mux)
	g.URL = g.srv.URL
	return g
}

// Close stops the fake.
func (g *GitHub) Close() { g.srv.Close() }

// AuthURL is the authorization endpoint.
func (g *GitHub) AuthURL() string { return g.URL + "/login/oauth/authorize" }

// TokenURL is the token endpoint.
func (g *GitHub) TokenURL() string { return g.URL + "/login/oauth/access_token" }

// SetUser makes the fake sign in as u, with these addresses, from now on.
func (g *GitHub) SetUser(u GitHubUser, emails ...GitHubEmail) {
	g.mu.Lock()
	g.user, g.emails = u, emails
	g.mu.Unlock()
}

// SetDeny makes the fake answer authorization requests with
// error=access_denied, as when the user clicks Cancel.
func (g *GitHub) SetDeny(deny bool) {
	g.mu.Lock()
	g.deny = deny
	g.mu.Unlock()
}

func (g *GitHub) authorizeHandler(w http.ResponseWriter, r *http.Request) {
	req, err := g.authorize(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	deny := g.deny
	g.mu.Unlock()
	params := url.Values{"state": {req.State}}
	if deny {
		params.Set("error", "access_denied")
		params.Set("error_description", "The user has denied your application access.")
	} else {
		params.Set("code", g.issueCode(req, nil))
	}
	redirect(w, r, req.RedirectURI, params)
}

func (g *GitHub) token(w http.ResponseWriter, r *http.Request) {
	_, oerr := g.redeem(r)
	var body url.Values
	if oerr != nil {
		body = url.Values{"error": {oerr.code}, "error_description": {oerr.description}}
	} else {
		at := "gho_" + random()
		g.mu.Lock()
		g.access[at] = struct{}{}
		g.mu.Unlock()
		body = url.Values{"access_token": {at}, "token_type": {"bearer"}, "scope": {"read:user,user:email"}}
	}
	// GitHub answers 200 even for errors, with the error in the body.
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		flat := map[string]string{}
		for k := range body {
			flat[k] = body.Get(k)
		}
		writeJSON(w, http.StatusOK, flat)
		return
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.Write([]byte(body.Encode()))
}

func (g *GitHub) authorized(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	at, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		at, ok = strings.CutPrefix(h, "token ")
	}
	g.mu.Lock()
	_, known := g.access[at]
	g.mu.Unlock()
	if !ok || !known {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return false
	}
	return true
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (g *GitHub) userHandler(w http.ResponseWriter, r *http.Request) {
	if !g.authorized(w, r) {
		return
	}
	g.mu.Lock()
	u := g.user
	g.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": u.ID, "login": u.Login, "name": nullable(u.Name), "email": nullable(u.Email), "type": "User",
	})
}

func (g *GitHub) emailsHandler(w http.ResponseWriter, r *http.Request) {
	if !g.authorized(w, r) {
		return
	}
	g.mu.Lock()
	emails := g.emails
	g.mu.Unlock()
	out := make([]map[string]any, 0, len(emails))
	for _, e := range emails {
		out = append(out, map[string]any{"email": e.Email, "primary": e.Primary, "verified": e.Verified, "visibility": nullable(e.Visibility)})
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(b)
}
