// Package gatehouse is what a Go web app imports to run Gatehouse inside
// itself: New opens the store and builds the service from one Config, and
// Handler serves the hosted pages and the JSON API, mounted at the root or
// under a prefix of the app's choosing.
//
// The gatehouse command (cmd/gatehouse) is built on the same package, so an
// embedded Gatehouse and the standalone server behave the same.
package gatehouse

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/audit"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
	"github.com/gatehouse-dev/gatehouse/masterkey"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/session"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/sqlite"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/gatehouse-dev/gatehouse/web"
)

// Config is Gatehouse's configuration; see package config for every key and
// its default.
type Config = config.Config

// DefaultConfig returns the configuration used when nothing else is given.
func DefaultConfig() Config { return config.Default() }

// Gatehouse is a running instance: its store, services and HTTP handler.
type Gatehouse struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time // the clock (WithClock)
	store    store.Store
	key      *masterkey.Key
	accounts *accounts.Service
	sessions *session.Manager
	keys     *token.Keyring
	audit    *audit.Recorder
	web      *web.Server
	stop     context.CancelFunc // ends background work
	done     chan struct{}
	mail     *mailer           // the outbox and its delivery worker
	limits   *ratelimit.Policy // rate limits on mails and codes
	closeRL  func() error      // releases the rate limiter's connection
	hashing  *hashing          // bounds password hashing (scale.go)
	metrics  *metrics.Metrics  // Prometheus metrics (scale.go)
	bus      *redisBus         // session cache invalidation between nodes (sessionbus.go)
}

// Option changes how New builds a Gatehouse.
type Option interface{ apply(*options) }

type options struct {
	logger   *slog.Logger
	now      func() time.Time
	existing bool // OpenExisting
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithLogger sends Gatehouse's logs to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return optionFunc(func(o *options) { o.logger = l }) }

// WithClock replaces time.Now, for tests that move time.
func WithClock(now func() time.Time) Option { return optionFunc(func(o *options) { o.now = now }) }

// OpenExisting makes New never generate a master secret for a SQLite
// database that already exists: when no secret is configured and the data
// directory holds no secret file, it fails, before it writes anything, with
// an error wrapping masterkey.ErrNoSecret. Tools that manage an installation
// use it, so that one pointed at a database from another directory stops
// with that explanation instead of writing a stray secret that cannot open
// what the real one sealed. Where there is no database yet, New makes the
// installation as on a first start (the command line's contract lets
// `gatehouse user create` be the first command run). PostgreSQL databases
// are treated as existing.
func OpenExisting() Option { return optionFunc(func(o *options) { o.existing = true }) }

// existingKey is what OpenExisting checks: the master secret of an existing
// database, or nil when the SQLite database is yet to be created.
func existingKey(cfg Config) (*masterkey.Key, error) {
	if path, err := sqlite.PathFromURL(cfg.DatabaseURL); err == nil {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil // a first start: New creates the installation
		}
	}
	return masterkey.Read(cfg.SecretKey, cfg.DataDir)
}

// New validates cfg, opens and migrates the store, loads (or on first start
// generates) the master secret, and builds the services. Close releases what
// it opened.
func New(cfg Config, opts ...Option) (*Gatehouse, error) {
	o := options{logger: slog.Default(), now: time.Now}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var key *masterkey.Key
	if o.existing {
		var err error
		if key, err = existingKey(cfg); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	g := &Gatehouse{cfg: cfg, log: o.logger, now: o.now, store: st}
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	if len(applied) > 0 {
		o.logger.Info("database migrated", "versions", applied)
	}
	if key == nil {
		var generated bool
		if key, generated, err = masterkey.Load(cfg.SecretKey, cfg.DataDir); err != nil {
			return nil, err
		}
		if generated {
			o.logger.Warn("generated a new master secret; back it up together with the database",
				"file", cfg.DataDir+"/"+masterkey.FileName)
		}
	}
	g.key = key
	recorder := audit.New(st, o.now, o.logger)
	g.audit = recorder
	hasher, err := password.New(password.Params{
		Memory:      uint32(cfg.Password.Argon2MemoryKiB),
		Iterations:  uint32(cfg.Password.Argon2Iterations),
		Parallelism: uint8(cfg.Password.Argon2Parallelism),
	})
	if err != nil {
		return nil, fmt.Errorf("password hashing: %w", err)
	}
	if g.bus, err = newBus(cfg, o.logger); err != nil { // sessionbus.go
		return nil, err
	}
	defer func() {
		if !ok {
			g.bus.close()
		}
	}()
	g.sessions, err = session.New(session.Config{
		Store:           st,
		IdleTimeout:     cfg.Session.IdleTimeout,
		AbsoluteTimeout: cfg.Session.AbsoluteTimeout,
		RememberFor:     cfg.Session.RememberFor,
		TokenTTL:        cfg.Token.AccessTTL,
		Now:             o.now,
		Logger:          o.logger,
		CacheTTL:        sessionCacheTTL,
		Bus:             g.bus.sessionBus(),
	})
	if err != nil {
		return nil, err
	}
	g.bus.start(g.sessions)
	defer func() {
		if !ok {
			g.sessions.Close()
		}
	}()
	if g.mail, err = newMailer(cfg, st, o.logger, o.now); err != nil {
		return nil, err
	}
	if g.limits, g.closeRL, err = newRateLimits(cfg, key); err != nil {
		return nil, fmt.Errorf("rate limits: %w", err)
	}
	defer func() {
		if !ok {
			g.closeRL()
		}
	}()
	g.hashing, g.metrics = newHashing(cfg), metrics.New() // scale.go
	g.watch()
	defer func() {
		if !ok {
			g.hashing.close()
		}
	}()
	g.accounts, err = accounts.New(accounts.Config{
		Email:             emailConfig(cfg, g.mail, g.limits),
		Store:             st,
		Hasher:            g.hashing.hasher(hasher),
		DefaultRoles:      cfg.Users.DefaultRoles,
		MinPasswordLength: cfg.Password.MinLength,
		MaxPasswordLength: cfg.Password.MaxLength,
		MaxPasswordBytes:  password.MaxBytes,
		SetupLinkTTL:      cfg.Setup.LinkTTL,
		Now:               o.now,
		Logger:            o.logger,
		Audit:             recorder,
		Sessions:          g.sessions,
	})
	if err != nil {
		return nil, err
	}
	rotate := cfg.Token.KeyRotation
	if rotate == 0 {
		rotate = -1 // the keyring's "never"
	}
	g.keys, err = token.NewKeyring(ctx, st, key, token.Config{
		Issuer:      cfg.PublicURL,
		Audience:    []string{cfg.TokenAudience()},
		AccessTTL:   cfg.Token.AccessTTL,
		Algorithm:   cfg.Token.Algorithm,
		RotateEvery: rotate,
		Now:         o.now,
		Logger:      o.logger,
	})
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	passkeys, err := newRelyingParty(cfg, st, o.now, o.logger)
	if err != nil {
		return nil, err
	}
	oauth, err := newOAuth(cfg, o.logger, o.now) // gatehouse_oauth.go
	if err != nil {
		return nil, err
	}
	secondFactor, err := newTOTP(cfg, st, key, o.now)
	if err != nil {
		return nil, err
	}
	g.web, err = web.New(web.Config{
		// Social sign-in and two-step verification (gatehouse_oauth.go).
		OAuth:            oauth,
		Sealer:           key,
		TOTP:             secondFactor,
		MFARequiredRoles: cfg.MFA.RequiredRoles,
		ReauthWindow:     cfg.Session.ReauthWindow,

		Passkeys:       passkeys,
		Accounts:       g.accounts,
		Sessions:       g.sessions,
		Audit:          recorder,
		Tokens:         g.keys,
		RefreshTTL:     cfg.Token.RefreshTTL,
		CookieDomain:   cfg.Session.CookieDomain,
		Ready:          readiness(cfg, st, g.limits),
		Limits:         g.limits,
		TrustedProxies: cfg.HTTP.TrustedProxyPrefixes(),
		Metrics:        g.metrics,
		ServeMetrics:   cfg.Metrics.Enabled,
		PublicURL:      cfg.PublicURL,
		AllowedOrigins: cfg.HTTP.AllowedOrigins,
		ProductName:    cfg.ProductName,
		LogoURL:        cfg.UI.LogoURL,
		AccentColor:    cfg.UI.AccentColor,
		MaxBodyBytes:   int64(cfg.HTTP.MaxBodyBytes),
		DevMail:        cfg.DevMode(),
		Logger:         o.logger,
	})
	if err != nil {
		return nil, err
	}
	bg, stop := context.WithCancel(context.Background())
	g.stop, g.done = stop, make(chan struct{})
	go g.background(bg)
	g.mail.start()
	ok = true
	return g, nil
}

// background re-reads the signing keys every minute, so that rotation by
// another node (or by `gatehouse keys rotate`) is picked up and scheduled
// rotation happens, until ctx ends.
func (g *Gatehouse) background(ctx context.Context) {
	defer close(g.done)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	var lastPurge time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			if err := g.keys.Reload(rctx); err != nil && ctx.Err() == nil {
				g.log.Warn("reloading signing keys failed", "error", err)
			}
			// Retention, once an hour. Several nodes doing the same is
			// harmless.
			if time.Since(lastPurge) >= time.Hour {
				lastPurge = time.Now()
				g.purge(ctx, rctx)
			}
			cancel()
		}
	}
}

// purge deletes what is past its retention: audit events older than
// audit.retention, and one-time tokens that expired or were spent long ago
// (every passkey sign-in begun leaves one, finished or not). rctx bounds the
// work; an error is logged unless ctx, the instance's, has ended.
func (g *Gatehouse) purge(ctx, rctx context.Context) {
	if n, err := g.audit.Purge(rctx, g.cfg.Audit.Retention); err != nil && ctx.Err() == nil {
		g.log.Warn("purging old audit events failed", "error", err)
	} else if n > 0 {
		g.log.Info("purged old audit events", "count", n)
	}
	if n, err := g.store.DeleteExpiredTokens(rctx, g.now()); err != nil && ctx.Err() == nil {
		g.log.Warn("purging expired one-time tokens failed", "error", err, "purged", n)
	} else if n > 0 {
		g.log.Info("purged expired one-time tokens", "count", n)
	}
}

// Keys returns the access-token signing keys.
func (g *Gatehouse) Keys() *token.Keyring { return g.keys }

// Handler returns the HTTP handler for every Gatehouse route.
func (g *Gatehouse) Handler() http.Handler { return g.web }

// Config returns the configuration the instance runs with.
func (g *Gatehouse) Config() Config { return g.cfg }

// Logger returns the logger the instance writes to.
func (g *Gatehouse) Logger() *slog.Logger { return g.log }

// Store returns the store, for tools that manage users directly.
func (g *Gatehouse) Store() auth.Store { return g.store }

// Accounts returns the account service.
func (g *Gatehouse) Accounts() *accounts.Service { return g.accounts }

// SetupLink returns a new one-time link that creates the first admin account
// when no active admin exists, or "" when one does.
func (g *Gatehouse) SetupLink(ctx context.Context) (link string, expires time.Time, err error) {
	exists, err := g.accounts.AdminExists(ctx)
	if err != nil || exists {
		return "", time.Time{}, err
	}
	secret, expires, err := g.accounts.CreateSetupLink(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	return g.web.URL("/setup/" + secret), expires, nil
}

// Close stops background work and releases the store.
func (g *Gatehouse) Close() error {
	if g == nil || g.store == nil {
		return errors.New("gatehouse: not open")
	}
	g.stop()
	<-g.done
	g.accounts.Close() // queued mail requests become mails in the outbox
	g.mail.close()     // what is not sent yet waits there for the next start
	g.closeRL()
	g.hashing.close() // waits for hashes in progress
	g.bus.close()
	g.sessions.Close()
	return g.store.Close()
}

// RequireLogin wraps an app's handler so that it runs only for a signed-in
// user, found in the request's context with UserFrom. A browser without a
// session is redirected to the sign-in page, which brings it back afterwards;
// a JSON request gets 401 {"error":"unauthorized"}. A request with an access
// token (Authorization: Bearer) is let through for the token's user while
// its session lives, and otherwise gets 401 invalid_token.
func (g *Gatehouse) RequireLogin(next http.Handler) http.Handler { return g.web.RequireLogin(next) }

// RequireRole is RequireLogin for users holding at least one of roles; other
// signed-in users get 403.
func (g *Gatehouse) RequireRole(roles ...string) func(http.Handler) http.Handler {
	return g.web.RequireRole(roles...)
}

// OptionalLogin puts the signed-in user, if there is one, in the request's
// context and lets every request through.
func (g *Gatehouse) OptionalLogin(next http.Handler) http.Handler { return g.web.OptionalLogin(next) }

// UserFrom returns the signed-in user in a request context that passed
// through RequireLogin or RequireRole.
func UserFrom(ctx context.Context) (*auth.User, bool) { return web.UserFrom(ctx) }

// CurrentUser returns the signed-in user of r, or nil (see UserFrom).
func CurrentUser(r *http.Request) *auth.User {
	u, _ := web.UserFrom(r.Context())
	return u
}
