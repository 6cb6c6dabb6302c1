package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// Roles that require two-step verification (Config.MFARequiredRoles,
// mfa.required_roles). A user who holds one and has not turned TOTP on can
// sign in, but the session is held to what setting it up needs until they
// do. Exactly these are reachable then:
//
//   - the hosted pages GET /account/mfa, POST /account/mfa/totp/setup and
//     /confirm, GET and POST /account/reauth, and sign-out (GET and
//     POST /logout);
//   - the API's GET /api/me, GET /api/mfa/totp, POST /api/mfa/totp/setup
//     and /confirm, POST /api/auth/logout and /api/auth/logout-all.
//
// Every other route that needs a signed-in user (the account page, the admin
// panel and API, an embedding app's RequireLogin and RequireRole routes)
// answers 403 forbidden, or sends a browser's page request to
// /account/mfa. OptionalLogin treats the user as signed out. No
// gatehouse_token cookie is issued, /session/refresh sends the browser to
// the set-up, refresh tokens are refused, and a JSON API sign-in gets no
// tokens (403): other backends trust tokens, and Gatehouse could not hold
// them to the set-up. Once TOTP is on, the same session goes on normally.
//
// Disabling TOTP is refused to such a user: the role requires it.

var errEnrollmentDue = &auth.Error{Code: auth.EForbidden,
	Message: "Your account's role requires two-step verification. Set it up on your account page (/account/mfa) first."}

var errMFARoleRequires = &auth.Error{Code: auth.EForbidden,
	Message: "Your account's role requires two-step verification, so it cannot be turned off."}

type enrollmentExemptKey struct{}

// enrollmentExempt marks a route that a user with two-step verification to
// set up may reach: it must be outside the handler that checks the
// session.
func enrollmentExempt(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), enrollmentExemptKey{}, true)))
	})
}

// mfaRequiredByRole reports whether u holds a role that requires TOTP.
func (s *Server) mfaRequiredByRole(u *auth.User) bool {
	return s.cfg.TOTP != nil && hasAnyRole(u, s.cfg.MFARequiredRoles)
}

// enrollmentDue reports whether u must set up TOTP before using a session.
// It reads the store only for users whose roles require it; a store failure
// is an error, which callers treat as a refusal.
func (s *Server) enrollmentDue(ctx context.Context, u *auth.User) (bool, error) {
	if !s.mfaRequiredByRole(u) {
		return false, nil
	}
	on, err := s.cfg.TOTP.Enabled(ctx, u.ID)
	return !on, err
}

// enrollmentGate returns errEnrollmentDue when u must set up TOTP first and
// the route is not one of those reachable until then, or the store's error.
func (s *Server) enrollmentGate(r *http.Request, u *auth.User) error {
	if exempt, _ := r.Context().Value(enrollmentExemptKey{}).(bool); exempt {
		return nil
	}
	due, err := s.enrollmentDue(r.Context(), u)
	if err != nil {
		return auth.Internal(err)
	}
	if due {
		return errEnrollmentDue
	}
	return nil
}

// passEnrollmentGate applies enrollmentGate for a handler that answers
// itself: it reports whether the request may go on, and otherwise has
// answered, sending a browser's page request to the set-up.
func (s *Server) passEnrollmentGate(w http.ResponseWriter, r *http.Request, u *auth.User) bool {
	err := s.enrollmentGate(r, u)
	if err == nil {
		return true
	}
	if errors.Is(err, errEnrollmentDue) && !wantsJSONResponse(r) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		http.Redirect(w, r, s.enrollmentURL(s.requestURI(r)), http.StatusSeeOther)
		return false
	}
	s.deny(w, r, err)
	return false
}

// enrollmentURL is the set-up page, coming back to next afterwards.
func (s *Server) enrollmentURL(next string) string {
	u := s.base + "/account/mfa"
	if next = s.safeReturnTo(next); next != "" && next != u {
		u += "?return_to=" + url.QueryEscape(next)
	}
	return u
}
