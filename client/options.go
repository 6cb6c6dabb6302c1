package client

import (
	"log/slog"
	"net/http"
	"time"
)

// Defaults and limits of the options.
const (
	// DefaultLeeway is the clock skew allowed when checking "exp", "nbf" and
	// "iat".
	DefaultLeeway = 30 * time.Second
	// MaxLeeway caps WithLeeway. Gatehouse keeps a retired signing key
	// published for the access token lifetime plus MaxLeeway, so that every
	// token the key signed is verifiable for as long as any verifier accepts
	// it.
	MaxLeeway = 60 * time.Second
	// DefaultRevocationInterval is how often the revocation feed is polled.
	DefaultRevocationInterval = 10 * time.Second
	// DefaultRevocationMaxStaleness is how long Verify keeps accepting tokens
	// after the last successful poll of the revocation feed.
	DefaultRevocationMaxStaleness = 60 * time.Second
)

// An Option configures a Client or a Verifier. Options that concern only a
// Client (HTTP, revocation feed, redirects, logging) are ignored by
// NewVerifier.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	audience        []string
	leeway          time.Duration
	httpClient      *http.Client
	now             func() time.Time
	feedKey         string
	feedInterval    time.Duration
	feedEnabled     bool
	maxStaleness    time.Duration
	refreshRedirect bool
	logger          *slog.Logger
}

func newConfig(opts []Option) config {
	c := config{
		leeway:       DefaultLeeway,
		now:          time.Now,
		feedInterval: DefaultRevocationInterval,
		maxStaleness: DefaultRevocationMaxStaleness,
	}
	for _, o := range opts {
		o.apply(&c)
	}
	c.leeway = min(max(c.leeway, 0), MaxLeeway)
	if c.now == nil {
		c.now = time.Now
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.httpClient == nil {
		c.httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	return c
}

// WithAudience sets the audiences a token must be meant for: its "aud" claim
// must hold at least one of them (RFC 8725 §3.9). The default is the issuer
// URL, which is also Gatehouse's default audience.
func WithAudience(aud ...string) Option {
	aud = append([]string(nil), aud...)
	return optionFunc(func(c *config) { c.audience = aud })
}

// WithLeeway sets the clock skew allowed when checking "exp", "nbf" and
// "iat". The default is DefaultLeeway (30 s); values above MaxLeeway (60 s)
// are reduced to it, and negative ones to zero.
func WithLeeway(d time.Duration) Option {
	return optionFunc(func(c *config) { c.leeway = d })
}

// WithHTTPClient sets the HTTP client that fetches keys and polls the
// revocation feed. The default has a 10 s timeout.
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c *config) { c.httpClient = hc })
}

// WithClock sets the clock that token times and revocation staleness are
// checked against. The default is time.Now. Background polling keeps real
// time.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) { c.now = now })
}

// WithRevocationFeed makes the Client poll Gatehouse for revoked sessions
// every interval (DefaultRevocationInterval, 10 s, when interval is not
// positive), authenticated with apiKey, and refuse their tokens with
// ErrRevoked. See the package documentation for the feed's contract. The
// default is no feed: a revoked session's tokens keep working until they
// expire.
func WithRevocationFeed(apiKey string, interval time.Duration) Option {
	return optionFunc(func(c *config) {
		c.feedEnabled = true
		c.feedKey = apiKey
		if interval > 0 {
			c.feedInterval = interval
		}
	})
}

// WithRevocationMaxStaleness sets how long after the last successful poll of
// the revocation feed Verify keeps accepting tokens; after that it fails
// with ErrRevocationStale. The default is DefaultRevocationMaxStaleness
// (60 s). It must be longer than the poll interval.
func WithRevocationMaxStaleness(d time.Duration) Option {
	return optionFunc(func(c *config) { c.maxStaleness = d })
}

// WithRefreshRedirect, when on, makes the middleware redirect a browser
// navigation without a valid token to Gatehouse's /session/refresh instead of
// answering 401; see the package documentation. The default is off, which
// suits APIs.
func WithRefreshRedirect(on bool) Option {
	return optionFunc(func(c *config) { c.refreshRedirect = on })
}

// WithLogger sets the logger for background failures (key refresh,
// revocation polls) and refused requests (at debug level). The default
// discards.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}
