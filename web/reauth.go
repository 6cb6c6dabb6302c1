package web

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
)

// Re-authentication before sensitive changes (ASVS 7.5.1, 7.5.3; security
// checklist SE-08, OA-10). A change that would let whoever holds a session
// keep or widen their hold on the account — linking a provider, turning
// two-step verification on or off — needs a recent sign-in: the session
// must have started within Config.ReauthWindow (10 minutes by default). A
// session restored from a remember-me cookie days later does not qualify,
// nor does a stolen cookie replayed after the owner signed in.
//
// An older session qualifies for one request by carrying the account's
// password (the API's "password" field, the pages' "Your password" field),
// checked under the sign-in rate limits; or it gets a fresh session by
// signing in again: GET/POST /account/reauth takes the password (and offers
// the linked providers to users without one) and replaces the session with
// a new one, whose start is now. Otherwise the change is refused with
// 403 reauth_required, and a page sends the browser to /account/reauth.
//
// requireRecentSignIn is the check; any handler of a sensitive change calls
// it first, with the password the request carries (or "").

var errReauthRequired = &auth.Error{Code: auth.EReauthRequired,
	Message: "For your security, confirm your password or sign in again to make this change."}

// recentSignIn reports whether the request's session started within the
// re-authentication window.
func (s *Server) recentSignIn(r *http.Request) bool {
	sess, ok := SessionFrom(r.Context())
	return ok && time.Since(sess.CreatedAt) <= s.cfg.ReauthWindow
}

// requireRecentSignIn is the re-authentication check. It passes when the
// session is recent, or when password is the account's password; it is
// errReauthRequired without a password, and accounts.ErrReauthPassword (403
// with the field "password") with a wrong one, or 429 while the account's
// sign-in limit is reached.
func (s *Server) requireRecentSignIn(r *http.Request, password string) error {
	if s.recentSignIn(r) {
		return nil
	}
	if password == "" {
		return errReauthRequired
	}
	u, _ := UserFrom(r.Context())
	if err := s.confirmPassword(r, u, password); err != nil {
		return err
	}
	s.cfg.Audit.Record(r.Context(), auth.EventReauthenticated, u.ID, u.ID, map[string]string{"method": "password", "scope": "request"})
	return nil
}

// confirmPassword checks a signed-in user's password under the sign-in
// limits of their username, so that a stolen session cannot guess the
// password faster than the sign-in page allows.
func (s *Server) confirmPassword(r *http.Request, u *auth.User, password string) error {
	ctx := r.Context()
	a := ratelimit.Attempt{Identifier: u.Username, IP: s.clientAddr(r), UserID: u.ID}
	if c, err := r.Cookie(ratelimit.DeviceCookie); err == nil {
		a.DeviceToken = c.Value
	}
	if lim := s.cfg.Limits; lim != nil {
		res, err := lim.Login(ctx, a)
		if err != nil {
			return s.limiterDown(r, "login", err)
		}
		if !res.Allowed {
			return s.limited(res, "login")
		}
	}
	err := s.cfg.Accounts.ConfirmPassword(ctx, u.ID, password)
	if err != nil && s.cfg.Limits != nil && auth.ErrorCode(err) == auth.EForbidden {
		if res, lerr := s.cfg.Limits.LoginFailed(ctx, a); lerr == nil && !res.Allowed {
			return s.limited(res, "login")
		}
	}
	return err
}

// reauthURL is the re-authentication page, coming back to next.
func (s *Server) reauthURL(next string) string {
	u := s.base + "/account/reauth"
	if next = s.safeReturnTo(next); next != "" {
		u += "?return_to=" + url.QueryEscape(next)
	}
	return u
}

// reauthPage is the data of reauth.html.
type reauthPage struct {
	ReturnTo  string
	Error     string
	Password  bool // the account has a password to confirm
	Providers []linkedProvider
}

// linkedProvider is a provider the user has linked, to sign in again with.
type linkedProvider struct {
	Name, DisplayName, Icon string
}

func (s *Server) reauthForm(w http.ResponseWriter, r *http.Request) error {
	return s.renderReauth(w, r, http.StatusOK, "")
}

func (s *Server) renderReauth(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	u, _ := UserFrom(r.Context())
	p := reauthPage{ReturnTo: s.returnTo(r), Error: msg, Password: u.HasPassword()}
	if s.cfg.OAuth != nil {
		ids, err := s.cfg.Accounts.Identities(r.Context(), u.ID)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if pc, ok := s.cfg.OAuth.ProviderConfig(id.Provider); ok && !seen[pc.Name] {
				seen[pc.Name] = true
				p.Providers = append(p.Providers, linkedProvider{Name: pc.Name, DisplayName: pc.DisplayName, Icon: pc.Icon})
			}
		}
	}
	s.render(w, r, status, "reauth.html", p)
	return nil
}

// reauthSubmit confirms the password and replaces the session with a fresh
// one (the old one ends, as at any sign-in), then goes back.
func (s *Server) reauthSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	u, _ := UserFrom(r.Context())
	sess, _ := SessionFrom(r.Context())
	err := s.confirmPassword(r, u, r.PostForm.Get("password"))
	var e *auth.Error
	if errors.As(err, &e) && (e.Code == auth.EForbidden || e.Code == auth.ERateLimited || e.Code == auth.EUnavailable) {
		setRefusalHeaders(w, err)
		return s.renderReauth(w, r, statusOf(e.Code), e.Message)
	}
	if err != nil {
		return err
	}
	if err := s.startBrowserSession(w, r, u, sess.Remember, sess.Method); err != nil {
		return err
	}
	s.cfg.Audit.Record(r.Context(), auth.EventReauthenticated, u.ID, u.ID, map[string]string{"method": "password", "scope": "session"})
	next := s.returnTo(r)
	if next == "" {
		next = s.base + "/account"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// pageReauth answers a page's sensitive change refused for want of a recent
// sign-in by sending the browser to re-authenticate, coming back to next;
// it reports whether it did.
func (s *Server) pageReauth(w http.ResponseWriter, r *http.Request, err error, next string) bool {
	if auth.ErrorCode(err) != auth.EReauthRequired {
		return false
	}
	http.Redirect(w, r, s.reauthURL(next), http.StatusSeeOther)
	return true
}
