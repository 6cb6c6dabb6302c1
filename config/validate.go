package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// fieldError is a problem with one key's value.
type fieldError struct {
	field   *field
	problem string // e.g. `"ftp://x": must be an http or https URL`
}

func (e *fieldError) Error() string { return e.field.Path + ": " + e.problem }

// Validate checks every key and returns the first problem found, in
// declaration order, as one line naming the key, e.g.
//
//	http.read_timeout: negative duration "-5s"
//
// It changes nothing; Load calls it after applying every layer.
func (c *Config) Validate() error {
	if fe := c.validate(); fe != nil {
		return fe
	}
	return nil
}

func (c *Config) validate() *fieldError {
	for _, f := range schema.fields {
		problem := ""
		if f.kind == kindDuration {
			if d := time.Duration(f.value(c).Int()); d < 0 {
				problem = fmt.Sprintf("negative duration %q", formatDuration(d))
			}
		}
		if check := checks[f.Path]; problem == "" && check != nil {
			problem = check(c)
		}
		if problem != "" {
			return &fieldError{field: f, problem: problem}
		}
	}
	return nil
}

// checks holds the rules beyond a value's type, by key path; every duration
// is also checked not to be negative. A check returns the problem, or "".
var checks = map[string]func(c *Config) string{
	"listen":       func(c *Config) string { return checkHostPort(c.Listen) },
	"public_url":   func(c *Config) string { return checkPublicURL(c.PublicURL) },
	"database_url": func(c *Config) string { return checkDatabaseURL(c.DatabaseURL) },
	"redis_url":    func(c *Config) string { return checkRedisURL(c.RedisURL) },
	"smtp_url":     func(c *Config) string { return checkSMTPURL(c.SMTPURL) },
	"mail_from": func(c *Config) string {
		if _, err := mail.ParseAddress(c.MailFrom); err != nil {
			return fmt.Sprintf("%q: must be one address, e.g. \"Example <no-reply@example.com>\"", c.MailFrom)
		}
		return ""
	},
	"secret_key": func(c *Config) string {
		// The value is never repeated: it is the one secret that protects all others.
		if n := utf8.RuneCountInString(c.SecretKey); c.SecretKey != "" && n < 32 {
			return fmt.Sprintf("must be at least 32 characters, got %d", n)
		}
		return ""
	},
	"data_dir": func(c *Config) string {
		if c.DataDir == "" {
			return "must not be empty (use \".\" for the working directory)"
		}
		return ""
	},
	"product_name": func(c *Config) string {
		switch {
		case strings.TrimSpace(c.ProductName) == "":
			return "must not be empty"
		case strings.ContainsFunc(c.ProductName, unicode.IsControl):
			// It goes into email subjects; a line break there is header injection.
			return fmt.Sprintf("%q: must not contain control characters", c.ProductName)
		}
		return ""
	},
	"log.level":                func(c *Config) string { return oneOf(c.Log.Level, "debug", "info", "warn", "error") },
	"log.format":               func(c *Config) string { return oneOf(c.Log.Format, "auto", "text", "json") },
	"http.read_header_timeout": func(c *Config) string { return positive(c.HTTP.ReadHeaderTimeout) },
	"http.shutdown_timeout":    func(c *Config) string { return positive(c.HTTP.ShutdownTimeout) },
	"http.max_body_bytes":      func(c *Config) string { return between(c.HTTP.MaxBodyBytes, 1, 1<<30) },
	"http.trusted_proxies":     func(c *Config) string { return eachOf(c.HTTP.TrustedProxies, checkProxy) },
	"http.allowed_origins":     func(c *Config) string { return eachOf(c.HTTP.AllowedOrigins, checkOrigin) },
	"password.argon2_memory_kib": func(c *Config) string {
		// RFC 9106 §3.1: memory is at least 8 KiB per lane.
		return between(c.Password.Argon2MemoryKiB, 8*max(1, c.Password.Argon2Parallelism), 4<<20)
	},
	"password.argon2_iterations":  func(c *Config) string { return between(c.Password.Argon2Iterations, 1, 100) },
	"password.argon2_parallelism": func(c *Config) string { return between(c.Password.Argon2Parallelism, 1, 255) },
	"password.min_length": func(c *Config) string {
		if p := between(c.Password.MinLength, 1, 4096); p != "" {
			return p
		}
		if c.Password.MinLength > c.Password.MaxLength {
			return fmt.Sprintf("%d: must not be more than password.max_length (%d)", c.Password.MinLength, c.Password.MaxLength)
		}
		return ""
	},
	// NIST SP 800-63B: verifiers allow at least 64 characters, so passphrases fit.
	"password.max_length": func(c *Config) string { return between(c.Password.MaxLength, 64, 4096) },
	"users.default_roles": func(c *Config) string {
		return eachOf(c.Users.DefaultRoles, func(r string) string {
			if auth.ValidateRoleName(r) != "" {
				return fmt.Sprintf("%q: must be a role name of 1 to 64 lowercase letters, digits and _ - . :", r)
			}
			return ""
		})
	},
	"session.idle_timeout":     func(c *Config) string { return positive(c.Session.IdleTimeout) },
	"session.absolute_timeout": func(c *Config) string { return positive(c.Session.AbsoluteTimeout) },
	"session.remember_for":     func(c *Config) string { return positive(c.Session.RememberFor) },
	"session.cookie_domain":    func(c *Config) string { return checkCookieDomain(c.Session.CookieDomain, c.PublicURL) },
	"session.reauth_window":    func(c *Config) string { return positive(c.Session.ReauthWindow) },
	"oauth.providers_file":     checkProvidersFile,
	"mfa.required_roles":       checkRequiredRoles,
	"token.access_ttl":         func(c *Config) string { return positive(c.Token.AccessTTL) },
	"token.refresh_ttl":        func(c *Config) string { return positive(c.Token.RefreshTTL) },
	"token.algorithm":          func(c *Config) string { return oneOf(c.Token.Algorithm, "EdDSA", "ES256") },
	"setup.link_ttl":           func(c *Config) string { return positive(c.Setup.LinkTTL) },
	"email.verification":       func(c *Config) string { return oneOf(c.Email.Verification, "optional", "required") },
	"email.verify_ttl":         func(c *Config) string { return positive(c.Email.VerifyTTL) },
	"email.reset_ttl":          func(c *Config) string { return positive(c.Email.ResetTTL) },
	"email.login_ttl":          func(c *Config) string { return positive(c.Email.LoginTTL) },
	"ui.logo_url":              func(c *Config) string { return checkLogoURL(c.UI.LogoURL) },
	"ui.accent_color":          func(c *Config) string { return checkColor(c.UI.AccentColor) },
	"passkey.rp_id":            func(c *Config) string { return checkRPID(c.Passkey.RPID, c.PublicURL) },
	"passkey.origins":          func(c *Config) string { return eachOf(c.Passkey.Origins, c.checkPasskeyOrigin) },
	"passkey.user_verification": func(c *Config) string {
		return oneOf(c.Passkey.UserVerification, "required", "preferred", "discouraged")
	},
	"password.hash_workers":           func(c *Config) string { return between(c.Password.HashWorkers, 0, 1024) },
	"password.hash_queue":             func(c *Config) string { return between(c.Password.HashQueue, 0, 1<<16) },
	"rate_limit.login_per_account":    func(c *Config) string { return checkRate(c.RateLimit.LoginPerAccount) },
	"rate_limit.login_per_ip":         func(c *Config) string { return checkRate(c.RateLimit.LoginPerIP) },
	"rate_limit.login_per_device":     func(c *Config) string { return checkRate(c.RateLimit.LoginPerDevice) },
	"rate_limit.register_per_ip":      func(c *Config) string { return checkRate(c.RateLimit.RegisterPerIP) },
	"rate_limit.mail_per_address":     func(c *Config) string { return checkRate(c.RateLimit.MailPerAddress) },
	"rate_limit.mail_per_ip":          func(c *Config) string { return checkRate(c.RateLimit.MailPerIP) },
	"rate_limit.code_per_account":     func(c *Config) string { return checkRate(c.RateLimit.CodePerAccount) },
	"rate_limit.invalid_token_per_ip": func(c *Config) string { return checkRate(c.RateLimit.InvalidTokenPerIP) },
	"rate_limit.passkey_begin_per_ip": func(c *Config) string { return checkRate(c.RateLimit.PasskeyBeginPerIP) },
	"metrics.listen":                  func(c *Config) string { return checkListenOptional(c.Metrics.Listen) },
}

func oneOf(s string, allowed ...string) string {
	if slices.Contains(allowed, s) {
		return ""
	}
	return fmt.Sprintf("%q: must be one of %s", s, strings.Join(allowed, ", "))
}

func positive(d time.Duration) string {
	if d <= 0 {
		return fmt.Sprintf("%q: must be greater than 0", formatDuration(d))
	}
	return ""
}

func between(n, lo, hi int) string {
	if n < lo || n > hi {
		return fmt.Sprintf("%d: must be from %d to %d", n, lo, hi)
	}
	return ""
}

func eachOf(items []string, check func(string) string) string {
	for _, s := range items {
		if p := check(s); p != "" {
			return p
		}
	}
	return ""
}

func checkHostPort(s string) string {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("%q: must be host:port", s)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Sprintf("%q: port must be a number from 0 to 65535", s)
	}
	return ""
}

func checkPublicURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.Hostname() == "":
		return fmt.Sprintf("%q: must be an http or https URL", redactURL(s))
	case u.User != nil:
		return fmt.Sprintf("%q: must not contain a user name or password", redactURL(s))
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(s, "#"):
		return fmt.Sprintf("%q: must not have a query or fragment", s)
	case strings.HasSuffix(s, "/"):
		return fmt.Sprintf("%q: must not end with a slash", s)
	}
	return ""
}

func checkDatabaseURL(s string) string {
	if rest, ok := strings.CutPrefix(s, "sqlite://"); ok {
		// Not parsed as a URL: a file path need not be a valid host, and
		// sqlite://:memory: is a fine test database.
		if rest == "" {
			return fmt.Sprintf("%q: must name a database file, e.g. sqlite://./gatehouse.db", s)
		}
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Opaque != "" {
		return fmt.Sprintf("%q: must be a sqlite:// or postgres:// URL", redactURL(s))
	}
	return ""
}

func checkRedisURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Hostname() == "" {
		return fmt.Sprintf("%q: must be a redis:// or rediss:// URL with a host", redactURL(s))
	}
	return ""
}

func checkSMTPURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return fmt.Sprintf("%q: must be an smtp:// or smtps:// URL with a host", redactURL(s))
	}
	q := u.Query()
	for name := range q {
		if name != "tls" {
			return fmt.Sprintf("%q: unknown parameter %q (only tls is known)", redactURL(s), name)
		}
	}
	if q.Has("tls") {
		mode := q.Get("tls")
		if p := oneOf(mode, "starttls", "implicit", "none"); p != "" {
			return fmt.Sprintf("%q: tls must be one of starttls, implicit, none", redactURL(s))
		}
		if u.Scheme == "smtps" && mode != "implicit" {
			return fmt.Sprintf("%q: smtps:// always uses implicit TLS; use smtp:// with tls=%s", redactURL(s), mode)
		}
	}
	return ""
}

func checkProxy(s string) string {
	if strings.Contains(s, "%") {
		return fmt.Sprintf("%q: must be an IP address or CIDR prefix without a zone", s)
	}
	if _, ok := parseProxy(s); !ok {
		return fmt.Sprintf("%q: must be an IP address or CIDR prefix, e.g. 10.0.0.0/8", s)
	}
	return ""
}

// checkOrigin insists on the exact serialisation browsers send in the Origin
// header (RFC 6454 §6.1), since origins are compared as strings.
func checkOrigin(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || s != u.Scheme+"://"+u.Host {
		return fmt.Sprintf("%q: must be an origin, scheme://host[:port] with nothing after", s)
	}
	if s != strings.ToLower(s) {
		return fmt.Sprintf("%q: must be lowercase, as browsers send it", s)
	}
	if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
		return fmt.Sprintf("%q: must leave out the default port, as browsers do", s)
	}
	return ""
}

func checkCookieDomain(domain, publicURL string) string {
	if domain == "" {
		return ""
	}
	d := strings.TrimPrefix(domain, ".")
	if d == "" || strings.Contains(d, "..") || strings.HasSuffix(d, ".") ||
		strings.ContainsFunc(d, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.')
		}) {
		return fmt.Sprintf("%q: must be a domain name, e.g. example.com", domain)
	}
	// A browser refuses a Domain attribute that does not contain the
	// host that set it (RFC 6265 §5.3 step 6), so the cookie would never be set.
	u, err := url.Parse(publicURL)
	if err != nil {
		return "" // public_url reports its own problem
	}
	host, d := strings.ToLower(u.Hostname()), strings.ToLower(d)
	if host != d && !strings.HasSuffix(host, "."+d) {
		return fmt.Sprintf("%q: does not contain the public URL's host %q, so browsers would refuse the cookie", domain, host)
	}
	return ""
}

// redactURL hides the password in a URL, and the values of query parameters
// that look like secrets, so that the URL can be logged or shown in an error.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		// Hide everything that could be credentials in a URL that did not parse.
		if i, j := strings.Index(s, "://"), strings.LastIndex(s, "@"); i >= 0 && j > i {
			return s[:i+3] + "xxxxx" + s[j:]
		}
		return s
	}
	_, hasPassword := u.User.Password()
	changed := false
	if u.RawQuery != "" {
		q := u.Query()
		for name := range q {
			n := strings.ToLower(name)
			if strings.Contains(n, "pass") || strings.Contains(n, "secret") || strings.Contains(n, "token") {
				q.Set(name, "xxxxx")
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	if !hasPassword && !changed {
		return s // as written, rather than as net/url would re-encode it
	}
	return u.Redacted()
}

// checkLogoURL accepts "", a path on this server, or an https URL.
func checkLogoURL(s string) string {
	if s == "" {
		return ""
	}
	if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return fmt.Sprintf("%q: must be a path on this server or an https URL", s)
	}
	return ""
}

// checkColor accepts "" or #rrggbb.
func checkColor(s string) string {
	if s == "" {
		return ""
	}
	if len(s) != 7 || s[0] != '#' {
		return fmt.Sprintf("%q: must be a colour written #rrggbb", s)
	}
	for _, c := range s[1:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return fmt.Sprintf("%q: must be a colour written #rrggbb", s)
		}
	}
	return ""
}
