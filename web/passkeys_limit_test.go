package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/passkey"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
)

// Beginning a passkey sign-in needs no credential and stores a ceremony, so
// it is limited per client address: by default 60 at once, then one a
// second. A refused begin stores nothing, forwarding headers from an
// untrusted peer do not make a new client, and a limiter that cannot answer
// refuses with 503.
func TestPasskeyLoginBeginLimit(t *testing.T) {
	const allowed = 60 // ratelimit.DefaultLimits().PasskeyBeginPerIP
	tests := []struct {
		name    string
		limiter ratelimit.Limiter // nil: the default limits in memory
		proxies []string          // trusted proxies; the requests come from 127.0.0.1
		first   func(i int) string
		then    string // X-Forwarded-For of the request after the first ones
		n       int    // how many first ones, all answered 200
		want    int
	}{{
		name:  "over the limit from one address",
		first: func(int) string { return "" },
		n:     allowed, want: http.StatusTooManyRequests,
	}, {
		name:  "forwarding headers from an untrusted peer change nothing",
		first: func(i int) string { return fmt.Sprintf("198.51.100.%d", i%250+1) },
		then:  "203.0.113.7",
		n:     allowed, want: http.StatusTooManyRequests,
	}, {
		name:    "behind a trusted proxy, each client has its own allowance",
		proxies: []string{"127.0.0.1/32"},
		first:   func(int) string { return "198.51.100.1" },
		then:    "198.51.100.2",
		n:       allowed, want: http.StatusOK,
	}, {
		name:    "behind a trusted proxy, one client over the limit",
		proxies: []string{"127.0.0.1/32"},
		first:   func(int) string { return "198.51.100.1" },
		then:    "198.51.100.1",
		n:       allowed, want: http.StatusTooManyRequests,
	}, {
		name:    "limiter down",
		limiter: failingLimiter{},
		want:    http.StatusServiceUnavailable,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := storetestSQLite(t)
			clk := &pkClock{now: time.Now()}
			e := &pkEnv{clock: clk, testEnv: newEnv(t, st, withTrustedProxies(tc.proxies...), func(c *Config) {
				rp, err := passkey.New(passkey.Config{RPID: "localhost", Origins: []string{pkOrigin}, Store: st, Now: clk.Now,
					Challenges: passkey.NewTokenChallengeStore(st, clk.Now)})
				if err != nil {
					t.Fatal(err)
				}
				c.Passkeys = rp
				c.Limits = newPolicy(t, tc.limiter)
			})}
			begin := func(xff string) response {
				var headers []string
				if xff != "" {
					headers = []string{"X-Forwarded-For", xff}
				}
				_, r := e.begin(nil, "/api/passkeys/login/begin", nil, headers...)
				return r
			}
			for i := range tc.n {
				if r := begin(tc.first(i)); r.status != http.StatusOK {
					t.Fatalf("begin %d = %d %s, want 200", i+1, r.status, r.body)
				}
			}
			r := begin(tc.then)
			if r.status != tc.want {
				t.Fatalf("begin %d = %d %s, want %d", tc.n+1, r.status, r.body, tc.want)
			}
			stored := tc.n + 1
			switch tc.want {
			case http.StatusTooManyRequests:
				if !strings.Contains(r.body, `"error":"rate_limited"`) || r.header.Get("Retry-After") != "1" {
					t.Errorf("refused begin = %s (Retry-After %q), want rate_limited, Retry-After: 1", r.body, r.header.Get("Retry-After"))
				}
				stored--
			case http.StatusServiceUnavailable:
				if !strings.Contains(r.body, `"error":"unavailable"`) || r.header.Get("Retry-After") != "5" {
					t.Errorf("begin with the limiter down = %s (Retry-After %q), want unavailable, Retry-After: 5", r.body, r.header.Get("Retry-After"))
				}
				stored--
			}
			// Every ceremony stored is purged once it has expired: as many
			// as were begun, none for a refused begin.
			n, err := st.DeleteExpiredTokens(context.Background(), clk.Now().Add(24*time.Hour))
			if err != nil || n != stored {
				t.Errorf("ceremonies purged = %d, %v; want %d", n, err, stored)
			}
		})
	}
}
