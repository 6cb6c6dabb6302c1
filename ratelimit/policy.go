package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// Limits are the named limits of Gatehouse's HTTP contract. A zero field
// takes its default; there is no switch to turn a limit off, but a large
// Rate comes close.
type Limits struct {
	// FailedLoginPerIdentifier counts failed sign-ins per account identifier
	// (username or email, as normalised for lookup, whether or not an account
	// has it), from devices not trusted for the account. Default: 10 per 15m.
	FailedLoginPerIdentifier Limit
	// FailedLoginPerIP counts failed sign-ins per client address, from
	// devices not trusted for the account. Default: 50 per 15m.
	FailedLoginPerIP Limit
	// FailedLoginPerDevice counts failed sign-ins per account and trusted
	// device: the allowance that a device which has signed in to the
	// account before keeps while the account is under attack. Default:
	// 10 per 15m.
	FailedLoginPerDevice Limit
	// RegisterPerIP counts registrations per client address. Default:
	// 30 per 1h.
	RegisterPerIP Limit
	// MailPerAddress counts requests that send a password reset,
	// verification or email sign-in mail, per address. Default: 5 per 1h.
	MailPerAddress Limit
	// MailPerIP counts the same requests per client address. Default:
	// 30 per 1h.
	MailPerIP Limit
	// WrongCodePerAccount counts wrong one-time codes (TOTP, emailed codes)
	// per account. Default: 5 per 15m.
	WrongCodePerAccount Limit
	// RefreshPerSession counts token refreshes per session (one refresh
	// token family, or one browser session re-issuing its token). A client
	// refreshes once per access-token lifetime, four times an hour with the
	// default 15 minutes; the default leaves room for many tabs and clock
	// trouble while stopping a client stuck in a refresh loop. Default:
	// 60 per 1h, burst 10.
	RefreshPerSession Limit
	// RefreshPerIP counts token refreshes per client address. Many users may
	// share one address behind a NAT, so it is high, to contain runaway
	// clients rather than guessing (refresh tokens are 256 random bits).
	// Default: 3600 per 1h, burst 600.
	RefreshPerIP Limit
	// InvalidTokenPerIP counts presented refresh tokens and API keys that
	// match nothing, per client address. Default: 50 per 15m.
	InvalidTokenPerIP Limit
	// PasskeyBeginPerIP counts passkey sign-ins begun per client address.
	// Each one stores a ceremony until it expires, so without a limit one
	// client could fill the store. The hosted sign-in page begins one on
	// every load, for the browser's passkey autofill, and people behind one
	// NAT share an address, so it is far above one person's pace.
	// Default: 60 per 1m.
	PasskeyBeginPerIP Limit
}

// DefaultLimits returns the defaults of every field of [Limits].
func DefaultLimits() Limits {
	const quarter = 15 * time.Minute
	return Limits{
		FailedLoginPerIdentifier: Per(10, quarter),
		FailedLoginPerIP:         Per(50, quarter),
		FailedLoginPerDevice:     Per(10, quarter),
		RegisterPerIP:            PerHour(30),
		MailPerAddress:           PerHour(5),
		MailPerIP:                PerHour(30),
		WrongCodePerAccount:      Per(5, quarter),
		RefreshPerSession:        Limit{Rate: 60, Period: time.Hour, Burst: 10},
		RefreshPerIP:             Limit{Rate: 3600, Period: time.Hour, Burst: 600},
		InvalidTokenPerIP:        Per(50, quarter),
		PasskeyBeginPerIP:        PerMinute(60),
	}
}

// withDefaults fills l's zero fields from DefaultLimits and checks them all.
func (l Limits) withDefaults() (Limits, error) {
	d := DefaultLimits()
	fields := []struct {
		name      string
		got, dflt *Limit
	}{
		{"FailedLoginPerIdentifier", &l.FailedLoginPerIdentifier, &d.FailedLoginPerIdentifier},
		{"FailedLoginPerIP", &l.FailedLoginPerIP, &d.FailedLoginPerIP},
		{"FailedLoginPerDevice", &l.FailedLoginPerDevice, &d.FailedLoginPerDevice},
		{"RegisterPerIP", &l.RegisterPerIP, &d.RegisterPerIP},
		{"MailPerAddress", &l.MailPerAddress, &d.MailPerAddress},
		{"MailPerIP", &l.MailPerIP, &d.MailPerIP},
		{"WrongCodePerAccount", &l.WrongCodePerAccount, &d.WrongCodePerAccount},
		{"RefreshPerSession", &l.RefreshPerSession, &d.RefreshPerSession},
		{"RefreshPerIP", &l.RefreshPerIP, &d.RefreshPerIP},
		{"InvalidTokenPerIP", &l.InvalidTokenPerIP, &d.InvalidTokenPerIP},
		{"PasskeyBeginPerIP", &l.PasskeyBeginPerIP, &d.PasskeyBeginPerIP},
	}
	for _, f := range fields {
		if *f.got == (Limit{}) {
			*f.got = *f.dflt
		}
		if _, err := f.got.check(); err != nil {
			return Limits{}, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return l, nil
}

// PolicyConfig configures a [Policy].
type PolicyConfig struct {
	// Limiter keeps the counts: a [Memory] for one node, a [Redis] for
	// several. Required.
	Limiter Limiter
	// Limits are the limits; zero fields take their defaults.
	Limits Limits
	// Devices checks and issues device tokens. Default: nil, which trusts no
	// device: every sign-in counts against the account identifier and the
	// client address.
	Devices *Device
	// Secret, when set, keys the hash that turns identifiers and addresses
	// into limiter keys (HMAC-SHA-256 under a key derived from it), so that
	// someone who can read the limiter's store cannot even confirm a guessed
	// address. All nodes sharing a store need the same Secret; it may be the
	// server's master secret. Default: none, plain SHA-256.
	Secret []byte
	// IPv6Prefix is how many leading bits of an IPv6 client address make up
	// one client. One subscriber usually holds a whole /64, so limiting
	// single IPv6 addresses would give each attacker 2^64 allowances.
	// Default: 64.
	IPv6Prefix int
}

// Policy applies Gatehouse's named limits to the requests of the HTTP
// contract. The web layer calls it, and answers 429 rate_limited with a
// Retry-After of [Result.RetryAfterSeconds] when a Result is not Allowed,
// and refuses the request (503 with Retry-After, unless it falls back to
// another limiter) when a method returns an error.
//
// Keys never hold an identifier, address or ID in clear: each is
// "<limit>:" followed by 128 bits of a SHA-256 (see [PolicyConfig.Secret])
// of the normalised value, in base64url. Identifiers are normalised the way
// the store looks accounts up, and the key is derived from the identifier,
// never from an account ID, so an identifier that names no account is
// limited exactly like one that does and the limits do not reveal which
// accounts exist.
//
// A Policy is safe for concurrent use.
type Policy struct {
	limiter    Limiter
	limits     Limits
	devices    *Device
	key        []byte
	ipv6Prefix int
}

// NewPolicy returns a Policy, after checking cfg.
func NewPolicy(cfg PolicyConfig) (*Policy, error) {
	if cfg.Limiter == nil {
		return nil, errors.New("ratelimit: PolicyConfig.Limiter is required")
	}
	limits, err := cfg.Limits.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("ratelimit: %w", err)
	}
	if cfg.IPv6Prefix == 0 {
		cfg.IPv6Prefix = 64
	}
	if cfg.IPv6Prefix < 1 || cfg.IPv6Prefix > 128 {
		return nil, fmt.Errorf("ratelimit: IPv6Prefix %d is not between 1 and 128", cfg.IPv6Prefix)
	}
	p := &Policy{limiter: cfg.Limiter, limits: limits, devices: cfg.Devices, ipv6Prefix: cfg.IPv6Prefix}
	if len(cfg.Secret) > 0 {
		p.key = derive(cfg.Secret, "gatehouse ratelimit keys v1")
	}
	return p, nil
}

// Limits returns the limits in force, defaults filled in.
func (p *Policy) Limits() Limits { return p.limits }

// Attempt describes one sign-in attempt.
type Attempt struct {
	// Identifier is the username or email as the user typed it.
	Identifier string
	// IP is the client's address, as established by the web layer (which
	// alone knows which proxies to trust).
	IP netip.Addr
	// UserID is the account Identifier names, or "" when it names none. It
	// only decides whether DeviceToken is valid; the limits themselves are
	// keyed by Identifier.
	UserID string
	// DeviceToken is the value of the [DeviceCookie] cookie the request
	// carried, or "".
	DeviceToken string
}

// trusted returns the device ID of a's device token, if the token is valid
// for a's account.
func (p *Policy) trusted(a Attempt) (string, bool) {
	if p.devices == nil || a.DeviceToken == "" {
		return "", false
	}
	return p.devices.Valid(a.DeviceToken, a.UserID)
}

// Login reports whether a sign-in attempt may go ahead, without counting it.
// Call it before checking the password, and refuse the attempt with 429
// when it is not Allowed, whether or not the password would have been
// correct: a limited sign-in must never confirm a password.
//
// From a device trusted for the account, only that device's allowance
// (FailedLoginPerDevice) applies. A device token names one account, so it
// cannot help anyone spread guesses over many accounts, which is what the
// per-address limit is for. Otherwise both FailedLoginPerIdentifier and
// FailedLoginPerIP apply.
func (p *Policy) Login(ctx context.Context, a Attempt) (Result, error) {
	if dev, ok := p.trusted(a); ok {
		return p.limiter.Peek(ctx, p.hashed("login-device", a.UserID+"\x00"+dev), p.limits.FailedLoginPerDevice)
	}
	ip, err := p.ip(a.IP)
	if err != nil {
		return Result{}, err
	}
	byID, err := p.limiter.Peek(ctx, p.hashed("login-id", normalizeLogin(a.Identifier)), p.limits.FailedLoginPerIdentifier)
	if err != nil {
		return Result{}, err
	}
	byIP, err := p.limiter.Peek(ctx, p.hashed("login-ip", ip), p.limits.FailedLoginPerIP)
	if err != nil {
		return Result{}, err
	}
	return merge(byID, byIP), nil
}

// LoginFailed counts a failed sign-in, against the same limits that [Login]
// checks. The Result says whether the failure itself was still within them.
func (p *Policy) LoginFailed(ctx context.Context, a Attempt) (Result, error) {
	if dev, ok := p.trusted(a); ok {
		return p.limiter.Allow(ctx, p.hashed("login-device", a.UserID+"\x00"+dev), p.limits.FailedLoginPerDevice)
	}
	ip, err := p.ip(a.IP)
	if err != nil {
		return Result{}, err
	}
	byID, err := p.limiter.Allow(ctx, p.hashed("login-id", normalizeLogin(a.Identifier)), p.limits.FailedLoginPerIdentifier)
	if err != nil {
		return Result{}, err
	}
	byIP, err := p.limiter.Allow(ctx, p.hashed("login-ip", ip), p.limits.FailedLoginPerIP)
	if err != nil {
		return Result{}, err
	}
	return merge(byID, byIP), nil
}

// LoginSucceeded ends a successful sign-in to account a.UserID. It returns
// a new device token for the web layer to set as the [DeviceCookie] cookie
// ("" when the Policy has no Devices).
//
// When the attempt came from a trusted device, that device's failures are
// forgotten: they were its owner's typos, and only someone holding both the
// device token and the password can clear them. The per-identifier and
// per-address counts are never reset by a success, because an attacker
// guessing an account's password would otherwise get a fresh allowance
// every time the owner signed in.
func (p *Policy) LoginSucceeded(ctx context.Context, a Attempt) (deviceToken string, err error) {
	if a.UserID == "" {
		return "", errors.New("ratelimit: LoginSucceeded without a user ID")
	}
	if dev, ok := p.trusted(a); ok {
		if err := p.limiter.Reset(ctx, p.hashed("login-device", a.UserID+"\x00"+dev)); err != nil {
			return "", err
		}
	}
	if p.devices == nil {
		return "", nil
	}
	return p.devices.Issue(a.UserID), nil
}

// Register counts a registration from ip, against RegisterPerIP.
func (p *Policy) Register(ctx context.Context, ip netip.Addr) (Result, error) {
	k, err := p.ip(ip)
	if err != nil {
		return Result{}, err
	}
	return p.limiter.Allow(ctx, p.hashed("register-ip", k), p.limits.RegisterPerIP)
}

// PasskeyBegin counts a passkey sign-in begun from ip, against
// PasskeyBeginPerIP.
func (p *Policy) PasskeyBegin(ctx context.Context, ip netip.Addr) (Result, error) {
	k, err := p.ip(ip)
	if err != nil {
		return Result{}, err
	}
	return p.limiter.Allow(ctx, p.hashed("passkey-begin-ip", k), p.limits.PasskeyBeginPerIP)
}

// Mail counts a request from ip that would send a password reset,
// verification or email sign-in mail to address, against MailPerIP and
// then MailPerAddress. Call it whether or not address belongs to an
// account, and before deciding to send, so that the answer is the same
// either way. A request refused by the per-address limit is not counted
// against the address, so one client cannot use up an address's allowance
// beyond its own.
func (p *Policy) Mail(ctx context.Context, address string, ip netip.Addr) (Result, error) {
	k, err := p.ip(ip)
	if err != nil {
		return Result{}, err
	}
	byIP, err := p.limiter.Allow(ctx, p.hashed("mail-ip", k), p.limits.MailPerIP)
	if err != nil || !byIP.Allowed {
		return byIP, err
	}
	byAddr, err := p.limiter.Allow(ctx, p.hashed("mail-address", auth.NormalizeEmail(address)), p.limits.MailPerAddress)
	if err != nil {
		return Result{}, err
	}
	return merge(byIP, byAddr), nil
}

// Code reports whether a one-time code for account may be checked, without
// counting. As with [Policy.Login], a limited account is refused even a
// correct code. account is the account's ID, or, for a code mailed to an
// address with no account, the address.
func (p *Policy) Code(ctx context.Context, account string) (Result, error) {
	return p.limiter.Peek(ctx, p.hashed("code", account), p.limits.WrongCodePerAccount)
}

// CodeFailed counts a wrong one-time code for account, against
// WrongCodePerAccount.
func (p *Policy) CodeFailed(ctx context.Context, account string) (Result, error) {
	return p.limiter.Allow(ctx, p.hashed("code", account), p.limits.WrongCodePerAccount)
}

// Refresh counts a token refresh for session from ip, against
// RefreshPerSession and RefreshPerIP. session is the ID of the session or
// refresh token family, known once the presented token has been found; a
// token that matches nothing goes to [Policy.TokenFailed] instead.
func (p *Policy) Refresh(ctx context.Context, session string, ip netip.Addr) (Result, error) {
	k, err := p.ip(ip)
	if err != nil {
		return Result{}, err
	}
	bySession, err := p.limiter.Allow(ctx, p.hashed("refresh-session", session), p.limits.RefreshPerSession)
	if err != nil {
		return Result{}, err
	}
	byIP, err := p.limiter.Allow(ctx, p.hashed("refresh-ip", k), p.limits.RefreshPerIP)
	if err != nil {
		return Result{}, err
	}
	return merge(bySession, byIP), nil
}

// Token reports whether ip may present a refresh token or API key, without
// counting. While ip is limited, even a valid token is refused, so that
// answers do not tell a guesser which of its guesses was right.
func (p *Policy) Token(ctx context.Context, ip netip.Addr) (Result, error) {
	k, err := p.ip(ip)
	if err != nil {
		return Result{}, err
	}
	return p.limiter.Peek(ctx, p.hashed("token-ip", k), p.limits.InvalidTokenPerIP)
}

// TokenFailed counts a refresh token or API key from ip that matched
// nothing, against InvalidTokenPerIP.
func (p *Policy) TokenFailed(ctx context.Context, ip netip.Addr) (Result, error) {
	k, err := p.ip(ip)
	if err != nil {
		return Result{}, err
	}
	return p.limiter.Allow(ctx, p.hashed("token-ip", k), p.limits.InvalidTokenPerIP)
}

// normalizeLogin normalises a sign-in identifier the way the store looks
// accounts up by it, so that every spelling that reaches one account shares
// one key: an email as auth.NormalizeEmail, a username lowercased.
func normalizeLogin(login string) string {
	login = strings.TrimSpace(login)
	if strings.Contains(login, "@") {
		return auth.NormalizeEmail(login)
	}
	return strings.ToLower(login)
}

// ip returns the client that addr belongs to: the address itself for IPv4
// (an IPv4-mapped IPv6 address counts as IPv4), its IPv6Prefix for IPv6.
func (p *Policy) ip(addr netip.Addr) (string, error) {
	if !addr.IsValid() {
		return "", errors.New("ratelimit: no client address")
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String(), nil
	}
	pfx, err := addr.WithZone("").Prefix(p.ipv6Prefix)
	if err != nil {
		return "", fmt.Errorf("ratelimit: client address: %w", err)
	}
	return pfx.String(), nil
}

// hashed returns the limiter key for value under the limit named kind.
func (p *Policy) hashed(kind, value string) string {
	var h hash.Hash
	if p.key != nil {
		h = hmac.New(sha256.New, p.key)
	} else {
		h = sha256.New()
	}
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(value))
	return kind + ":" + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}
