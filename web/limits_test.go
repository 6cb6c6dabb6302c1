package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/hashpool"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/session"
)

// withLimits gives the server the default limits, in memory, with device
// tokens.
func withLimits(t testing.TB) func(*Config) {
	return func(c *Config) {
		c.Limits = newPolicy(t, nil)
	}
}

func newPolicy(t testing.TB, lim ratelimit.Limiter) *ratelimit.Policy {
	t.Helper()
	if lim == nil {
		m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
		if err != nil {
			t.Fatal(err)
		}
		lim = m
	}
	devices, err := ratelimit.NewDevice([]byte("0123456789abcdef0123456789abcdef-device"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ratelimit.NewPolicy(ratelimit.PolicyConfig{Limiter: lim, Devices: devices})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func withTrustedProxies(prefixes ...string) func(*Config) {
	return func(c *Config) {
		for _, p := range prefixes {
			c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix(p))
		}
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		remote  string
		xff     []string
		want    string
	}{
		{"no proxies: the peer, whatever the header says", nil, "192.0.2.1:4000", []string{"203.0.113.9"}, "192.0.2.1"},
		{"IPv6 peer", nil, "[2001:db8::1]:4000", nil, "2001:db8::1"},
		{"untrusted peer: header ignored", []string{"10.0.0.0/8"}, "192.0.2.1:4000", []string{"203.0.113.9"}, "192.0.2.1"},
		{"trusted peer: rightmost entry", []string{"10.0.0.0/8"}, "10.0.0.5:4000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"spoofed entries left of the real client are ignored", []string{"10.0.0.0/8"}, "10.0.0.5:4000",
			[]string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"trusted hops are skipped", []string{"10.0.0.0/8"}, "10.0.0.5:4000", []string{"198.51.100.7, 10.0.0.9, 10.0.0.8"}, "198.51.100.7"},
		{"several headers read as one list", []string{"10.0.0.0/8"}, "10.0.0.5:4000", []string{"6.6.6.6, 198.51.100.7", "10.0.0.9"}, "198.51.100.7"},
		{"every entry trusted: the leftmost", []string{"10.0.0.0/8"}, "10.0.0.5:4000", []string{"10.0.0.7, 10.0.0.9"}, "10.0.0.7"},
		{"garbage from a trusted hop: the last vouched-for hop", []string{"10.0.0.0/8"}, "10.0.0.5:4000", []string{"nonsense, 10.0.0.9"}, "10.0.0.9"},
		{"no header: the proxy itself", []string{"10.0.0.0/8"}, "10.0.0.5:4000", nil, "10.0.0.5"},
		{"IPv4-mapped peer", []string{"127.0.0.1"}, "[::ffff:127.0.0.1]:4000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"bracketed IPv6 with port in the header", []string{"10.0.0.0/8"}, "10.0.0.5:4000", []string{"[2001:db8::7]:443"}, "2001:db8::7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{}
			for _, p := range tt.trusted {
				pfx, err := netip.ParsePrefix(p)
				if err != nil {
					pfx = netip.PrefixFrom(netip.MustParseAddr(p), 32)
				}
				s.cfg.TrustedProxies = append(s.cfg.TrustedProxies, pfx)
			}
			r := httptestRequest("GET", "/")
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientIP(r); got != tt.want {
				t.Errorf("clientIP(remote %s, X-Forwarded-For %q) = %q, want %q", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
}

// Ten wrong passwords for one account, from ten addresses: the eleventh
// attempt is refused with 429 and Retry-After even with the right password,
// and the hosted page says so readably; an identifier that names no
// account is limited exactly the same way; and the owner's browser, which
// signed in before, still gets in.
func TestSignInLimitPerAccount(t *testing.T) {
	env := newEnv(t, storetestSQLite(t), withLimits(t), withTrustedProxies("127.0.0.1/32"))
	env.mustRegister("alice", pw)
	owner := env.client()
	r := login(env, owner, "alice", pw)
	if r.status != http.StatusSeeOther {
		t.Fatalf("owner's sign-in = %d, want 303", r.status)
	}
	var device *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == ratelimit.DeviceCookie {
			device = c
		}
	}
	if device == nil {
		t.Fatal("a successful sign-in set no device cookie")
	}
	if !device.HttpOnly || device.SameSite != http.SameSiteLaxMode || device.Path != "/" || device.MaxAge < 300*24*3600 {
		t.Errorf("device cookie %+v: want HttpOnly, SameSite=Lax, Path=/, long-lived", device)
	}

	for _, who := range []string{"alice", "nobody-by-this-name"} {
		for i := range 10 {
			r := env.postForm(env.client(), "/login", url.Values{"login": {who}, "password": {"wrong " + strconv.Itoa(i)}},
				"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
			if r.status != http.StatusUnauthorized {
				t.Fatalf("%s: wrong password %d = %d, want 401", who, i+1, r.status)
			}
		}
		r := env.postForm(env.client(), "/login", url.Values{"login": {who}, "password": {pw}}, "X-Forwarded-For", "198.51.100.200")
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("%s: right password after 10 failures = %d, want 429", who, r.status)
		}
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 60 || s > 90 {
			t.Errorf("%s: Retry-After = %q, want the 90 s until the next allowed attempt", who, r.header.Get("Retry-After"))
		}
		if !strings.Contains(r.body, "Too many requests. Try again in") {
			t.Errorf("%s: the sign-in page does not say why it refused: %s", who, r.body)
		}
		// The JSON API shares the limit.
		a := env.do(nil, "POST", "/api/auth/login", strings.NewReader(`{"login":"`+who+`","password":"`+pw+`"}`),
			"Content-Type", "application/json", "X-Forwarded-For", "198.51.100.201")
		if a.status != http.StatusTooManyRequests || !strings.Contains(a.body, `"error":"rate_limited"`) || a.header.Get("Retry-After") == "" {
			t.Errorf("%s: API sign-in after 10 failures = %d %s (Retry-After %q), want 429 rate_limited with Retry-After",
				who, a.status, a.body, a.header.Get("Retry-After"))
		}
	}

	// The owner's browser keeps its own allowance.
	if r := login(env, owner, "alice", pw); r.status != http.StatusSeeOther {
		t.Errorf("owner's device during the attack = %d, want 303", r.status)
	}
	// A device cookie is good only for its own account.
	stolen := env.client()
	stolen.Jar.SetCookies(mustURL(env.srv.URL), []*http.Cookie{device})
	env.mustRegister("mallory", pw)
	for i := range 10 {
		env.postForm(env.client(), "/login", url.Values{"login": {"mallory"}, "password": {"x" + strconv.Itoa(i)}})
	}
	if r := login(env, stolen, "mallory", pw); r.status != http.StatusTooManyRequests {
		t.Errorf("alice's device cookie signing in to mallory during an attack = %d, want 429", r.status)
	}
}

// Fifty failures from one client address, over fifty names: the next
// attempt from that address is refused whatever the name, the spoofable
// header does not help without a trusted proxy, and other addresses are not
// affected.
func TestSignInLimitPerIP(t *testing.T) {
	env := newEnv(t, storetestSQLite(t), withLimits(t))
	env.mustRegister("carol", pw)
	for i := range 50 {
		r := env.do(nil, "POST", "/api/auth/login", strings.NewReader(`{"login":"user`+strconv.Itoa(i)+`","password":"x"}`),
			"Content-Type", "application/json", "X-Forwarded-For", fmt.Sprintf("1.2.3.%d", i), "X-Real-IP", fmt.Sprintf("1.2.3.%d", i))
		if r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, r.status)
		}
	}
	r := env.do(nil, "POST", "/api/auth/login", strings.NewReader(`{"login":"carol","password":"`+pw+`"}`), "Content-Type", "application/json")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("right password from the limited address = %d (Retry-After %q), want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
}

// Guessing API keys: identical 401s, then 429, and then even a real key is
// refused from that address.
func TestGuessedAPIKeysAreLimited(t *testing.T) {
	env := newEnv(t, storetestSQLite(t), withLimits(t))
	var first string
	for i := range 50 {
		b := make([]byte, 16)
		rand.Read(b)
		key := hex.EncodeToString(b)
		if i%2 == 0 {
			key = "gh_" + key
		}
		r := env.do(nil, "GET", "/api/admin/users", nil, "X-API-Key", key)
		if r.status != http.StatusUnauthorized {
			t.Fatalf("guess %d = %d %s, want 401", i+1, r.status, r.body)
		}
		body := r.body
		if i%2 == 1 {
			continue
		}
		if first == "" {
			first = body
		} else if body != first {
			t.Errorf("guess %d answered %q, the first %q: want identical answers", i+1, body, first)
		}
	}
	r := env.do(nil, "GET", "/api/admin/users", nil, "X-API-Key", "gh_whatever")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("51st guess = %d (Retry-After %q), want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
}

func TestRegistrationLimit(t *testing.T) {
	env := newEnv(t, storetestSQLite(t), func(c *Config) {
		lim, _ := ratelimit.NewMemory(ratelimit.MemoryConfig{})
		p, err := ratelimit.NewPolicy(ratelimit.PolicyConfig{Limiter: lim, Limits: ratelimit.Limits{RegisterPerIP: ratelimit.PerHour(2)}})
		if err != nil {
			t.Fatal(err)
		}
		c.Limits = p
	})
	for i := range 3 {
		body := fmt.Sprintf(`{"username":"reg%d","email":"reg%d@example.com","password":%q}`, i, i, pw)
		r := env.do(nil, "POST", "/api/auth/register", strings.NewReader(body), "Content-Type", "application/json")
		want := http.StatusCreated
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if r.status != want {
			t.Errorf("registration %d = %d %s, want %d", i+1, r.status, r.body, want)
		}
	}
}

// failingLimiter is a limiter whose store is down.
type failingLimiter struct{}

var errDown = fmt.Errorf("%w: redis: connection refused", ratelimit.ErrUnavailable)

func (failingLimiter) Allow(context.Context, string, ratelimit.Limit) (ratelimit.Result, error) {
	return ratelimit.Result{}, errDown
}
func (failingLimiter) Peek(context.Context, string, ratelimit.Limit) (ratelimit.Result, error) {
	return ratelimit.Result{}, errDown
}
func (failingLimiter) Reset(context.Context, string) error { return errDown }

// When the limiter cannot answer, sign-ins are refused with 503 and
// Retry-After rather than let through unlimited; session checks, which
// need no limit, keep working.
func TestLimiterDownFailsClosed(t *testing.T) {
	env := newEnv(t, storetestSQLite(t), func(c *Config) { c.Limits = newPolicy(t, failingLimiter{}) })
	env.mustRegister("dora", pw)
	r := env.do(nil, "POST", "/api/auth/login", strings.NewReader(`{"login":"dora","password":"`+pw+`"}`), "Content-Type", "application/json")
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "5" || !strings.Contains(r.body, `"error":"unavailable"`) {
		t.Errorf("sign-in with the limiter down = %d %s (Retry-After %q), want 503 unavailable, Retry-After: 5", r.status, r.body, r.header.Get("Retry-After"))
	}
	page := login(env, env.client(), "dora", pw)
	if page.status != http.StatusServiceUnavailable || !strings.Contains(page.body, "Try again in a few seconds") {
		t.Errorf("hosted sign-in with the limiter down = %d, want 503 with a readable message", page.status)
	}
	// A session made without the web layer still works.
	u, _ := env.store.FindUserByLogin(context.Background(), "dora")
	secret, _, err := env.sessions.Start(context.Background(), u, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := env.do(nil, "GET", "/api/me", nil, "Cookie", SessionCookie+"="+secret); r.status != http.StatusOK {
		t.Errorf("GET /api/me with a session while the limiter is down = %d, want 200", r.status)
	}
}

// When every hash worker is busy and the queue is full, a sign-in is
// refused at once with 503 and Retry-After: 1, whether or not the account
// exists, and is not counted as a failure.
func TestHashPoolFullRefusesSignIns(t *testing.T) {
	st := storetestSQLite(t)
	pool := hashpool.New(1, -1)
	t.Cleanup(pool.Close)
	inner, err := password.New(password.Params{Memory: 1024, Iterations: 1})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.New(accounts.Config{Store: st, Hasher: accounts.PooledHasher(inner, pool, nil), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	env := newEnv(t, st, withLimits(t), func(c *Config) { c.Accounts = acc; c.Metrics = m; c.ServeMetrics = true })
	env.mustRegister("erin", pw)

	release, started := make(chan struct{}), make(chan struct{})
	go pool.Do(context.Background(), func() { close(started); <-release })
	<-started
	for _, who := range []string{"erin", "nobody"} {
		start := time.Now()
		r := env.do(nil, "POST", "/api/auth/login", strings.NewReader(`{"login":"`+who+`","password":"`+pw+`"}`), "Content-Type", "application/json")
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" {
			t.Errorf("%s: sign-in with the pool full = %d %s (Retry-After %q), want 503 with Retry-After: 1", who, r.status, r.body, r.header.Get("Retry-After"))
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: the refusal took %v; it should come at once", who, d)
		}
	}
	close(release)
	if r := env.do(nil, "POST", "/api/auth/login", strings.NewReader(`{"login":"erin","password":"`+pw+`"}`), "Content-Type", "application/json"); r.status != http.StatusOK {
		t.Errorf("sign-in once the pool is free = %d %s, want 200", r.status, r.body)
	}
	body := env.do(nil, "GET", "/metrics", nil).body
	for _, want := range []string{`gatehouse_sign_ins_total{method="password",result="unavailable"} 2`,
		`gatehouse_unavailable_total{reason="hash_pool_full"} 2`, `gatehouse_http_request_duration_seconds_count{code="503",route="POST /api/auth/login"} 2`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestMetricsOnlyWhereEnabled(t *testing.T) {
	m := metrics.New()
	off := newEnv(t, storetestSQLite(t), func(c *Config) { c.Metrics = m })
	if r := off.do(nil, "GET", "/metrics", nil); r.status != http.StatusNotFound {
		t.Errorf("GET /metrics when not enabled on this listener = %d, want 404", r.status)
	}
	on := newEnv(t, storetestSQLite(t), func(c *Config) { c.Metrics = metrics.New(); c.ServeMetrics = true })
	on.do(nil, "GET", "/healthz", nil)
	r := on.do(nil, "GET", "/metrics", nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, `gatehouse_http_request_duration_seconds_count{code="200",route="GET /healthz"} 1`) {
		t.Errorf("GET /metrics = %d, want 200 with the request count of /healthz:\n%s", r.status, r.body)
	}
}
