package web

import (
	"net/http"
	"strings"
)

// Cross-origin access to the JSON API (CORS, WHATWG Fetch §3.2).
//
// Only the origins configured in Config.AllowedOrigins get CORS headers, and
// they get them with credentials, since the sign-in SDK's refresh cookie
// travels on its calls. A request from any other origin gets no CORS header
// at all: the browser then keeps the answer from the page, and the
// preflight of a JSON or credentialed call fails before the call is sent.
//
// CORS is not what keeps cookie-authenticated calls safe from cross-site
// request forgery; crossOriginCheck (routes.go) is. It refuses
// state-changing requests whose Origin is neither the public URL's nor an
// allowed one, whatever CORS answered. On top of that, the refresh cookie is
// only read from requests that carry the X-Gatehouse-Refresh-Cookie header,
// and the refresh endpoint trades the session cookie for a token only for
// requests that carry X-Gatehouse-Session-Cookie (sdk.go): custom headers
// that no form or simple request can send, so a page elsewhere would need a
// preflight, which it fails. (Other API endpoints accept the session cookie
// as the contract says, behind the same origin check.)

// corsAllowHeaders are the request headers an allowed origin may send.
const corsAllowHeaders = "Authorization, Content-Type, " + RefreshCookieHeader + ", " + SessionCookieHeader

// corsExposeHeaders are the response headers an allowed origin may read.
const corsExposeHeaders = "Retry-After, WWW-Authenticate, X-Request-Id"

// corsOrigins returns the allowed origins as a set, lowercased as browsers
// send them.
func corsOrigins(list []string) map[string]bool {
	set := make(map[string]bool, len(list))
	for _, o := range list {
		set[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	return set
}

// cors answers preflights and adds CORS headers to API responses for the
// allowed origins. Everything else passes through untouched, so that it
// fails closed: an origin not on the list is never told it may read.
func (s *Server) cors(next http.Handler) http.Handler {
	allowed := corsOrigins(s.cfg.AllowedOrigins)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		if !allowed[strings.ToLower(origin)] {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		next.ServeHTTP(w, r)
	})
}
