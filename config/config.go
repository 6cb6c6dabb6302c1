// Package config holds the Gatehouse server's configuration: one Config
// struct, loaded in layers (built-in defaults, then a YAML file, then
// environment variables, then command-line flags) and validated once.
//
// Every key is declared exactly once, as a field of Config (or of one of its
// nested sections) carrying its YAML name, environment variable, flag and a
// one-line description in struct tags; its default lives in Default. The
// loader, the flag set, the error messages and the Markdown reference in
// docs/configuration.md are all derived from that declaration, so adding a key
// is a matter of adding one field with its tags and its default.
//
// Errors are single lines that name where the bad value came from (a file and
// line, an environment variable or a flag) and what is wrong with it. Values
// that hold secrets (the secret key, passwords inside URLs) are never repeated
// in errors, String or LogValue.
//
// The package does not create the data directory, generate the secret key,
// open the database or reach any server; it only describes and checks what
// the rest of Gatehouse will use.
package config

import (
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Config is the whole server configuration. Use Default for a configuration
// with every default filled in, or Load to read one; a Config that has passed
// Validate (which Load always calls) satisfies every rule stated on its fields.
//
// Each field's tags declare its key: yaml is its name in the file (nested under
// its section), env its environment variable, flag its command-line flag, and
// help the one-line description shown in the reference and in --help.
type Config struct {
	// Listen is the TCP address the HTTP server listens on, as host:port.
	// Default "127.0.0.1:8080".
	Listen string `yaml:"listen" env:"GATEHOUSE_LISTEN" flag:"listen" help:"Address the HTTP server listens on, as host:port; an empty host means every interface."`

	// PublicURL is the absolute http or https URL users reach Gatehouse at:
	// the token issuer, the base of links in emails and the WebAuthn origin.
	// It has no query or fragment; Load trims a trailing slash.
	// Default "http://localhost:8080".
	PublicURL string `yaml:"public_url" env:"GATEHOUSE_PUBLIC_URL" flag:"public-url" help:"URL users reach Gatehouse at (token issuer, links in emails, WebAuthn origin); http or https, may include a path prefix."`

	// DatabaseURL selects the store: sqlite://PATH or postgres://…
	// (postgresql:// is accepted too). Default "sqlite://./gatehouse.db".
	DatabaseURL string `yaml:"database_url" env:"GATEHOUSE_DATABASE_URL" flag:"database-url" secret:"url" help:"Database to use: sqlite://PATH (sqlite:///abs/path.db for an absolute path) or postgres://user:pass@host/db."`

	// RedisURL is redis://host:port/db or rediss://… for shared state between
	// several Gatehouse nodes. Default "" (single node, state kept in process).
	RedisURL string `yaml:"redis_url" env:"GATEHOUSE_REDIS_URL" flag:"redis-url" secret:"url" help:"Redis for state shared between nodes (rate limits and the like): redis://host:port/db or rediss://; empty keeps that state in process, for a single node."`

	// SMTPURL is smtp://user:pass@host:port or smtps://…, with an optional
	// ?tls=starttls|implicit|none. Default "" (mail goes to the dev outbox).
	SMTPURL string `yaml:"smtp_url" env:"GATEHOUSE_SMTP_URL" flag:"smtp-url" secret:"url" help:"Mail server: smtp://user:pass@host:port or smtps://, optional ?tls=starttls, implicit or none; empty keeps mail in the dev outbox instead of sending it."`

	// MailFrom is the sender of every email, as parsed by net/mail.
	// Default "Gatehouse <no-reply@localhost>".
	MailFrom string `yaml:"mail_from" env:"GATEHOUSE_MAIL_FROM" flag:"mail-from" help:"Sender of every email, e.g. Example <no-reply@example.com>."`

	// SecretKey is the master secret that encrypts signing keys and other
	// secrets at rest; at least 32 characters. It has no flag, so that it
	// never shows in a process listing. Default "" (generated into DataDir
	// with mode 0600 on first start).
	SecretKey string `yaml:"secret_key" env:"GATEHOUSE_SECRET_KEY" secret:"value" help:"Master secret that encrypts signing keys and other secrets at rest, at least 32 characters; empty means one is generated into data_dir (mode 0600) on first start."`

	// DataDir is the directory that holds the generated secret key file.
	// Default ".".
	DataDir string `yaml:"data_dir" env:"GATEHOUSE_DATA_DIR" flag:"data-dir" help:"Directory that holds the generated secret key file."`

	// Dev turns development mode on or off: the dev mail outbox page at
	// /dev/mail, and session cookies without Secure on plain http. Nil (the
	// default) leaves the choice to DevMode, which turns it on only for an
	// http://localhost or loopback public URL.
	Dev *bool `yaml:"dev" env:"GATEHOUSE_DEV" flag:"dev" help:"Development mode: the dev mail outbox at /dev/mail and cookies without Secure on http; auto means on exactly when public_url is plain http on localhost or a loopback address such as 127.0.0.1."`

	// ProductName is the name shown on hosted pages and in emails.
	// Default "Gatehouse".
	ProductName string `yaml:"product_name" env:"GATEHOUSE_PRODUCT_NAME" flag:"product-name" help:"Name shown on hosted pages and in emails."`

	// Log configures the server's log.
	Log Log `yaml:"log"`
	// HTTP configures the HTTP server.
	HTTP HTTP `yaml:"http"`
	// Password configures password hashing and the length policy.
	Password Password `yaml:"password"`
	// Users configures new accounts.
	Users Users `yaml:"users"`
	// Session configures browser sessions.
	Session Session `yaml:"session"`
	// Token configures access and refresh tokens and their signing keys.
	Token Token `yaml:"token"`
	// Setup configures the first-start setup link.
	Setup Setup `yaml:"setup"`
	// UI configures the look of the hosted pages.
	UI UI `yaml:"ui"`
	// Audit configures the audit log.
	Audit Audit `yaml:"audit"`
	// Passkey configures sign-in with passkeys (WebAuthn).
	Passkey Passkey `yaml:"passkey"`
	// Email configures address verification, password reset and sign-in
	// by email.
	Email Email `yaml:"email"`
	// RateLimit configures the rate limits (limits.go).
	RateLimit RateLimit `yaml:"rate_limit"`
	// Metrics configures the Prometheus metrics endpoint (limits.go).
	Metrics Metrics `yaml:"metrics"`
	// OAuth configures sign-in through outside providers (oauth.go).
	OAuth OAuth `yaml:"oauth"`
	// MFA configures the second factor (oauth.go).
	MFA MFA `yaml:"mfa"`
}

// Email configures the mails of the account lifecycle. Where they go is
// smtp_url (empty keeps them in the development outbox, at /dev/mail).
type Email struct {
	// Verification is "optional" (unconfirmed addresses may sign in, with a
	// banner asking to confirm) or "required" (no password sign-in until the
	// address is confirmed). Default "optional".
	Verification string `yaml:"verification" help:"Email confirmation on sign-up: optional (users may sign in before confirming, and see a banner) or required (no password sign-in until the address is confirmed)."`

	// VerifyTTL is how long a link that confirms an address works, on
	// sign-up and on a change of address. Default 24h.
	VerifyTTL time.Duration `yaml:"verify_ttl" help:"How long a link that confirms an email address (on sign-up or a change of address) works."`

	// ResetTTL is how long a password reset link works. Default 1h.
	ResetTTL time.Duration `yaml:"reset_ttl" help:"How long a password reset link works; it also dies when used, when a newer one is sent, or when the password changes."`

	// Login turns sign-in by email (a link and a 6-digit code) on.
	// Default true.
	Login bool `yaml:"login" help:"Sign-in by email: a mailed link, and a 6-digit code for reading mail on another device."`

	// LoginSignUp lets sign-in by email create an account, without a
	// password, for an address that has none. Default true.
	LoginSignUp bool `yaml:"login_sign_up" help:"Let sign-in by email create an account, without a password, for a new address."`

	// LoginTTL is how long the link and code of a sign-in mail work.
	// Default 15m.
	LoginTTL time.Duration `yaml:"login_ttl" help:"How long the link and code of a sign-in mail work (each works once; five wrong codes end the code)."`
}

// Log configures the server's log.
type Log struct {
	// Level is the lowest level logged: debug, info, warn or error.
	// Default "info".
	Level string `yaml:"level" env:"GATEHOUSE_LOG_LEVEL" flag:"log-level" help:"Lowest level logged: debug, info, warn or error."`

	// Format is text, json, or auto (text on a terminal, else json).
	// Default "auto".
	Format string `yaml:"format" env:"GATEHOUSE_LOG_FORMAT" flag:"log-format" help:"Log format: text, json, or auto (text when stderr is a terminal, json otherwise)."`
}

// HTTP configures the HTTP server. A zero read, write or idle timeout means no
// limit, as in net/http.
type HTTP struct {
	// ReadHeaderTimeout bounds reading a request's headers; it must be
	// positive, since slow headers are the cheapest way to tie up a server.
	// Default 5s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout" help:"Time allowed to read a request's headers; must be greater than 0."`

	// ReadTimeout bounds reading a whole request. Default 15s.
	ReadTimeout time.Duration `yaml:"read_timeout" help:"Time allowed to read a whole request, body included; 0 means no limit."`

	// WriteTimeout bounds writing a response. Default 30s.
	WriteTimeout time.Duration `yaml:"write_timeout" help:"Time allowed to write a response; 0 means no limit."`

	// IdleTimeout is how long an idle keep-alive connection stays open.
	// Default 120s.
	IdleTimeout time.Duration `yaml:"idle_timeout" help:"How long an idle keep-alive connection stays open; 0 means no limit."`

	// ShutdownTimeout is how long a graceful shutdown waits for requests in
	// flight before closing their connections. Default 15s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" help:"How long a graceful shutdown waits for requests in flight; must be greater than 0."`

	// MaxBodyBytes caps request bodies unless an endpoint sets its own cap.
	// Default 65536 (64 KiB).
	MaxBodyBytes int `yaml:"max_body_bytes" help:"Largest request body accepted, in bytes, unless an endpoint sets its own cap."`

	// TrustedProxies lists the IP addresses and CIDR prefixes of reverse
	// proxies whose forwarding headers (X-Forwarded-For and the like) are
	// believed. Default empty: the client IP is the connection's peer and
	// forwarding headers are ignored, since anyone can send them.
	TrustedProxies []string `yaml:"trusted_proxies" help:"IP addresses or CIDR prefixes of reverse proxies whose X-Forwarded-For headers are believed; empty trusts none."`

	// AllowedOrigins lists origins other than the public URL's, each exactly
	// scheme://host[:port] in lowercase, that may call the API with cookies.
	// Default empty.
	AllowedOrigins []string `yaml:"allowed_origins" env:"GATEHOUSE_ALLOWED_ORIGINS" help:"Other origins, exactly scheme://host[:port] as browsers send them, allowed to call the API with cookies and to be the return_to of sign-ins (the sign-in SDK on another origin); comma-separated in the environment."`
}

// Password configures password hashing (Argon2id, RFC 9106) and the length
// policy. Lengths count characters (Unicode code points), as NIST SP 800-63B
// does.
type Password struct {
	// Argon2MemoryKiB is Argon2id's memory cost in KiB. Default 19456
	// (19 MiB, the OWASP minimum with 2 iterations).
	Argon2MemoryKiB int `yaml:"argon2_memory_kib" help:"Argon2id memory cost in KiB; raising it makes guessing harder and every sign-in more costly."`

	// Argon2Iterations is Argon2id's time cost. Default 2.
	Argon2Iterations int `yaml:"argon2_iterations" help:"Argon2id iterations (time cost)."`

	// Argon2Parallelism is Argon2id's number of lanes. Default 1.
	Argon2Parallelism int `yaml:"argon2_parallelism" help:"Argon2id parallelism (lanes), 1 to 255."`

	// MinLength is the shortest password accepted, in characters. Default 8;
	// NIST SP 800-63B asks 15 where a password is the only factor.
	MinLength int `yaml:"min_length" help:"Shortest password accepted, in characters; NIST SP 800-63B asks 15 where the password is the only factor."`

	// MaxLength is the longest password accepted, in characters; longer ones
	// are refused before hashing, so an absurd password costs nothing.
	// Default 256.
	MaxLength int `yaml:"max_length" help:"Longest password accepted, in characters (at most 4096); longer ones are refused before any hashing."`

	// HashWorkers is how many passwords are hashed at once. Default 0: one
	// per core the process may use (GOMAXPROCS).
	HashWorkers int `yaml:"hash_workers" help:"Passwords hashed at once; 0 means one per core the process may use."`

	// HashQueue is how many password checks may wait for a hash worker;
	// beyond that a sign-in is refused at once with 503 and Retry-After, so
	// that a flood of sign-ins cannot slow down the rest of the server.
	// Default 0: four per worker.
	HashQueue int `yaml:"hash_queue" help:"Password checks that may wait for a hash worker; more get 503 with Retry-After at once; 0 means four per worker."`
}

// Users configures new accounts.
type Users struct {
	// DefaultRoles are the roles every new user gets. Default ["user"].
	DefaultRoles []string `yaml:"default_roles" env:"GATEHOUSE_DEFAULT_ROLES" help:"Roles every new user gets."`
}

// Session configures browser sessions.
type Session struct {
	// IdleTimeout ends a session after this long without a request.
	// Default 2h; NIST SP 800-63B asks 1h at AAL2.
	IdleTimeout time.Duration `yaml:"idle_timeout" help:"A session ends after this long without a request (NIST SP 800-63B asks 1h at AAL2)."`

	// AbsoluteTimeout ends a session this long after sign-in, however busy.
	// Default 24h.
	AbsoluteTimeout time.Duration `yaml:"absolute_timeout" help:"A session ends this long after sign-in, however active."`

	// RememberFor is how long a remember-me sign-in keeps its cookie.
	// Default 336h (14 days).
	RememberFor time.Duration `yaml:"remember_for" help:"How long a remember-me sign-in lasts (336h is 14 days)."`

	// CookieDomain, when set, is the Domain of the gatehouse_token cookie that
	// shares access tokens with other backends on the same site; it must
	// contain the public URL's host. Default "" (no token cookie).
	CookieDomain string `yaml:"cookie_domain" env:"GATEHOUSE_COOKIE_DOMAIN" help:"Domain for the gatehouse_token cookie shared with other backends on the same site; must contain the public URL's host; empty sets no such cookie."`

	// ReauthWindow is how recent a session's sign-in must be for sensitive
	// changes (linking a provider, turning two-step verification on or
	// off); an older session confirms the password first, or signs in
	// again. Default 10m.
	ReauthWindow time.Duration `yaml:"reauth_window" help:"How recent a sign-in must be for sensitive changes (linking a provider, turning two-step verification on or off); older sessions confirm the password or sign in again first."`
}

// Token configures access and refresh tokens and their signing keys.
type Token struct {
	// AccessTTL is an access token's lifetime. Default 15m.
	AccessTTL time.Duration `yaml:"access_ttl" help:"Lifetime of an access token (JWT)."`

	// RefreshTTL is a refresh token's lifetime. Default 720h (30 days).
	RefreshTTL time.Duration `yaml:"refresh_ttl" help:"Lifetime of a refresh token (720h is 30 days)."`

	// Algorithm signs access tokens: EdDSA (Ed25519) or ES256.
	// Default "EdDSA".
	Algorithm string `yaml:"algorithm" help:"Signing algorithm for access tokens: EdDSA (Ed25519) or ES256."`

	// Audience is the aud claim of access tokens. Default "" (the public
	// URL; see Config.TokenAudience).
	Audience string `yaml:"audience" help:"aud claim of access tokens; empty means the public URL."`

	// KeyRotation is how often a new signing key is made; old keys stay
	// published until every token they signed has expired. Default 720h
	// (30 days); 0 disables rotation.
	KeyRotation time.Duration `yaml:"key_rotation" help:"How often a new signing key is made (old keys stay published until their tokens expire); 0 disables rotation."`
}

// Setup configures the first-start setup link.
type Setup struct {
	// LinkTTL is how long the setup link printed on first start stays valid.
	// Default 1h.
	LinkTTL time.Duration `yaml:"link_ttl" help:"How long the setup link printed on first start stays valid."`
}

// Audit configures the audit log.
type Audit struct {
	// Retention is how long audit events are kept; older ones are deleted
	// hourly. Default 2160h (90 days); 0 keeps them forever.
	Retention time.Duration `yaml:"retention" env:"GATEHOUSE_AUDIT_RETENTION" help:"How long audit events are kept (2160h is 90 days); older ones are deleted hourly; 0 keeps them forever."`
}

// UI configures the look of the hosted pages.
type UI struct {
	// LogoURL is an image shown beside the product name: a path on this
	// server or an https URL (whose origin the page's Content-Security-Policy
	// then allows for images). Default "" (a built-in mark).
	LogoURL string `yaml:"logo_url" env:"GATEHOUSE_LOGO_URL" help:"Logo shown beside the product name on hosted pages: a path on this server or an https URL; empty shows a built-in mark."`

	// AccentColor is the colour of buttons and links, as #rrggbb.
	// Default "" (Gatehouse's blue).
	AccentColor string `yaml:"accent_color" env:"GATEHOUSE_ACCENT_COLOR" help:"Colour of buttons and links on hosted pages, as #rrggbb; empty keeps the default blue."`
}

// Passkey configures sign-in with passkeys: Gatehouse as a WebAuthn relying
// party (W3C WebAuthn Level 3). Passkeys are bound to the relying party ID,
// so changing it orphans every passkey registered under the old one.
type Passkey struct {
	// RPID is the relying party ID: the public URL's host name or a
	// registrable suffix of it (auth.example.com, or example.com to share
	// passkeys with the other sites of example.com), without scheme or port.
	// Default "" (the public URL's host name; passkeys are off when that is
	// an IP address, which WebAuthn does not allow).
	RPID string `yaml:"rp_id" env:"GATEHOUSE_PASSKEY_RP_ID" help:"WebAuthn relying party ID: the public URL's host name or a registrable suffix of it; empty means the public URL's host (passkeys are off when that is an IP address)."`

	// Origins are the exact origins, scheme://host[:port], whose pages may
	// run passkey ceremonies: each on the relying party ID or a subdomain of
	// it, https except on localhost. Default empty (the public URL's origin).
	Origins []string `yaml:"origins" env:"GATEHOUSE_PASSKEY_ORIGINS" help:"Origins allowed to run passkey ceremonies, exactly scheme://host[:port], on rp_id or a subdomain of it; empty means the public URL's origin."`

	// UserVerification is whether authenticators must verify the user (PIN,
	// biometric) at each use: required, preferred or discouraged.
	// Default "required", since a passkey is the only factor of its
	// sign-in.
	UserVerification string `yaml:"user_verification" env:"GATEHOUSE_PASSKEY_USER_VERIFICATION" help:"Whether authenticators must verify the user (PIN or biometric): required, preferred or discouraged; required keeps a passkey sign-in two factors in one."`
}

// Default returns the configuration used when nothing else is given. Each
// call returns a fresh value that the caller may change.
func Default() Config {
	return Config{
		Listen:      "127.0.0.1:8080",
		PublicURL:   "http://localhost:8080",
		DatabaseURL: "sqlite://./gatehouse.db",
		MailFrom:    "Gatehouse <no-reply@localhost>",
		DataDir:     ".",
		ProductName: "Gatehouse",
		Log: Log{
			Level:  "info",
			Format: "auto",
		},
		HTTP: HTTP{
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       15 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   15 * time.Second,
			MaxBodyBytes:      64 << 10,
		},
		Password: Password{
			Argon2MemoryKiB:   19456,
			Argon2Iterations:  2,
			Argon2Parallelism: 1,
			MinLength:         8,
			MaxLength:         256,
		},
		Users: Users{
			DefaultRoles: []string{"user"},
		},
		Session: Session{
			IdleTimeout:     2 * time.Hour,
			AbsoluteTimeout: 24 * time.Hour,
			RememberFor:     14 * 24 * time.Hour,
			ReauthWindow:    10 * time.Minute,
		},
		Token: Token{
			AccessTTL:   15 * time.Minute,
			RefreshTTL:  30 * 24 * time.Hour,
			Algorithm:   "EdDSA",
			KeyRotation: 30 * 24 * time.Hour,
		},
		Setup: Setup{
			LinkTTL: time.Hour,
		},
		Audit: Audit{
			Retention: 90 * 24 * time.Hour,
		},
		Passkey: Passkey{
			UserVerification: "required",
		},
		Email: Email{
			Verification: "optional",
			VerifyTTL:    24 * time.Hour,
			ResetTTL:     time.Hour,
			Login:        true,
			LoginSignUp:  true,
			LoginTTL:     15 * time.Minute,
		},
		RateLimit: defaultRateLimit(),
	}
}

// DevMode reports whether development mode is on: Dev when it is set, and
// otherwise whether PublicURL is plain http on localhost or a loopback
// address, which no production deployment reaches its users through.
func (c *Config) DevMode() bool {
	if c.Dev != nil {
		return *c.Dev
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// TokenAudience returns the aud claim for access tokens: Token.Audience, or
// the public URL when that is empty.
func (c *Config) TokenAudience() string {
	if c.Token.Audience != "" {
		return c.Token.Audience
	}
	return c.PublicURL
}

// TrustedProxyPrefixes returns HTTP.TrustedProxies as prefixes, a single
// address becoming a /32 or /128. Entries that do not parse are skipped; a
// Config that has passed Validate has none.
func (h *HTTP) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range h.TrustedProxies {
		if p, ok := parseProxy(s); ok {
			out = append(out, p)
		}
	}
	return out
}

// parseProxy reads a trusted proxy entry: a CIDR prefix or a single address.
func parseProxy(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}
