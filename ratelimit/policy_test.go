package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a Limiter that remembers the keys it is given.
type recorder struct {
	Limiter
	mu   sync.Mutex
	keys []string
}

func (r *recorder) note(key string) {
	r.mu.Lock()
	r.keys = append(r.keys, key)
	r.mu.Unlock()
}

func (r *recorder) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	r.note(key)
	return r.Limiter.Allow(ctx, key, l)
}

func (r *recorder) Peek(ctx context.Context, key string, l Limit) (Result, error) {
	r.note(key)
	return r.Limiter.Peek(ctx, key, l)
}

// broken is a Limiter whose store is down.
type broken struct{}

var errDown = fmt.Errorf("%w: store down", ErrUnavailable)

func (broken) Allow(context.Context, string, Limit) (Result, error) { return Result{}, errDown }
func (broken) Peek(context.Context, string, Limit) (Result, error)  { return Result{}, errDown }
func (broken) Reset(context.Context, string) error                  { return errDown }

type policyFixture struct {
	p   *Policy
	clk *clock
	rec *recorder
	dev *Device
}

func newPolicy(t *testing.T, cfg PolicyConfig) policyFixture {
	t.Helper()
	clk := newClock()
	m := newMemory(t, MemoryConfig{Now: clk.Now})
	rec := &recorder{Limiter: m}
	cfg.Limiter = rec
	if cfg.Devices == nil {
		cfg.Devices = newDevice(t, clk)
	}
	p, err := NewPolicy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return policyFixture{p: p, clk: clk, rec: rec, dev: cfg.Devices}
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// nthIP returns a distinct documentation address for each n.
func nthIP(n int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, byte(n >> 8), byte(n)}) }

// Each named limit, at its default, allows exactly its burst and then
// refuses with a Retry-After of one emission interval.
func TestPolicyDefaults(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		event     func(p *Policy, i int) (Result, error) // the i-th event
		check     func(p *Policy) (Result, error)        // nil: event itself
		allowed   int
		wantRetry time.Duration
	}{{
		name: "failed sign-ins per identifier, from many addresses",
		event: func(p *Policy, i int) (Result, error) {
			return p.LoginFailed(ctx, Attempt{Identifier: "alice@example.com", IP: nthIP(i)})
		},
		check: func(p *Policy) (Result, error) {
			return p.Login(ctx, Attempt{Identifier: "alice@example.com", IP: ip("203.0.113.99")})
		},
		allowed: 10, wantRetry: 90 * time.Second,
	}, {
		name: "failed sign-ins per address, over many identifiers",
		event: func(p *Policy, i int) (Result, error) {
			return p.LoginFailed(ctx, Attempt{Identifier: fmt.Sprint("user", i), IP: ip("192.0.2.1")})
		},
		check: func(p *Policy) (Result, error) {
			return p.Login(ctx, Attempt{Identifier: "someone-new", IP: ip("192.0.2.1")})
		},
		allowed: 50, wantRetry: 18 * time.Second,
	}, {
		name:    "registrations per address",
		event:   func(p *Policy, i int) (Result, error) { return p.Register(ctx, ip("192.0.2.1")) },
		allowed: 30, wantRetry: 2 * time.Minute,
	}, {
		name: "mails per address",
		event: func(p *Policy, i int) (Result, error) {
			return p.Mail(ctx, "alice@example.com", nthIP(i))
		},
		allowed: 5, wantRetry: 12 * time.Minute,
	}, {
		name: "mails per client address",
		event: func(p *Policy, i int) (Result, error) {
			return p.Mail(ctx, fmt.Sprintf("user%d@example.com", i), ip("192.0.2.1"))
		},
		allowed: 30, wantRetry: 2 * time.Minute,
	}, {
		name:    "wrong codes per account",
		event:   func(p *Policy, i int) (Result, error) { return p.CodeFailed(ctx, "u1") },
		check:   func(p *Policy) (Result, error) { return p.Code(ctx, "u1") },
		allowed: 5, wantRetry: 3 * time.Minute,
	}, {
		name:    "refreshes per session",
		event:   func(p *Policy, i int) (Result, error) { return p.Refresh(ctx, "s1", nthIP(i)) },
		allowed: 10, wantRetry: time.Minute,
	}, {
		name:    "refreshes per client address",
		event:   func(p *Policy, i int) (Result, error) { return p.Refresh(ctx, fmt.Sprint("s", i), ip("192.0.2.1")) },
		allowed: 600, wantRetry: time.Second,
	}, {
		name:    "invalid tokens per client address",
		event:   func(p *Policy, i int) (Result, error) { return p.TokenFailed(ctx, ip("192.0.2.1")) },
		check:   func(p *Policy) (Result, error) { return p.Token(ctx, ip("192.0.2.1")) },
		allowed: 50, wantRetry: 18 * time.Second,
	}, {
		name:    "passkey sign-ins begun per client address",
		event:   func(p *Policy, i int) (Result, error) { return p.PasskeyBegin(ctx, ip("192.0.2.1")) },
		allowed: 60, wantRetry: time.Second,
	}, {
		name: "passkey sign-ins begun per IPv6 /64",
		event: func(p *Policy, i int) (Result, error) {
			return p.PasskeyBegin(ctx, ip(fmt.Sprintf("2001:db8::%x", i+1)))
		},
		allowed: 60, wantRetry: time.Second,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newPolicy(t, PolicyConfig{})
			for i := range tc.allowed {
				if tc.check != nil {
					if r, err := tc.check(f.p); err != nil || !r.Allowed {
						t.Fatalf("check before event %d: allowed %v, error %v; want allowed", i+1, r.Allowed, err)
					}
				}
				if r, err := tc.event(f.p, i); err != nil || !r.Allowed {
					t.Fatalf("event %d: allowed %v, error %v; want allowed", i+1, r.Allowed, err)
				}
			}
			check := tc.check
			if check == nil {
				check = func(p *Policy) (Result, error) { return tc.event(p, tc.allowed) }
			}
			r, err := check(f.p)
			if err != nil || r.Allowed || r.RetryAfter != tc.wantRetry {
				t.Errorf("after %d events: allowed %v, RetryAfter %v, error %v; want refused, %v",
					tc.allowed, r.Allowed, r.RetryAfter, err, tc.wantRetry)
			}
		})
	}
}

// Every spelling that reaches one account shares one key; an identifier
// that names no account is keyed exactly like one that does.
func TestPolicyLoginKeys(t *testing.T) {
	f := newPolicy(t, PolicyConfig{})
	p := f.p
	loginKey := func(a Attempt) string {
		f.rec.keys = nil
		if _, err := p.Login(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		return f.rec.keys[0]
	}
	ipKey := func(addr string) string {
		f.rec.keys = nil
		if _, err := p.Login(context.Background(), Attempt{Identifier: "x", IP: ip(addr)}); err != nil {
			t.Fatal(err)
		}
		return f.rec.keys[1]
	}
	at := ip("192.0.2.1")
	same := []struct{ a, b Attempt }{
		{Attempt{Identifier: "Alice@Example.COM", IP: at}, Attempt{Identifier: "  alice@example.com\t", IP: at}},
		{Attempt{Identifier: "Bob", IP: at}, Attempt{Identifier: "bob ", IP: at}},
		{Attempt{Identifier: "carol", IP: at, UserID: "u3"}, Attempt{Identifier: "carol", IP: at}},
		{Attempt{Identifier: "carol", IP: at, UserID: "u3", DeviceToken: "gd1.forged"}, Attempt{Identifier: "carol", IP: at}},
	}
	for _, tc := range same {
		if ka, kb := loginKey(tc.a), loginKey(tc.b); ka != kb {
			t.Errorf("%+v and %+v: keys %q and %q; want one key", tc.a, tc.b, ka, kb)
		}
	}
	if ka, kb := loginKey(Attempt{Identifier: "alice", IP: at}), loginKey(Attempt{Identifier: "alice2", IP: at}); ka == kb {
		t.Errorf("alice and alice2 share key %q", ka)
	}
	sameIP := [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"fe80::1%eth0", "fe80::2%eth1"},
	}
	for _, tc := range sameIP {
		if ka, kb := ipKey(tc[0]), ipKey(tc[1]); ka != kb {
			t.Errorf("%s and %s: keys %q and %q; want one client", tc[0], tc[1], ka, kb)
		}
	}
	diffIP := [][2]string{{"2001:db8:1:2::1", "2001:db8:1:3::1"}, {"192.0.2.1", "192.0.2.2"}}
	for _, tc := range diffIP {
		if ka, kb := ipKey(tc[0]), ipKey(tc[1]); ka == kb {
			t.Errorf("%s and %s share key %q", tc[0], tc[1], ka)
		}
	}
}

// No key holds what it was made from, and a Secret changes every key.
func TestPolicyKeysAreHashed(t *testing.T) {
	ctx := context.Background()
	run := func(secret []byte) []string {
		f := newPolicy(t, PolicyConfig{Secret: secret})
		p := f.p
		a := Attempt{Identifier: "alice@example.com", IP: ip("192.0.2.7"), UserID: "u_alice"}
		p.Login(ctx, a)
		p.LoginFailed(ctx, a)
		tok, _ := p.LoginSucceeded(ctx, a)
		a.DeviceToken = tok
		p.LoginFailed(ctx, a)
		p.Register(ctx, a.IP)
		p.Mail(ctx, "alice@example.com", a.IP)
		p.CodeFailed(ctx, "u_alice")
		p.Refresh(ctx, "session-alice", a.IP)
		p.TokenFailed(ctx, a.IP)
		return f.rec.keys
	}
	plain, keyed := run(nil), run([]byte("server master secret"))
	if len(plain) != 12 {
		t.Fatalf("%d keys used, want 12: %q", len(plain), plain)
	}
	for i, k := range plain {
		kind, hashed, _ := strings.Cut(k, ":")
		for _, clear := range []string{"alice@example.com", "192.0.2.7", "u_alice", "session-alice"} {
			if strings.Contains(hashed, clear) {
				t.Errorf("key %q holds %q in clear", k, clear)
			}
		}
		if keyed[i] == k || !strings.HasPrefix(keyed[i], kind+":") {
			t.Errorf("with a Secret, key %q became %q; want another key of the same kind", k, keyed[i])
		}
		if len(k) != len(kind)+1+22 {
			t.Errorf("key %q: want kind, colon and 22 characters", k)
		}
	}
}

// A device that has signed in before keeps its own allowance while the
// account's is used up by someone else.
func TestPolicyTrustedDevice(t *testing.T) {
	ctx := context.Background()
	f := newPolicy(t, PolicyConfig{})
	p := f.p
	owner := Attempt{Identifier: "alice@example.com", IP: ip("192.0.2.7"), UserID: "u_alice"}
	tok, err := p.LoginSucceeded(ctx, owner)
	if err != nil || tok == "" {
		t.Fatalf("LoginSucceeded = %q, %v; want a device token", tok, err)
	}
	// An attacker, from many addresses, uses up the account's allowance.
	for i := range 20 {
		p.LoginFailed(ctx, Attempt{Identifier: "alice@example.com", IP: nthIP(i), UserID: "u_alice"})
	}
	withToken := owner
	withToken.DeviceToken = tok
	otherAccount := Attempt{Identifier: "bob", IP: owner.IP, UserID: "u_bob", DeviceToken: tok}
	tests := []struct {
		name string
		a    Attempt
		want bool
	}{
		{"owner without the token", owner, false},
		{"owner with the token", withToken, true},
		{"token with another identifier of the same account", Attempt{Identifier: "alice", IP: owner.IP, UserID: "u_alice", DeviceToken: tok}, true},
		{"token for another account", otherAccount, true}, // bob is not limited at all
		{"token but unknown identifier", Attempt{Identifier: "alice@example.com", IP: owner.IP, DeviceToken: tok}, false},
	}
	for _, tc := range tests {
		if r, err := p.Login(ctx, tc.a); err != nil || r.Allowed != tc.want {
			t.Errorf("%s: Login allowed %v, error %v; want %v", tc.name, r.Allowed, err, tc.want)
		}
	}
	// A token for alice does not buy bob's identifier a device allowance.
	for range 10 {
		p.LoginFailed(ctx, Attempt{Identifier: "bob", IP: nthIP(500)})
	}
	if r, _ := p.Login(ctx, otherAccount); r.Allowed {
		t.Error("alice's device token gave bob's limited identifier an allowance")
	}

	// The owner's typos count against the device, not the account.
	for i := range 3 {
		if r, _ := p.LoginFailed(ctx, withToken); !r.Allowed || r.Remaining != 9-i {
			t.Fatalf("typo %d: allowed %v, remaining %d; want true, %d", i+1, r.Allowed, r.Remaining, 9-i)
		}
	}
	// Success from the device forgets its typos and issues a new token.
	tok2, err := p.LoginSucceeded(ctx, withToken)
	if err != nil || tok2 == "" || tok2 == tok {
		t.Fatalf("LoginSucceeded = %q, %v; want a new token", tok2, err)
	}
	if r, _ := p.Login(ctx, withToken); !r.Allowed || r.Remaining != 10 {
		t.Errorf("after success: allowed %v, remaining %d; want true, 10", r.Allowed, r.Remaining)
	}
	// The device runs out too, on its own.
	for range 10 {
		p.LoginFailed(ctx, withToken)
	}
	if r, _ := p.Login(ctx, withToken); r.Allowed || r.RetryAfter != 90*time.Second {
		t.Errorf("after 10 typos: allowed %v, RetryAfter %v; want refused, 1m30s", r.Allowed, r.RetryAfter)
	}
	// A success never resets the identifier's count.
	if r, _ := p.Login(ctx, owner); r.Allowed {
		t.Error("the identifier's limit was reset by a success")
	}
}

func TestPolicyWithoutDevices(t *testing.T) {
	clk := newClock()
	p, err := NewPolicy(PolicyConfig{Limiter: newMemory(t, MemoryConfig{Now: clk.Now})})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := p.LoginSucceeded(context.Background(), Attempt{Identifier: "a", IP: ip("192.0.2.1"), UserID: "u"})
	if err != nil || tok != "" {
		t.Errorf(`LoginSucceeded without Devices = %q, %v; want "", nil`, tok, err)
	}
}

// A limit refused by the client's address is not counted against the mail
// address, so one client cannot use up someone's allowance beyond its own.
func TestPolicyMailCountsAddressLast(t *testing.T) {
	ctx := context.Background()
	f := newPolicy(t, PolicyConfig{Limits: Limits{MailPerIP: PerHour(2)}})
	for range 5 {
		f.p.Mail(ctx, "alice@example.com", ip("192.0.2.1"))
	}
	r, err := f.p.Mail(ctx, "Alice@Example.com", ip("192.0.2.2"))
	if err != nil || !r.Allowed || r.Remaining != 1 {
		t.Errorf("from another client: allowed %v, remaining %d, error %v; want true, 1", r.Allowed, r.Remaining, err)
	}
}

func TestNewPolicy(t *testing.T) {
	m := newMemory(t, MemoryConfig{})
	tests := []struct {
		name    string
		cfg     PolicyConfig
		wantErr string
	}{
		{"no limiter", PolicyConfig{}, "Limiter is required"},
		{"bad limit", PolicyConfig{Limiter: m, Limits: Limits{MailPerIP: Limit{Rate: -1, Period: time.Hour}}}, "MailPerIP"},
		{"bad prefix", PolicyConfig{Limiter: m, IPv6Prefix: 129}, "IPv6Prefix"},
		{"defaults", PolicyConfig{Limiter: m}, ""},
	}
	for _, tc := range tests {
		_, err := NewPolicy(tc.cfg)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: NewPolicy error = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	p, _ := NewPolicy(PolicyConfig{Limiter: m, Limits: Limits{RegisterPerIP: PerHour(5)}})
	want := DefaultLimits()
	want.RegisterPerIP = PerHour(5)
	if got := p.Limits(); got != want {
		t.Errorf("Limits() = %+v, want %+v", got, want)
	}
}

// When the limiter fails, every method says so and nothing is allowed.
func TestPolicyFailsClosed(t *testing.T) {
	ctx := context.Background()
	d := newDevice(t, nil)
	p, err := NewPolicy(PolicyConfig{Limiter: broken{}, Devices: d})
	if err != nil {
		t.Fatal(err)
	}
	a := Attempt{Identifier: "alice", IP: ip("192.0.2.1"), UserID: "u1"}
	trusted := a
	trusted.DeviceToken = d.Issue("u1")
	calls := map[string]func() (Result, error){
		"Login":          func() (Result, error) { return p.Login(ctx, a) },
		"Login trusted":  func() (Result, error) { return p.Login(ctx, trusted) },
		"LoginFailed":    func() (Result, error) { return p.LoginFailed(ctx, a) },
		"LoginSucceeded": func() (Result, error) { _, err := p.LoginSucceeded(ctx, trusted); return Result{}, err },
		"Register":       func() (Result, error) { return p.Register(ctx, a.IP) },
		"Mail":           func() (Result, error) { return p.Mail(ctx, "a@example.com", a.IP) },
		"Code":           func() (Result, error) { return p.Code(ctx, "u1") },
		"CodeFailed":     func() (Result, error) { return p.CodeFailed(ctx, "u1") },
		"Refresh":        func() (Result, error) { return p.Refresh(ctx, "s", a.IP) },
		"Token":          func() (Result, error) { return p.Token(ctx, a.IP) },
		"TokenFailed":    func() (Result, error) { return p.TokenFailed(ctx, a.IP) },
		"PasskeyBegin":   func() (Result, error) { return p.PasskeyBegin(ctx, a.IP) },
	}
	for name, call := range calls {
		r, err := call()
		if !errors.Is(err, ErrUnavailable) || r.Allowed {
			t.Errorf("%s with a broken limiter: allowed %v, error %v; want refused, ErrUnavailable", name, r.Allowed, err)
		}
	}
	// No client address is a caller's bug, and refuses too.
	if r, err := p.Login(ctx, Attempt{Identifier: "alice"}); err == nil || r.Allowed {
		t.Errorf("Login without an address: allowed %v, error %v; want an error", r.Allowed, err)
	}
}

func TestResultRetryAfterSeconds(t *testing.T) {
	tests := []struct {
		r    Result
		want int
	}{
		{Result{Allowed: true}, 0},
		{Result{RetryAfter: time.Millisecond}, 1},
		{Result{RetryAfter: time.Second}, 1},
		{Result{RetryAfter: time.Second + 1}, 2},
		{Result{RetryAfter: 90 * time.Second}, 90},
		{Result{}, 1},
	}
	for _, tc := range tests {
		if got := tc.r.RetryAfterSeconds(); got != tc.want {
			t.Errorf("%+v.RetryAfterSeconds() = %d, want %d", tc.r, got, tc.want)
		}
	}
}
