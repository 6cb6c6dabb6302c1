package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/client"
	"github.com/gatehouse-dev/gatehouse/session"
)

// SessionCookie is the name of the session cookie (HTTP contract).
const SessionCookie = "gatehouse_session"

type principalKey struct{}

// principal is who made a request.
type principal struct {
	user    *auth.User
	session *auth.Session  // for a cookie or access token
	apiKey  *auth.APIKey   // for an API key
	claims  *client.Claims // for an access token
}

// UserFrom returns the signed-in user that RequireLogin or RequireRole put in
// ctx.
func UserFrom(ctx context.Context) (*auth.User, bool) {
	p, ok := ctx.Value(principalKey{}).(*principal)
	if !ok || p.user == nil {
		return nil, false
	}
	return p.user, true
}

// SessionFrom returns the session of the signed-in user in ctx.
func SessionFrom(ctx context.Context) (*auth.Session, bool) {
	p, ok := ctx.Value(principalKey{}).(*principal)
	if !ok || p.session == nil {
		return nil, false
	}
	return p.session, true
}

func withPrincipal(r *http.Request, p *principal) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
}

// setSessionCookie sends the session cookie: HttpOnly, SameSite=Lax, Path=/,
// Secure whenever the public URL is https; persistent only for remember-me.
func (s *Server) setSessionCookie(w http.ResponseWriter, secret string, sess *auth.Session) {
	c := &http.Cookie{
		Name: SessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: s.https, SameSite: http.SameSiteLaxMode,
	}
	if exp := s.cfg.Sessions.Expires(sess); !exp.IsZero() {
		c.Expires = exp.UTC()
		c.MaxAge = int(time.Until(exp).Seconds())
	}
	http.SetCookie(w, c)
}

// clearSessionCookie tells the browser to forget the session cookie.
func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.https,
		SameSite: http.SameSiteLaxMode, MaxAge: -1, Expires: time.Unix(0, 0)})
}

// sessionFromCookie checks the request's session cookie. A missing or dead
// session is (nil, nil, nil); an error means the check itself failed, and the
// caller must fail closed.
func (s *Server) sessionFromCookie(w http.ResponseWriter, r *http.Request) (*auth.Session, *auth.User, error) {
	// More than one session cookie: one was set for a parent domain, or a
	// narrower path, by a sibling of this host (cookie tossing), to sign the
	// browser in as someone else. Use neither.
	cookies := r.CookiesNamed(SessionCookie)
	if len(cookies) > 1 {
		s.clearSessionCookie(w)
		return nil, nil, nil
	}
	if len(cookies) == 0 || cookies[0].Value == "" {
		return nil, nil, nil
	}
	c := cookies[0]
	sess, u, fresh, err := s.cfg.Sessions.Check(r.Context(), c.Value)
	if err == session.ErrNoSession {
		s.clearSessionCookie(w)
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if fresh != "" {
		s.setSessionCookie(w, fresh, sess)
	}
	return sess, u, nil
}

// loginURL is the sign-in page that brings the browser back to r afterwards.
func (s *Server) loginURL(r *http.Request) string {
	return s.URL("/login") + "?return_to=" + url.QueryEscape(s.requestURI(r))
}

// wantsJSONResponse reports whether a request to an app's route expects JSON
// rather than a page: an API path, a JSON body, or an Accept header that
// prefers JSON.
func wantsJSONResponse(r *http.Request) bool {
	return wantsJSON(r) || strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
		r.Header.Get("X-Requested-With") != ""
}

// RequireLogin lets a request through only with a live session, and puts the
// user in its context (UserFrom). Without one, a browser navigation is
// redirected to the sign-in page with return_to, and a JSON request gets
// 401 {"error":"unauthorized"}. A request with an access token (Authorization:
// Bearer) is judged by the token instead, never redirected. A store failure
// is a 500, never a pass.
func (s *Server) RequireLogin(next http.Handler) http.Handler {
	return s.requireRoles(nil, next)
}

// RequireRole is RequireLogin that also needs one of the roles: a signed-in
// user without any of them gets 403.
func (s *Server) RequireRole(roles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return s.requireRoles(roles, next) }
}

func (s *Server) requireRoles(roles []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b := bearer(r); b != "" && r.Header.Get("Authorization") != "" {
			s.requireRolesByToken(w, r, b, roles, next)
			return
		}
		sess, u, err := s.sessionFromCookie(w, r)
		if err != nil {
			s.deny(w, r, auth.Internal(err))
			return
		}
		if u == nil {
			if !wantsJSONResponse(r) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
				http.Redirect(w, r, s.loginURL(r), http.StatusSeeOther)
				return
			}
			s.deny(w, r, session.ErrNoSession)
			return
		}
		if !s.passEnrollmentGate(w, r, u) { // two-step verification to set up first (enrollment.go)
			return
		}
		if len(roles) > 0 && !hasAnyRole(u, roles) {
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "access denied", slog.String("user_id", u.ID),
				slog.String("reason", "missing role"), slog.Any("roles_needed", roles), slog.String("request_id", requestID(r.Context())))
			s.cfg.Audit.Record(r.Context(), auth.EventAccessDenied, u.ID, u.ID, map[string]string{
				"reason": "missing role", "roles_needed": strings.Join(roles, ","), "path": r.URL.Path})
			// The page shows who is signed in: a 403 is not a sign-out.
			s.deny(w, withPrincipal(r, &principal{user: u, session: sess}), auth.Errorf(auth.EForbidden, "You do not have permission to see this page."))
			return
		}
		next.ServeHTTP(w, withPrincipal(r, &principal{user: u, session: sess}))
	})
}

// requireRolesByToken is requireRoles for a request that carries an access
// token (Authorization: Bearer), as an app's API clients send: the token is
// checked as Gatehouse's JSON API checks it (signature, expiry, a live
// session), and a refusal is JSON, never a redirect. API keys (gh_…) are for
// Gatehouse's admin API and are not accepted here.
func (s *Server) requireRolesByToken(w http.ResponseWriter, r *http.Request, raw string, roles []string, next http.Handler) {
	if strings.HasPrefix(raw, "gh_") {
		s.writeJSONError(w, r, errBadToken)
		return
	}
	p, err := s.bearerPrincipal(r, raw)
	if err == nil {
		err = s.enrollmentGate(r, p.user)
	}
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	if len(roles) > 0 && !hasAnyRole(p.user, roles) {
		s.cfg.Audit.Record(r.Context(), auth.EventAccessDenied, p.user.ID, p.user.ID, map[string]string{
			"reason": "missing role", "roles_needed": strings.Join(roles, ","), "path": r.URL.Path})
		s.writeJSONError(w, r, auth.Errorf(auth.EForbidden, "You do not have permission to see this page."))
		return
	}
	next.ServeHTTP(w, withPrincipal(r, p))
}

// OptionalLogin puts the signed-in user, if any, in the request's context and
// lets every request through: for pages that look different to signed-in
// users but are open to all.
func (s *Server) OptionalLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b := bearer(r); b != "" && r.Header.Get("Authorization") != "" && !strings.HasPrefix(b, "gh_") {
			// An access token: its user, if it is good; anonymous if not.
			if p, err := s.bearerPrincipal(r, b); err == nil && s.enrollmentGate(r, p.user) == nil {
				r = withPrincipal(r, p)
			}
			next.ServeHTTP(w, r)
			return
		}
		sess, u, err := s.sessionFromCookie(w, r)
		// A user with two-step verification to set up counts as signed out
		// here (enrollment.go).
		if err == nil && u != nil && s.enrollmentGate(r, u) == nil {
			r = withPrincipal(r, &principal{user: u, session: sess})
		}
		next.ServeHTTP(w, r)
	})
}

func hasAnyRole(u *auth.User, roles []string) bool {
	for _, r := range roles {
		if u.HasRole(r) {
			return true
		}
	}
	return false
}

// deny answers with err as JSON or as a page, whichever the request expects.
func (s *Server) deny(w http.ResponseWriter, r *http.Request, err error) {
	if wantsJSONResponse(r) {
		s.writeJSONError(w, r, err)
		return
	}
	s.renderError(w, r, err)
}
