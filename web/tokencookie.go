package web

import (
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/client"
)

// TokenCookie is the cookie that shares a short-lived access token with other
// backends on the same site (HTTP contract); only set when a cookie domain is
// configured.
const TokenCookie = client.CookieName

// setTokenCookie signs an access token for a browser session and sets it in
// the gatehouse_token cookie for the configured domain: HttpOnly, so scripts
// on the site cannot read it; SameSite=Lax; Secure over https; expiring with
// the token.
func (s *Server) setTokenCookie(w http.ResponseWriter, r *http.Request, u *auth.User, sess *auth.Session) error {
	if s.cfg.CookieDomain == "" || s.cfg.Tokens == nil {
		return nil
	}
	// None while the user's role requires two-step verification that is
	// not on (enrollment.go): other backends would trust it.
	if due, err := s.enrollmentDue(r.Context(), u); err != nil || due {
		return err
	}
	at, exp, err := s.accessToken(r, u, sess)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: TokenCookie, Value: at, Domain: s.cfg.CookieDomain, Path: "/",
		HttpOnly: true, Secure: s.https, SameSite: http.SameSiteLaxMode, Expires: exp.UTC(), MaxAge: int(time.Until(exp).Seconds())})
	return nil
}

func (s *Server) clearTokenCookie(w http.ResponseWriter) {
	if s.cfg.CookieDomain == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: TokenCookie, Value: "", Domain: s.cfg.CookieDomain, Path: "/",
		HttpOnly: true, Secure: s.https, SameSite: http.SameSiteLaxMode, MaxAge: -1, Expires: time.Unix(0, 0)})
}

// sessionRefresh re-issues gatehouse_token from a live session and sends the
// browser back: backends on the same site send a browser here when its token
// has expired (client.WithRefreshRedirect). Without a session, the browser
// goes to sign in first and comes back here afterwards.
func (s *Server) sessionRefresh(w http.ResponseWriter, r *http.Request) error {
	sess, u, err := s.sessionFromCookie(w, r)
	if err != nil {
		return err
	}
	if u == nil {
		http.Redirect(w, r, s.loginURL(r), http.StatusSeeOther)
		return nil
	}
	if !s.passEnrollmentGate(w, r, u) { // to the set-up of two-step verification first
		return nil
	}
	if s.cfg.CookieDomain == "" {
		return auth.Errorf(auth.ENotFound, "Token cookies are not enabled on this server (set session.cookie_domain).")
	}
	if err := s.setTokenCookie(w, r, u, sess); err != nil {
		return err
	}
	next := s.safeReturnTo(r.URL.Query().Get("return_to"))
	if next == "" {
		next = s.base + "/account"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
