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

// Handler serves the app with a strict Content-Security-Policy (scripts and
// connections only to itself and Gatehouse, no inline styles), and backend
// under /backend/.
func Handler(gatehouse string, backend http.Handler) http.Handler {
	gatehouse = strings.TrimSuffix(gatehouse, "/")
	page, _ := files.ReadFile("index.html")
	page = []byte(strings.ReplaceAll(string(page), "{{GATEHOUSE_URL}}", gatehouse))
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
