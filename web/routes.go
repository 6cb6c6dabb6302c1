package web

import (
	"io/fs"
	"net/http"
	"strings"
)

// routeMux is a ServeMux that remembers the patterns registered on it, so
// that tests can check every route against the API description.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// routes lists every route Gatehouse serves.
func (s *Server) routes() (http.Handler, error) {
	mux := &routeMux{ServeMux: http.NewServeMux()}
	defer func() { s.patterns = mux.patterns }()
	static, err := fs.Sub(uiFiles, "ui/static")
	if err != nil {
		return nil, err
	}

	// Operations.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)

	// Assets, embedded in the binary.
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheable(http.FileServerFS(static))))
	mux.HandleFunc("GET /theme.css", s.theme)

	// First-start setup of the first admin account.
	mux.Handle("GET /setup/{token}", noReferrer(s.page(s.setupForm)))
	mux.Handle("POST /setup/{token}", noReferrer(s.page(s.setupSubmit)))

	// Hosted pages.
	mux.Handle("GET /{$}", s.page(s.home))
	mux.Handle("GET /login", s.page(s.loginForm))
	mux.Handle("POST /login", s.page(s.loginSubmit))
	mux.Handle("GET /register", s.page(s.registerForm))
	mux.Handle("POST /register", s.page(s.registerSubmit))
	mux.Handle("GET /logout", s.page(s.logoutConfirm))
	mux.Handle("POST /logout", s.page(s.logoutSubmit))
	mux.Handle("GET /session/refresh", s.page(s.sessionRefresh))
	mux.Handle("GET /account", s.RequireLogin(s.page(s.account)))
	mux.Handle("POST /account/password", s.RequireLogin(s.page(s.changePasswordSubmit)))
	mux.Handle("POST /account/sessions/{id}/revoke", s.RequireLogin(s.page(s.revokeSessionSubmit)))

	// JSON API.
	mux.Handle("POST /api/auth/register", s.api(s.apiRegister))
	mux.Handle("POST /api/auth/login", s.api(s.apiLogin))
	mux.Handle("POST /api/auth/refresh", s.api(s.apiRefresh))
	mux.Handle("GET /api/auth/revocations", s.api(s.apiRevocations))
	mux.Handle("POST /api/introspect", s.api(s.apiIntrospect))
	mux.HandleFunc("GET /.well-known/jwks.json", s.jwks)
	mux.Handle("POST /api/auth/password", s.apiAuth(s.apiChangePassword))
	mux.Handle("GET /api/me", s.apiAuth(s.apiMe))
	mux.Handle("GET /api/sessions", s.apiAuth(s.apiSessions))
	mux.Handle("DELETE /api/sessions/{id}", s.apiAuth(s.apiRevokeSession))
	mux.Handle("POST /api/auth/logout", s.apiAuth(s.apiLogout))
	mux.Handle("POST /api/auth/logout-all", s.apiAuth(s.apiLogoutAll))

	// Admin JSON API: an admin's session or token, or an API key with the admin scope.
	mux.Handle("GET /api/admin/users", s.adminAuth(s.apiAdminUsers))
	mux.Handle("GET /api/admin/users/{id}", s.adminAuth(s.apiAdminUser))
	mux.Handle("PATCH /api/admin/users/{id}", s.adminAuth(s.apiAdminPatchUser))
	mux.Handle("DELETE /api/admin/users/{id}", s.adminAuth(s.apiAdminDeleteUser))
	mux.Handle("POST /api/admin/users/{id}/revoke-sessions", s.adminAuth(s.apiAdminRevokeSessions))
	mux.Handle("GET /api/admin/roles", s.adminAuth(s.apiAdminRoles))
	mux.Handle("POST /api/admin/roles", s.adminAuth(s.apiAdminCreateRole))
	mux.Handle("DELETE /api/admin/roles/{name}", s.adminAuth(s.apiAdminDeleteRole))
	mux.Handle("GET /api/admin/api-keys", s.adminAuth(s.apiAdminAPIKeys))
	mux.Handle("POST /api/admin/api-keys", s.adminAuth(s.apiAdminCreateAPIKey))
	mux.Handle("DELETE /api/admin/api-keys/{id}", s.adminAuth(s.apiAdminDeleteAPIKey))
	mux.Handle("GET /api/admin/audit", s.adminAuth(s.apiAdminAudit))

	// Everything else: a JSON or HTML 404.
	mux.Handle("/", s.notFound())

	cop := http.NewCrossOriginProtection()
	cop.AddTrustedOrigin(s.public.Scheme + "://" + s.public.Host)
	for _, o := range s.cfg.AllowedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, err
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	return s.observe(s.secure(crossOriginCheck(cop, recordRoute(mux.ServeMux)))), nil
}

// crossOriginCheck refuses state-changing cross-origin requests that a
// browser could have sent with the user's cookie (CSRF). A request that
// carries an Authorization header and no session cookie is exempt: a browser
// never adds such a header on its own, so the credential was the caller's to
// send, and SPAs on allowed origins call the API that way.
func crossOriginCheck(cop *http.CrossOriginProtection, next http.Handler) http.Handler {
	protected := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-API-Key") != "" {
			if _, err := r.Cookie(SessionCookie); err != nil {
				next.ServeHTTP(w, r)
				return
			}
		}
		protected.ServeHTTP(w, r)
	})
}

// cacheable lets browsers cache embedded assets; they change only with the
// binary, and pages reference them with a version query.
func cacheable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := notFoundError
		if wantsJSON(r) {
			s.writeJSONError(w, r, err)
			return
		}
		s.renderError(w, r, err)
	})
}

// crossOriginDenied answers a state-changing request from another origin.
func (s *Server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	err := crossOriginError
	if wantsJSON(r) || strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		s.writeJSONError(w, r, err)
		return
	}
	s.renderError(w, r, err)
}
