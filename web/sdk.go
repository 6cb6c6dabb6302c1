package web

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// The sign-in SDK (docs/sdk.md): a script that any page loads from
// Gatehouse to mount the sign-in form, the passkey list and the session
// list, and to hold the user's access token in memory.
//
// gatehouse.mjs is the source, an ES module; gatehouse.js is the same code
// as a classic script that sets window.Gatehouse, generated from it by
// classicSDK (go test ./web -run TestSDKClassicScript -update writes it).
// Both are embedded and served as they are, each at a path that names no
// version (cached for minutes) and at one that names its content hash
// (cached for a year, immutable), which pages pin with Subresource
// Integrity.

//go:embed sdk/gatehouse.mjs sdk/gatehouse.js
var sdkFiles embed.FS

// SDKAsset is one served file of the sign-in SDK.
type SDKAsset struct {
	// Name is the file name: gatehouse.js or gatehouse.mjs.
	Name string
	// Version is the first 12 hex digits of the SHA-256 of the content.
	Version string
	// Integrity is the Subresource Integrity value, "sha384-…".
	Integrity string
	// Size is the size in bytes.
	Size int

	body []byte
	etag string
}

// Path is the versioned path of the asset below the public URL, e.g.
// /sdk/3f2a…/gatehouse.js.
func (a *SDKAsset) Path() string { return "/sdk/" + a.Version + "/" + a.Name }

var sdkAssets = loadSDK()

func loadSDK() map[string]*SDKAsset {
	out := map[string]*SDKAsset{}
	for _, name := range []string{"gatehouse.js", "gatehouse.mjs"} {
		b, err := sdkFiles.ReadFile("sdk/" + name)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		sum := sha256.Sum256(b)
		sri := sha512.Sum384(b)
		v := hex.EncodeToString(sum[:])[:12]
		out[name] = &SDKAsset{Name: name, Version: v, Integrity: "sha384-" + base64.StdEncoding.EncodeToString(sri[:]),
			Size: len(b), body: b, etag: `"` + v + `"`}
	}
	return out
}

// SDK returns the served files of the sign-in SDK, for the admin panel and
// the docs: gatehouse.js first.
func SDK() []*SDKAsset { return []*SDKAsset{sdkAssets["gatehouse.js"], sdkAssets["gatehouse.mjs"]} }

// classicSDK turns the module source into the classic script: the export
// lines go, and the code runs in a function that sets globalThis.Gatehouse.
func classicSDK(mjs []byte) []byte {
	var out bytes.Buffer
	out.WriteString("/* Gatehouse sign-in SDK, classic script: generated from gatehouse.mjs, do not edit. */\n(function () {\n")
	for _, line := range strings.SplitAfter(string(mjs), "\n") {
		if strings.HasPrefix(line, "export ") {
			continue
		}
		out.WriteString(line)
	}
	out.WriteString("globalThis.Gatehouse = Gatehouse;\n})();\n")
	return out.Bytes()
}

// sdkFile serves the SDK at /sdk/{file} (a short cache, so a new binary's
// SDK is picked up within minutes) and /sdk/{version}/{file} (immutable; any
// other version is a 404, never a different file under a pinned name).
// Scripts from any origin may load it: it is public code, and module
// scripts and SRI checks of other origins need CORS.
func (s *Server) sdkFile(w http.ResponseWriter, r *http.Request) {
	a := sdkAssets[r.PathValue("file")]
	v := r.PathValue("version")
	if a == nil || (v != "" && v != a.Version) {
		s.writeJSONError(w, r, notFoundError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("ETag", a.etag)
	if v != "" {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	http.ServeContent(w, r, a.Name, time.Time{}, bytes.NewReader(a.body))
}

// The refresh cookie of the sign-in SDK. A page on another origin must not
// keep a refresh token where its scripts can read it (an XSS there would
// take the whole session), so the SDK asks for it in a cookie instead: it
// sends X-Gatehouse-Refresh-Cookie: 1 to the sign-in endpoints and to
// /api/auth/refresh. Gatehouse then moves the refresh token from the JSON
// answer into gatehouse_refresh (HttpOnly, Path=<base>/api/auth/refresh,
// SameSite=None and Secure over https; SameSite=Lax over plain http, where
// browsers refuse SameSite=None, so on http only a page on the same site,
// e.g. another port of localhost, gets it back), and reads it from there on
// refresh. The header cannot be sent cross-origin without a preflight that
// only allowed origins pass (cors.go), which is what keeps the cookie from
// being used by other sites.
const (
	RefreshCookie       = "gatehouse_refresh"
	RefreshCookieHeader = "X-Gatehouse-Refresh-Cookie"
)

func wantsRefreshCookie(r *http.Request) bool { return r.Header.Get(RefreshCookieHeader) == "1" }

// SessionCookieHeader asks for the SDK's same-site mode. On a sign-in
// endpoint it makes the sign-in start a browser session, as the hosted
// pages do: the gatehouse_session cookie (and gatehouse_token, when a cookie
// domain is configured, for the site's other backends), and an access token
// for the page in the body with no refresh token. On POST /api/auth/refresh
// it trades the session cookie for a new access token (and a new
// gatehouse_token cookie); no live session is 204. The same custom-header
// rule as for the refresh cookie keeps other sites from using it: they
// would need a preflight that only allowed origins pass.
const SessionCookieHeader = "X-Gatehouse-Session-Cookie"

func wantsSessionCookie(r *http.Request) bool { return r.Header.Get(SessionCookieHeader) == "1" }

// issueSessionSignIn ends a sign-in of the SDK's same-site mode: a browser
// session with its cookies, and the page's access token.
func (s *Server) issueSessionSignIn(w http.ResponseWriter, r *http.Request, u *auth.User, o signInOptions) error {
	sess, err := s.beginBrowserSession(w, r, u, o.Remember, o.Method)
	if err != nil {
		return err
	}
	return s.writeSessionToken(w, r, u, sess)
}

// writeSessionToken answers with an access token of sess and no refresh
// token: the session cookie is what keeps the sign-in.
func (s *Server) writeSessionToken(w http.ResponseWriter, r *http.Request, u *auth.User, sess *auth.Session) error {
	at, exp, err := s.accessToken(r, u, sess)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, &tokenResponse{AccessToken: at, TokenType: "Bearer",
		ExpiresIn: int(time.Until(exp).Seconds()), User: u})
	return nil
}

// sessionToken wraps POST /api/auth/refresh. With X-Gatehouse-Session-Cookie
// and without a refresh cookie to use instead (the SDK sends both headers
// when it restores a sign-in, whichever way it was made), it answers from
// the browser session: a new access token, and a fresh gatehouse_token
// cookie for the site's backends; 204 when there is no live session.
func (s *Server) sessionToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !wantsSessionCookie(r) {
			next.ServeHTTP(w, r)
			return
		}
		if wantsRefreshCookie(r) {
			if c, err := r.Cookie(RefreshCookie); err == nil && c.Value != "" {
				if !s.refreshOrFallBack(w, r, next) {
					return
				}
			}
		}
		if err := s.refreshFromSession(w, r); err != nil {
			s.writeJSONError(w, r, err)
		}
	})
}

// refreshOrFallBack refreshes from the refresh cookie and answers, unless
// that cookie turns out dead (invalid_token: expired, or its session ended)
// while the browser has a session cookie too: then the answer is dropped,
// but for the Set-Cookie that clears the dead cookie, and it reports true,
// for the caller to answer from the session instead.
func (s *Server) refreshOrFallBack(w http.ResponseWriter, r *http.Request, next http.Handler) (fallBack bool) {
	if c, err := r.Cookie(SessionCookie); err != nil || c.Value == "" {
		next.ServeHTTP(w, r)
		return false
	}
	buf := &bufferedResponse{header: http.Header{}}
	next.ServeHTTP(buf, r)
	var answer errorBody
	if buf.status == http.StatusUnauthorized && json.Unmarshal(buf.body.Bytes(), &answer) == nil && answer.Error == auth.EInvalidToken {
		for _, c := range buf.header.Values("Set-Cookie") {
			w.Header().Add("Set-Cookie", c)
		}
		return true
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	w.WriteHeader(buf.status)
	w.Write(buf.body.Bytes())
	return false
}

func (s *Server) refreshFromSession(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Tokens == nil {
		return errTokensOff
	}
	sess, u, err := s.sessionFromCookie(w, r)
	if err != nil {
		return err
	}
	if u == nil {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	// No tokens while the user's role requires two-step verification that
	// is not on (enrollment.go): the hosted pages hold them to the set-up.
	if err := s.enrollmentGate(r, u); err != nil {
		return err
	}
	if err := s.setTokenCookie(w, r, u, sess); err != nil {
		return err
	}
	return s.writeSessionToken(w, r, u, sess)
}

func (s *Server) setRefreshCookie(w http.ResponseWriter, value string) {
	c := &http.Cookie{Name: RefreshCookie, Value: value, Path: s.base + "/api/auth/refresh", HttpOnly: true,
		SameSite: http.SameSiteLaxMode}
	if s.https {
		c.Secure, c.SameSite = true, http.SameSiteNoneMode
	}
	if value == "" {
		c.MaxAge, c.Expires = -1, time.Unix(0, 0)
	} else {
		c.MaxAge = int(s.cfg.RefreshTTL.Seconds())
	}
	http.SetCookie(w, c)
}

// bufferedResponse holds a handler's answer so that refreshCookie can move
// the refresh token out of it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// refreshCookie wraps an endpoint that answers with a token pair (a
// sign-in, or the refresh itself when refresh is true). Without the header
// it changes nothing. With it, a refresh reads the token from the cookie
// (no cookie is 204: nothing to restore, which is how the SDK learns at
// load that nobody is signed in, without an error), and a pair's refresh
// token goes into the cookie instead of the body.
func (s *Server) refreshCookie(refresh bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !wantsRefreshCookie(r) {
			next.ServeHTTP(w, r)
			return
		}
		if refresh {
			c, err := r.Cookie(RefreshCookie)
			if err != nil || c.Value == "" {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			body, _ := json.Marshal(refreshRequest{RefreshToken: c.Value})
			r.Body = readCloser{bytes.NewReader(body)}
			r.ContentLength = int64(len(body))
			r.Header.Set("Content-Type", "application/json")
		}
		buf := &bufferedResponse{header: w.Header()}
		next.ServeHTTP(buf, r)
		status := buf.status
		if status == 0 {
			status = http.StatusOK
		}
		body := buf.body.Bytes()
		if status/100 == 2 {
			var fields map[string]json.RawMessage
			if json.Unmarshal(body, &fields) == nil {
				var rt string
				if json.Unmarshal(fields["refresh_token"], &rt) == nil && rt != "" {
					s.setRefreshCookie(w, rt)
					delete(fields, "refresh_token")
					if b, err := json.Marshal(fields); err == nil {
						body = append(b, '\n')
					}
				}
			}
		} else if refresh && (status == http.StatusUnauthorized) {
			s.setRefreshCookie(w, "") // dead: stop sending it
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(status)
		w.Write(body)
	})
}

// clearRefreshCookie wraps sign-out endpoints: on success, the SDK's
// refresh cookie goes too.
func (s *Server) clearRefreshCookie(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantsRefreshCookie(r) {
			s.setRefreshCookie(w, "")
		}
		next.ServeHTTP(w, r)
	})
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// adminSDKPage shows the SDK's URLs and integrity hashes to admins.
type adminSDKPage struct {
	Nav     []navLink
	Assets  []adminSDKAsset
	Origins []string
}

type adminSDKAsset struct {
	*SDKAsset
	Tag string // the HTML that loads it
}

func (s *Server) adminSDK(w http.ResponseWriter, r *http.Request) error {
	p := adminSDKPage{Nav: adminNav("/admin/sdk"), Origins: s.cfg.AllowedOrigins}
	for _, a := range SDK() {
		kind := ""
		if strings.HasSuffix(a.Name, ".mjs") {
			kind = ` type="module"`
		}
		p.Assets = append(p.Assets, adminSDKAsset{SDKAsset: a, Tag: `<script` + kind + ` src="` + s.URL(a.Path()) +
			`" integrity="` + a.Integrity + `" crossorigin="anonymous"></script>`})
	}
	s.render(w, r, http.StatusOK, "admin_sdk.html", p)
	return nil
}
