package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/audit"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	nonceKey
	routeKey
)

// routeInfo carries the matched route pattern back out to observe, which runs
// before the mux has matched anything.
type routeInfo struct{ pattern string }

// recordRoute wraps the mux so that observe can log the pattern it matched.
func recordRoute(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r) // ServeMux sets r.Pattern on the request it is given
		if ri, ok := r.Context().Value(routeKey).(*routeInfo); ok {
			ri.pattern = r.Pattern
		}
	})
}

// requestID returns the ID of the request in ctx.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// cspNonce returns the Content-Security-Policy nonce of the request in ctx.
func cspNonce(ctx context.Context) string {
	n, _ := ctx.Value(nonceKey).(string)
	return n
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// statusRecorder remembers the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives each request an ID, logs it when done, and turns a panic into
// a generic 500 whose details only the log sees. The log names the route
// pattern, never the raw path, since some paths carry secrets (setup and
// reset links).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := randomToken(12)
		ri := &routeInfo{}
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey, id), routeKey, ri)
		ctx = audit.WithClient(ctx, s.clientIP(r), r.UserAgent())
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.LogAttrs(ctx, slog.LevelError, "panic serving request", slog.String("request_id", id),
					slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
				if rec.status == 0 {
					if wantsJSON(r) {
						s.writeJSONError(rec, r, fmt.Errorf("panic: %v", p))
					} else {
						s.renderError(rec, r, fmt.Errorf("panic: %v", p))
					}
				}
			}
			route := ri.pattern
			if route == "" {
				route = "unmatched"
			}
			s.cfg.Metrics.Request(route, cmp.Or(rec.status, http.StatusOK), time.Since(start))
			s.log.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.Int("status", rec.status),
				slog.Int("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("ip", s.clientIP(r)))
		}()
		next.ServeHTTP(rec, r)
	})
}

// wantsJSON reports whether a request is for the JSON API rather than a page.
func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html")
}

// secure sets the security headers every response carries and caps the
// request body. Pages get a fresh CSP nonce for their few scripts.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce := randomToken(16)
		r = r.WithContext(context.WithValue(r.Context(), nonceKey, nonce))
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-"+nonce+"'; style-src 'self'; "+
			"img-src "+s.imgSrc+"; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action "+s.formAction+"; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if s.https {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		if r.Body != nil && s.cfg.MaxBodyBytes > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// noReferrer marks pages whose URL carries a secret, so that it never leaks
// to another site through the Referer header.
func noReferrer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// clientIP is the client's address as text: the connection's peer, or the
// address trusted proxies forwarded (realIP, in limits.go). Forwarding
// headers are ignored until trusted proxies are configured, because anyone
// can send them.
func (s *Server) clientIP(r *http.Request) string {
	if a := s.realIP(r); a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}
