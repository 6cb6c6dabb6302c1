//go:build e2e

package e2e

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Site is a web server on another origin than Gatehouse's, for scenarios in
// which a page elsewhere acts on a user's browser: cross-site request
// forgery, login forgery, redirects back to an app. It serves whatever the
// scenario gives it and has no security headers of its own, as a hostile
// page would not. NewSite makes one; it stops when the test ends.
type Site struct {
	// URL is http://localhost:<port>. Gatehouse runs on
	// http://127.0.0.1:<port>, and browsers take localhost and 127.0.0.1
	// for different sites, so requests from here are cross-site
	// (Sec-Fetch-Site: cross-site) and carry no SameSite=Lax cookies
	// except on top-level GET navigations: the view of an attacker's site.
	URL string

	// SameSiteURL is the same server as http://127.0.0.1:<port>: another
	// origin than Gatehouse's (the port differs) but the same site, so
	// SameSite cookies go along (Sec-Fetch-Site: same-site): the view of
	// another app on Gatehouse's host, or of a subdomain an attacker took
	// over.
	SameSiteURL string

	mux *http.ServeMux
}

// NewSite starts a Site on a free loopback port.
func NewSite(t testing.TB) *Site {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on a loopback port: %v", err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	s := &Site{
		URL:         "http://localhost:" + port,
		SameSiteURL: "http://127.0.0.1:" + port,
		mux:         http.NewServeMux(),
	}
	// Browsers ask every site for an icon; a 404 would be logged as a page
	// error against the scenario.
	s.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	srv := &http.Server{Handler: s.mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Page serves html as the page at path, an exact path such as "/attack".
func (s *Site) Page(path, html string) {
	pattern := "GET " + path
	if strings.HasSuffix(path, "/") {
		pattern += "{$}" // only the path itself, not the tree below it
	}
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(html))
	})
}

// Handle serves h for pattern, as http.ServeMux.Handle does, for scenarios
// that need more than a fixed page.
func (s *Site) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
}
