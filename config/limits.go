package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RateLimit configures the rate limits of the HTTP contract. Each limit is
// written N/DURATION, such as "10/15m": N events per DURATION on average,
// and up to N at once after a quiet spell. Counts live in process, or in
// Redis when redis_url is set, so that every node counts against the same
// limits. There is no switch to turn a limit off; a large N comes close.
type RateLimit struct {
	// LoginPerAccount limits failed sign-ins per account identifier
	// (username or email as typed, normalised, whether or not an account
	// has it), from devices that have not signed in to the account before.
	// Default "10/15m".
	LoginPerAccount string `yaml:"login_per_account" help:"Failed sign-ins per account identifier (username or email, known or not) from devices new to the account, as N/DURATION."`

	// LoginPerIP limits failed sign-ins per client IP address (per /64 for
	// IPv6). Default "50/15m".
	LoginPerIP string `yaml:"login_per_ip" help:"Failed sign-ins per client IP address (per /64 for IPv6), as N/DURATION."`

	// LoginPerDevice limits failed sign-ins to one account from one device
	// that has signed in to it before (the gatehouse_device cookie): the
	// allowance its owner keeps while the account is under attack.
	// Default "10/15m".
	LoginPerDevice string `yaml:"login_per_device" help:"Failed sign-ins to an account from a device that signed in to it before; such a device keeps this allowance while the account is under attack."`

	// RegisterPerIP limits registrations per client IP address.
	// Default "30/1h".
	RegisterPerIP string `yaml:"register_per_ip" help:"Registrations per client IP address, as N/DURATION."`

	// MailPerAddress limits requests for reset, verification and sign-in
	// mails per email address. Default "5/1h".
	MailPerAddress string `yaml:"mail_per_address" help:"Password reset, verification and email sign-in requests per email address, as N/DURATION."`

	// MailPerIP limits the same requests per client IP address.
	// Default "30/1h".
	MailPerIP string `yaml:"mail_per_ip" help:"Password reset, verification and email sign-in requests per client IP address, as N/DURATION."`

	// CodePerAccount limits wrong one-time codes (TOTP, emailed codes) per
	// account. Default "5/15m".
	CodePerAccount string `yaml:"code_per_account" help:"Wrong one-time codes (TOTP, emailed sign-in codes) per account, as N/DURATION."`

	// InvalidTokenPerIP limits refresh tokens, API keys and passkey
	// answers that match nothing, per client IP address. Default "50/15m".
	InvalidTokenPerIP string `yaml:"invalid_token_per_ip" help:"Refresh tokens, API keys and passkey answers that match nothing, per client IP address, as N/DURATION."`

	// PasskeyBeginPerIP limits passkey sign-ins begun per client IP
	// address. The hosted sign-in page begins one on every load, for the
	// browser's passkey autofill, so it is far above one person's pace.
	// Default "60/1m".
	PasskeyBeginPerIP string `yaml:"passkey_begin_per_ip" help:"Passkey sign-ins begun (the sign-in page begins one on every load, for autofill) per client IP address, as N/DURATION."`
}

// Metrics configures the Prometheus metrics endpoint.
type Metrics struct {
	// Enabled serves /metrics on the main listener. Default false: there,
	// /metrics is a 404, since the figures (request rates, sign-in failures)
	// are for operators, not for the public.
	Enabled bool `yaml:"enabled" env:"GATEHOUSE_METRICS_ENABLED" help:"Serve Prometheus metrics at /metrics on the main listener; when false, /metrics there is a 404."`

	// Listen is a separate host:port that serves only /metrics, for a
	// scraper on a private network. Default "" (none).
	Listen string `yaml:"listen" env:"GATEHOUSE_METRICS_LISTEN" flag:"metrics-listen" help:"Separate address, host:port, that serves only /metrics (for example on a private interface); empty means none."`
}

// defaultRateLimit returns the defaults of RateLimit: those of the HTTP
// contract.
func defaultRateLimit() RateLimit {
	return RateLimit{
		LoginPerAccount:   "10/15m",
		LoginPerIP:        "50/15m",
		LoginPerDevice:    "10/15m",
		RegisterPerIP:     "30/1h",
		MailPerAddress:    "5/1h",
		MailPerIP:         "30/1h",
		CodePerAccount:    "5/15m",
		InvalidTokenPerIP: "50/15m",
		PasskeyBeginPerIP: "60/1m",
	}
}

// Rate is a parsed rate limit: N events per Per.
type Rate struct {
	N   int
	Per time.Duration
}

// maxRatePer is the longest period a rate may name: beyond it a limit is a
// lockout in all but name.
const maxRatePer = 7 * 24 * time.Hour

// ParseRate reads a rate limit written N/DURATION, such as "10/15m" or
// "30/1h". N is from 1 to 1,000,000; DURATION is positive and at most a
// week.
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q: must be N/DURATION, e.g. 10/15m", s)
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count < 1 || count > 1_000_000 {
		return Rate{}, fmt.Errorf("%q: the count must be a whole number from 1 to 1000000", s)
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil || d < time.Second || d > maxRatePer {
		return Rate{}, fmt.Errorf("%q: the period must be a duration from 1s to 168h, e.g. 15m", s)
	}
	if d/time.Duration(count) <= 0 {
		return Rate{}, fmt.Errorf("%q: more events than nanoseconds in the period", s)
	}
	return Rate{N: count, Per: d}, nil
}

func checkRate(s string) string {
	if _, err := ParseRate(s); err != nil {
		return err.Error()
	}
	return ""
}

func checkListenOptional(s string) string {
	if s == "" {
		return ""
	}
	return checkHostPort(s)
}
