package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// openRedis returns a client for GATEHOUSE_TEST_REDIS_URL and a key prefix
// of its own for the test, whose keys are deleted when the test ends; it
// skips the test when the variable is unset.
func openRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	url := os.Getenv("GATEHOUSE_TEST_REDIS_URL")
	if url == "" {
		t.Skip("GATEHOUSE_TEST_REDIS_URL is not set; skipping the Redis tests (e.g. GATEHOUSE_TEST_REDIS_URL=redis://127.0.0.1:6379/0)")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("GATEHOUSE_TEST_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opt)
	if err := c.Ping(context.Background()).Err(); err != nil {
		c.Close()
		t.Fatalf("GATEHOUSE_TEST_REDIS_URL=%s does not answer: %v", url, err)
	}
	var b [8]byte
	rand.Read(b[:])
	prefix := DefaultPrefix + "test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("clean up %s*: %v", prefix, err)
		}
		c.Close()
	})
	return c, prefix
}

func newRedis(t *testing.T) (*Redis, *redis.Client, string) {
	t.Helper()
	c, prefix := openRedis(t)
	r, err := NewRedis(RedisConfig{Client: c, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return r, c, prefix
}

func TestRedis(t *testing.T) {
	openRedis(t) // skip early, before the subtests
	runLimiterSuite(t, func(t *testing.T) harness {
		r, _, _ := newRedis(t)
		return harness{limiter: r, wait: time.Sleep, slack: 500 * time.Millisecond, unit: time.Second}
	})
}

// Keys lie under the prefix, hold no identifier or address in clear, and
// expire once idle.
func TestRedisKeys(t *testing.T) {
	r, c, prefix := newRedis(t)
	ctx := context.Background()
	p, err := NewPolicy(PolicyConfig{Limiter: r})
	if err != nil {
		t.Fatal(err)
	}
	a := Attempt{Identifier: "alice@example.com", IP: netip.MustParseAddr("192.0.2.7")}
	if _, err := p.LoginFailed(ctx, a); err != nil {
		t.Fatal(err)
	}
	keys, _, err := c.Scan(ctx, 0, prefix+"*", 1000).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("keys under %s: %q, want 2", prefix, keys)
	}
	for _, k := range keys {
		if strings.Contains(k, "alice") || strings.Contains(k, "192.0.2.7") {
			t.Errorf("key %q holds the identifier or address in clear", k)
		}
		ttl, err := c.TTL(ctx, k).Result()
		if err != nil || ttl <= 0 || ttl > 15*time.Minute {
			t.Errorf("TTL(%q) = %v, %v; want a positive expiry of at most 15m", k, ttl, err)
		}
	}
	if n, _ := c.Exists(ctx, "rate:"+strings.TrimPrefix(keys[0], prefix)).Result(); n != 0 {
		t.Errorf("a key was also stored under redis_rate's own prefix")
	}
	if err := r.Ping(ctx); err != nil {
		t.Errorf("Ping() = %v", err)
	}
}

// TestRedisFailsClosed points the limiter at a port nobody listens on, and
// at a server that accepts connections but never answers: every call must
// return an error that wraps ErrUnavailable and a Result that refuses, and
// must do so within the client's short timeouts.
func TestRedisFailsClosed(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	held := make(chan net.Conn, 100)
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held <- c // keep it open, never answer
		}
	}()
	defer func() {
		silent.Close()
		for {
			select {
			case c := <-held:
				c.Close()
			default:
				return
			}
		}
	}()

	for _, server := range []struct{ name, addr string }{
		{"closed port", closedAddr},
		{"silent server", silent.Addr().String()},
	} {
		t.Run(server.name, func(t *testing.T) {
			c := redis.NewClient(&redis.Options{
				Addr:          server.addr,
				DialTimeout:   200 * time.Millisecond,
				ReadTimeout:   200 * time.Millisecond,
				WriteTimeout:  200 * time.Millisecond,
				MaxRetries:    -1,
				DialerRetries: 1,
			})
			defer c.Close()
			assertFailsClosed(t, c)
		})
	}
}

func assertFailsClosed(t *testing.T, c *redis.Client) {
	r, err := NewRedis(RedisConfig{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPolicy(PolicyConfig{Limiter: r})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := Attempt{Identifier: "alice", IP: netip.MustParseAddr("192.0.2.7")}
	calls := []struct {
		name string
		call func() (Result, error)
	}{
		{"Allow", func() (Result, error) { return r.Allow(ctx, "k", PerMinute(10)) }},
		{"Peek", func() (Result, error) { return r.Peek(ctx, "k", PerMinute(10)) }},
		{"Reset", func() (Result, error) { return Result{}, r.Reset(ctx, "k") }},
		{"Ping", func() (Result, error) { return Result{}, r.Ping(ctx) }},
		{"Policy.Login", func() (Result, error) { return p.Login(ctx, a) }},
		{"Policy.LoginFailed", func() (Result, error) { return p.LoginFailed(ctx, a) }},
		{"Policy.Mail", func() (Result, error) { return p.Mail(ctx, "alice@example.com", a.IP) }},
	}
	for _, tc := range calls {
		done := make(chan struct{})
		var (
			res Result
			err error
		)
		go func() {
			defer close(done)
			res, err = tc.call()
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s has not returned after 10s", tc.name)
		}
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s error = %v, want ErrUnavailable", tc.name, err)
		}
		if res.Allowed {
			t.Errorf("%s allowed the event while Redis was unreachable", tc.name)
		}
	}
}

func TestNewRedisNeedsClient(t *testing.T) {
	if _, err := NewRedis(RedisConfig{}); err == nil {
		t.Error("NewRedis without a client: no error")
	}
}

// The key rewriting refuses a key without redis_rate's prefix.
func TestKeyspaceRefusesForeignKeys(t *testing.T) {
	ks := keyspace{prefix: DefaultPrefix}
	got, err := ks.keys([]string{"rate:a", "rate:b"})
	if err != nil || strings.Join(got, " ") != DefaultPrefix+"a "+DefaultPrefix+"b" {
		t.Errorf("keys(rate:a, rate:b) = %q, %v; want both under %s", got, err, DefaultPrefix)
	}
	if _, err := ks.keys([]string{"other:a"}); err == nil {
		t.Error("keys(other:a): no error")
	}
}
