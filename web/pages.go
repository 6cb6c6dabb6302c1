package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/oauthlogin"
)

//go:embed ui
var uiFiles embed.FS

var (
	notFoundError    = auth.Errorf(auth.ENotFound, "There is nothing here.")
	crossOriginError = auth.Errorf(auth.EForbidden, "This request came from another site and was refused.")
)

// parsePages parses each page template together with the shared layout, once
// at start-up.
func parsePages() (map[string]*template.Template, error) {
	layout, err := template.ParseFS(uiFiles, "ui/templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(uiFiles, "ui/templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(uiFiles, name)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", base, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// view is what the layout needs besides the page's own data.
type view struct {
	Product string
	Logo    string // logo URL, or "" for the built-in mark
	Themed  bool   // an accent colour is configured: link /theme.css
	Nonce   string
	Base    string     // path prefix of every Gatehouse link
	User    *auth.User // the signed-in user, on pages that know one
	Flash   string     // a one-time notice
	// Passkeys says whether passkey ceremonies are on, for the pages that
	// offer them.
	Passkeys bool
	// Mail says whether Gatehouse sends mail (password reset links), and
	// EmailLogin whether sign-in by email is on, for the pages that offer them.
	Mail, EmailLogin bool
	// Providers are the outside providers to offer sign-in buttons for
	// (oauth.go).
	Providers []oauthlogin.ProviderInfo
	// Template names the page's template without .html, on the body as
	// data-page, so that the browser suite can tell which page it shows.
	Template string
	Page     any
}

// render executes a page into a buffer first, so that a template failure
// becomes a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.log.LogAttrs(r.Context(), slog.LevelError, "no such page template", slog.String("page", name))
		http.Error(w, "An internal error occurred.", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	u, _ := UserFrom(r.Context())
	v := view{Product: s.cfg.ProductName, Logo: s.cfg.LogoURL, Themed: s.cfg.AccentColor != "", Nonce: cspNonce(r.Context()), Base: s.base, User: u, Flash: takeFlash(w, r), Passkeys: s.cfg.Passkeys != nil, Page: data, Template: strings.TrimSuffix(name, ".html"),
		Mail: s.cfg.Accounts.MailEnabled(), EmailLogin: s.cfg.Accounts.EmailLoginEnabled(), Providers: s.providers()}
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "render page", slog.String("page", name), slog.String("error", err.Error()))
		http.Error(w, "An internal error occurred.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage is the data of error.html.
type errorPage struct {
	Title   string
	Message string
	// Action and ActionURL offer the way on, when there is a better one
	// than the start page (errorAction).
	Action, ActionURL string
}
