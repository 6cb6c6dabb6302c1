// Package app is the example single-page app: its page, script and style,
// and the handler that serves them. Command spa runs it; the browser suite
// serves it on a second loopback origin.
package app

import (
	"embed"
	"net/http"
	"strings"
)

//go:embed index.html app.js app.css
var files embed.FS

// Modes of the SDK (docs/sdk.md).
const (
	// SameSite keeps the sign-in in Gatehouse's session cookie; the page
	// calls the backend with no token of its own, and the browser sends the
	// gatehouse_token cookie (Gatehouse needs session.cookie_domain).
	SameSite = "same-site"
	// CrossOrigin keeps the sign-in in Gatehouse's refresh cookie; the page
	// calls the backend with the access token as a bearer token.
	CrossOrigin = "cross-origin"
)

// Handler serves the app with a strict Content-Security-Policy (scripts and
// connections only to itself and Gatehouse, no inline styles), and backend
// under /backend/. mode is SameSite or CrossOrigin.
func Handler(gatehouse, mode string, backend http.Handler) http.Handler {
	gatehouse = strings.TrimSuffix(gatehouse, "/")
	page, _ := files.ReadFile("index.html")
	page = []byte(strings.NewReplacer("{{GATEHOUSE_URL}}", gatehouse, "{{MODE}}", mode).Replace(string(page)))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' "+gatehouse+
			"; connect-src 'self' "+gatehouse+"; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.Handle("GET /app.js", http.FileServerFS(files))
	mux.Handle("GET /app.css", http.FileServerFS(files))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.Handle("/backend/", http.StripPrefix("/backend", backend))
	return mux
}
