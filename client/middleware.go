package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// CookieName is the cookie that carries an access token for backends on the
// same site as Gatehouse.
const CookieName = "gatehouse_token"

// contextKey is the type of the context key under which Require stores the
// verified claims.
type contextKey struct{}

// verified is what Require stores in the request context.
type verified struct {
	by     *Client
	claims *Claims
}

// ClaimsFrom returns the claims that Require (or RequireRole,
// RequirePermission) verified for the request whose context is ctx.
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	v, ok := ctx.Value(contextKey{}).(verified)
	return v.claims, ok
}

// Require returns a handler that serves next only for requests with a valid
// access token, read from the Authorization header (Bearer) or else from the
// gatehouse_token cookie; next finds the claims with ClaimsFrom. Other
// requests get 401 (or, with WithRefreshRedirect, a redirect to refresh the
// cookie), or 503 while the revocation feed is stale.
func (c *Client) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r, ok := c.authenticate(w, r); ok {
			next.ServeHTTP(w, r)
		}
	})
}

// RequireRole returns middleware that serves only requests whose valid token
// grants at least one of roles, answering 403 to others (and what Require
// answers to requests without a valid token). It panics when roles is
// empty, which would be a misconfiguration.
func (c *Client) RequireRole(roles ...string) func(http.Handler) http.Handler {
	if len(roles) == 0 {
		panic("gatehouse client: RequireRole needs at least one role")
	}
	roles = append([]string(nil), roles...)
	return c.requireClaims(func(cl *Claims) bool {
		for _, r := range roles {
			if cl.HasRole(r) {
				return true
			}
		}
		return false
	}, "You do not have a role this requires.")
}

// RequirePermission returns middleware that serves only requests whose valid
// token grants every one of perms, answering 403 to others (and what Require
// answers to requests without a valid token). Unlike roles, which are
// alternatives, the permissions listed are all needed. It panics when perms
// is empty, which would be a misconfiguration.
func (c *Client) RequirePermission(perms ...string) func(http.Handler) http.Handler {
	if len(perms) == 0 {
		panic("gatehouse client: RequirePermission needs at least one permission")
	}
	perms = append([]string(nil), perms...)
	return c.requireClaims(func(cl *Claims) bool {
		for _, p := range perms {
			if !cl.HasPermission(p) {
				return false
			}
		}
		return true
	}, "You do not have a permission this requires.")
}

func (c *Client) requireClaims(allowed func(*Claims) bool, message string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r, ok := c.authenticate(w, r)
			if !ok {
				return
			}
			claims, _ := ClaimsFrom(r.Context())
			if !allowed(claims) {
				writeError(w, http.StatusForbidden, "forbidden", message)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// errAmbiguous reports a request that carries two candidate tokens.
var errAmbiguous = errors.New("gatehouse: more than one token in the request")

// authenticate verifies the request's token and returns the request with
// the claims in its context, or answers the request and returns false.
func (c *Client) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	// Reuse claims this same Client verified in an outer middleware; claims
	// from another Client were checked against another audience.
	if v, ok := r.Context().Value(contextKey{}).(verified); ok && v.by == c {
		return r, true
	}
	raw, fromCookie, err := tokenFrom(r)
	if err == nil && raw == "" {
		if c.redirectToRefresh(w, r) {
			return nil, false
		}
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, http.StatusUnauthorized, "unauthorized", "Sign-in required.")
		return nil, false
	}
	var claims *Claims
	if err == nil {
		claims, err = c.Verify(r.Context(), raw)
	}
	if err != nil {
		c.log.DebugContext(r.Context(), "gatehouse: token refused", "err", err, "path", r.URL.Path)
		switch {
		case errors.Is(err, ErrRevocationStale):
			// Not the token's fault: a 401 would send clients to refresh
			// and retry in vain.
			c.log.WarnContext(r.Context(), "gatehouse: refusing tokens while the revocation feed is stale", "err", err)
			w.Header().Set("Retry-After", "5")
			writeError(w, http.StatusServiceUnavailable, "internal",
				"Sign-in status cannot be checked right now. Try again shortly.")
			return nil, false
		case errors.Is(err, ErrExpired) && fromCookie && c.redirectToRefresh(w, r):
			return nil, false
		}
		// RFC 6750 §3: a request that presented a token learns why it failed.
		msg := "The access token is invalid."
		switch {
		case errors.Is(err, ErrExpired):
			msg = "The access token has expired."
		case errors.Is(err, ErrRevoked):
			msg = "The access token has been revoked."
		}
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+msg+`"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", msg)
		return nil, false
	}
	ctx := context.WithValue(r.Context(), contextKey{}, verified{by: c, claims: claims})
	return r.WithContext(ctx), true
}

// tokenFrom returns the request's token: the Bearer credentials of the
// Authorization header, else the gatehouse_token cookie. It returns "" and
// no error when there is neither. It never reads the URL (RFC 6750 §2.3 is
// not supported: URLs are logged and leak through Referer).
func tokenFrom(r *http.Request) (raw string, fromCookie bool, err error) {
	switch h := r.Header.Values("Authorization"); len(h) {
	case 0:
	case 1:
		// RFC 7235 §2.1: the scheme is case-insensitive. Other schemes
		// are not Gatehouse credentials and are left to other handlers.
		scheme, cred, _ := strings.Cut(h[0], " ")
		if strings.EqualFold(scheme, "Bearer") {
			cred = strings.TrimLeft(cred, " ")
			if cred == "" {
				return "", false, errors.New("gatehouse: empty bearer token")
			}
			return cred, false, nil
		}
	default:
		return "", false, errAmbiguous
	}
	switch cookies := r.CookiesNamed(CookieName); len(cookies) {
	case 0:
		return "", false, nil
	case 1:
		if cookies[0].Value == "" {
			return "", true, nil
		}
		return cookies[0].Value, true, nil
	default:
		// A sibling subdomain can plant a second cookie of this name
		// ("cookie tossing"); which one is meant cannot be told.
		return "", true, errAmbiguous
	}
}

// redirectToRefresh sends a browser navigation to Gatehouse to refresh its
// cookie, when that is configured, and reports whether it did.
func (c *Client) redirectToRefresh(w http.ResponseWriter, r *http.Request) bool {
	if !c.cfg.refreshRedirect || r.Method != http.MethodGet ||
		!strings.Contains(strings.ToLower(strings.Join(r.Header.Values("Accept"), ",")), "text/html") {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	self := scheme + "://" + r.Host + r.URL.RequestURI()
	target := c.base + "/session/refresh?return_to=" + url.QueryEscape(self)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusSeeOther)
	return true
}

// writeError writes Gatehouse's error body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}{code, message})
}
