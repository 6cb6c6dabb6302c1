package gatehouse

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/config"
	"github.com/gatehouse-dev/gatehouse/hashpool"
	"github.com/gatehouse-dev/gatehouse/masterkey"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/web"
)

// Abuse resistance and several nodes: the wiring of the hash pool, the
// rate-limit settings, the device tokens, readiness and metrics.
//
// With PostgreSQL and Redis configured, any number of Gatehouse processes
// behind a load balancer behave as one. Sessions, refresh tokens,
// revocations, one-time tokens and passkey ceremonies live in the database,
// and every request reads them there (there is no in-process cache to
// invalidate, so a revocation on one node holds on every node at once); OAuth
// flow state travels in a sealed cookie; rate-limit counts live in Redis;
// signing keys are re-read every minute, and at once when a token names a
// key a node has not seen yet; the mail worker leases each mail to one
// node.

// hashing is the password hash pool and the threads its hashes run on.
type hashing struct {
	pool    *hashpool.Pool
	threads *hashpool.Threads
	procs   int // how much GOMAXPROCS was raised, to undo on close
}

// newHashing returns the pool that every password hash goes through: as
// many workers as cores (hash_workers), a short queue (hash_queue), and
// beyond that an immediate 503.
//
// The hashes run on threads of a low CPU priority (hashpool.Threads),
// and on Linux GOMAXPROCS is raised by the number of workers, so that the
// Go runtime has a P free for requests even while every worker hashes, and
// the kernel runs those requests ahead of the hashes. An idle server still
// hashes on every core; a busy one keeps answering session and token checks
// at their usual speed while sign-ins queue. Close lowers GOMAXPROCS again.
func newHashing(cfg Config) *hashing {
	pool := hashpool.New(cfg.Password.HashWorkers, cfg.Password.HashQueue)
	workers := pool.Stats().Workers
	h := &hashing{pool: pool, threads: hashpool.NewThreads(workers)}
	if runtime.GOOS == "linux" {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + workers)
		h.procs = workers
	}
	return h
}

// hasher wraps h so that every Hash and Verify runs on the pool.
func (h *hashing) hasher(inner accounts.Hasher) accounts.Hasher {
	return accounts.PooledHasher(inner, h.pool, h.threads)
}

// close waits for the hashes in progress and releases the threads.
func (h *hashing) close() {
	h.pool.Close()
	h.threads.Close()
	if h.procs > 0 {
		runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0)-h.procs, 1))
		h.procs = 0
	}
}

// policyOptions returns the rate limits that cfg sets, and the device
// tokens, keyed by a secret derived from the master key (every node shares
// the master key, so a device token issued by one node is good on all).
func policyOptions(cfg Config, key *masterkey.Key) (ratelimit.Limits, *ratelimit.Device, error) {
	limits := ratelimit.DefaultLimits()
	for _, l := range []struct {
		name string
		raw  string
		dst  *ratelimit.Limit
	}{
		{"login_per_account", cfg.RateLimit.LoginPerAccount, &limits.FailedLoginPerIdentifier},
		{"login_per_ip", cfg.RateLimit.LoginPerIP, &limits.FailedLoginPerIP},
		{"login_per_device", cfg.RateLimit.LoginPerDevice, &limits.FailedLoginPerDevice},
		{"register_per_ip", cfg.RateLimit.RegisterPerIP, &limits.RegisterPerIP},
		{"mail_per_address", cfg.RateLimit.MailPerAddress, &limits.MailPerAddress},
		{"mail_per_ip", cfg.RateLimit.MailPerIP, &limits.MailPerIP},
		{"code_per_account", cfg.RateLimit.CodePerAccount, &limits.WrongCodePerAccount},
		{"invalid_token_per_ip", cfg.RateLimit.InvalidTokenPerIP, &limits.InvalidTokenPerIP},
		{"passkey_begin_per_ip", cfg.RateLimit.PasskeyBeginPerIP, &limits.PasskeyBeginPerIP},
	} {
		rate, err := config.ParseRate(l.raw)
		if err != nil {
			return ratelimit.Limits{}, nil, fmt.Errorf("rate_limit.%s: %w", l.name, err)
		}
		*l.dst = ratelimit.Per(rate.N, rate.Per)
	}
	secret, err := key.Derive("gatehouse device tokens", 32)
	if err != nil {
		return ratelimit.Limits{}, nil, err
	}
	devices, err := ratelimit.NewDevice(secret)
	if err != nil {
		return ratelimit.Limits{}, nil, err
	}
	return limits, devices, nil
}

// readiness lists what /readyz checks: the database, and Redis when it is
// configured. While Redis is down, /readyz fails and the requests that need
// a rate-limit check are refused with 503; everything else keeps working.
func readiness(cfg Config, st store.Store, limits *ratelimit.Policy) map[string]web.Pinger {
	ready := map[string]web.Pinger{"database": st}
	if cfg.RedisURL != "" && limits != nil {
		ready["redis"] = limits
	}
	return ready
}

// watch registers the gauges read when metrics are scraped: the hash pool,
// the active sessions and the mail outbox's depth. The counts are store
// queries over large tables, so each is cached for 15 seconds; with several
// nodes sharing a database every node reports the same totals.
func (g *Gatehouse) watch() {
	g.metrics.WatchHashPool(g.hashing.pool)
	g.metrics.WatchCount("gatehouse_active_sessions", "Sessions not past their absolute expiry (across every node).",
		15*time.Second, func(ctx context.Context) (int, error) { return g.store.CountActiveSessions(ctx, time.Now()) })
	g.metrics.WatchCount("gatehouse_mail_outbox_depth", "Mails waiting in the outbox: neither delivered nor given up.",
		15*time.Second, g.store.CountPendingMails)
}

// MetricsHandler serves the Prometheus metrics, whatever metrics.enabled
// says: for a listener of their own (metrics.listen), or for an embedding
// application to mount where it likes.
func (g *Gatehouse) MetricsHandler() http.Handler { return g.metrics.Handler() }

// HashPoolStats returns a snapshot of the password hash pool: its size,
// what is running and waiting, and how many hashes it has refused.
func (g *Gatehouse) HashPoolStats() hashpool.Stats { return g.hashing.pool.Stats() }
