// Package web is Gatehouse's HTTP layer: the hosted pages, the JSON API and
// the operational endpoints, with the middleware they share.
//
// Pages and API routes are listed in routes.go. Every response carries the
// security headers of the HTTP contract (a nonce-based Content-Security-Policy,
// nosniff, a strict Referrer-Policy, frame-ancestors 'none', HSTS over https),
// request bodies are capped, and state-changing requests from other origins
// are refused with net/http's CrossOriginProtection (Sec-Fetch-Site, then
// Origin against the public URL and the configured allowed origins). Errors
// are mapped to status codes in one place (errors.go); a 500 never carries
// internals.
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/audit"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
	"github.com/gatehouse-dev/gatehouse/oauthlogin"
	"github.com/gatehouse-dev/gatehouse/passkey"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/session"
	"github.com/gatehouse-dev/gatehouse/totp"
)

// Pinger reports whether a dependency answers, for /readyz.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config configures a Server.
type Config struct {
	// Accounts is the account service. Required.
	Accounts *accounts.Service
	// Sessions manages browser sessions. Required.
	Sessions *session.Manager
	// Audit records security events. Default: nil, recording nothing.
	Audit *audit.Recorder
	// Tokens signs and verifies access tokens. Default: nil, which turns
	// token sign-in off and refuses every bearer token.
	Tokens AccessTokens
	// Passkeys runs WebAuthn ceremonies. Default: nil, which turns passkeys
	// off: the pages offer none, and the ceremony endpoints answer 404.
	Passkeys *passkey.RelyingParty
	// RefreshTTL is the lifetime of refresh tokens and of the sessions behind
	// them. Default: 720h.
	RefreshTTL time.Duration
	// TokenPermissions puts the user's permissions in access tokens.
	// Default: false.
	TokenPermissions bool
	// CookieDomain, when set, makes browser sign-ins also set the
	// gatehouse_token cookie for that domain. Default: "" (no such cookie).
	CookieDomain string
	// Ready lists the dependencies /readyz checks, by name. Default: none.
	Ready map[string]Pinger
	// PublicURL is the URL users reach Gatehouse at. Required.
	PublicURL string
	// AllowedOrigins may send state-changing requests besides the public
	// URL's own origin. Default: none.
	AllowedOrigins []string
	// ProductName is shown on pages. Default: "Gatehouse".
	ProductName string
	// LogoURL is an image shown beside the product name: a path on this
	// server or an https URL. Default: "" (a built-in mark).
	LogoURL string
	// AccentColor (#rrggbb) replaces the colour of buttons and links.
	// Default: "".
	AccentColor string
	// MaxBodyBytes caps request bodies. Default: 64 KiB.
	MaxBodyBytes int64
	// DevMail serves the development mailbox at /dev/mail, which lists the
	// outbox with its links and codes: for development mode only, where no
	// mail server is set up. Default: false (the page is a 404).
	DevMail bool
	// Limits applies the rate limits on sign-ins, registrations, refreshes
	// and guessed tokens, and issues device tokens (limits.go). Default:
	// nil, no limits.
	Limits *ratelimit.Policy
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (limits.go). Default: none; the client is the socket's peer.
	TrustedProxies []netip.Prefix
	// Metrics receives request, sign-in and refusal counts. Default: nil,
	// none.
	Metrics *metrics.Metrics
	// ServeMetrics serves Metrics at /metrics on this handler. Default:
	// false (/metrics is a 404 here; serve it on its own listener).
	ServeMetrics bool
	// OAuth runs sign-ins at outside providers (oauth.go). Default: nil,
	// which turns social sign-in off: no buttons, and /oauth/… is a 404.
	OAuth *oauthlogin.Login
	// Sealer seals the OAuth flow cookie (*masterkey.Key implements it).
	// Required with OAuth.
	Sealer oauthlogin.Sealer
	// TOTP is the second factor (signin_mfa.go, totp.go). Default: nil,
	// which turns two-step verification off: no second step at sign-in,
	// and /api/mfa/… is a 404.
	TOTP *totp.Service
	// MFARequiredRoles are roles whose holders must turn TOTP on before
	// their sessions reach anything but the set-up (enrollment.go).
	// Default: none.
	MFARequiredRoles []string
	// ReauthWindow is how recent a session's sign-in must be for sensitive
	// changes (reauth.go). Default: 10 minutes.
	ReauthWindow time.Duration
	// Logger receives the request log. Default: slog.Default().
	Logger *slog.Logger
}

// Server serves Gatehouse over HTTP. It is safe for concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	public *url.URL
	origin string // scheme://host of the public URL, lowercase
	imgSrc string // the CSP img-src sources
	// formAction is the CSP form-action sources: this origin and the
	// allowed origins, the only other places a sign-in form's redirect
	// (return_to) may lead, which browsers check against form-action too.
	formAction string
	base       string // path prefix of the public URL, without a trailing slash
	https      bool
	pages      map[string]*template.Template
	handler    http.Handler
	patterns   []string // every route pattern, for the API description test
}

// New validates cfg, parses the page templates and builds the routes.
func New(cfg Config) (*Server, error) {
	if cfg.Accounts == nil || cfg.Sessions == nil {
		return nil, errors.New("web: Accounts and Sessions are required")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("web: PublicURL must be an absolute http or https URL")
	}
	if cfg.ProductName == "" {
		cfg.ProductName = "Gatehouse"
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 720 * time.Hour
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.OAuth != nil && cfg.Sealer == nil {
		return nil, errors.New("web: OAuth needs a Sealer for its flow cookie")
	}
	if cfg.ReauthWindow <= 0 {
		cfg.ReauthWindow = 10 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, public: u, https: u.Scheme == "https",
		origin: strings.ToLower(u.Scheme + "://" + u.Host), base: strings.TrimSuffix(u.Path, "/")}
	s.imgSrc = "'self' data:"
	if lu, err := url.Parse(cfg.LogoURL); err == nil && lu.Scheme == "https" && lu.Host != "" {
		s.imgSrc += " https://" + lu.Host
	}
	s.formAction = "'self'"
	for _, o := range cfg.AllowedOrigins {
		if ou, err := url.Parse(o); err == nil && (ou.Scheme == "https" || ou.Scheme == "http") && ou.Host != "" {
			s.formAction += " " + ou.Scheme + "://" + ou.Host
		}
	}
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if s.handler, err = s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// URL returns the absolute public URL of a path such as "/setup/x".
func (s *Server) URL(path string) string {
	return strings.TrimSuffix(s.public.String(), "/") + path
}

// theme serves the configured accent colour as CSS custom properties, so
// pages can be rebranded without inline styles (which the CSP forbids).
func (s *Server) theme(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	if c := s.cfg.AccentColor; c != "" {
		fmt.Fprintf(w, ":root{--gh-accent:%s}\n@media (prefers-color-scheme: dark){:root{--gh-accent:%s}}\n", c, c)
	}
}

// healthz answers while the process is alive; it checks nothing else, so a
// slow database never gets a live process restarted.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz checks every dependency with a short deadline and answers 503 when
// any fails, naming which without the cause (the log has it).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	status := http.StatusOK
	for name, p := range s.cfg.Ready {
		if err := p.Ping(ctx); err != nil {
			checks[name] = "unavailable"
			status = http.StatusServiceUnavailable
			s.log.LogAttrs(ctx, slog.LevelWarn, "readiness check failed", slog.String("check", name), slog.String("error", err.Error()))
			continue
		}
		checks[name] = "ok"
	}
	overall := "ok"
	if status != http.StatusOK {
		overall = "unavailable"
	}
	writeJSON(w, status, map[string]any{"status": overall, "checks": checks})
}
