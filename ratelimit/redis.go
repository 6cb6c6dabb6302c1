package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the default of [RedisConfig.Prefix].
const DefaultPrefix = "gatehouse:rl:"

// ErrUnavailable wraps the errors of a limiter that could not reach its
// store. The request must then be refused: see [Redis].
var ErrUnavailable = errors.New("ratelimit: limiter unavailable")

// RedisConfig configures a [Redis] limiter.
type RedisConfig struct {
	// Client is the connection to Redis (a *redis.Client, *redis.ClusterClient
	// or *redis.Ring). Required. Give it short timeouts, because every
	// sign-in waits on it: for example DialTimeout and ReadTimeout of 500ms,
	// MaxRetries 1 and ContextTimeoutEnabled, so that an outage turns into
	// quick refusals rather than requests that hang.
	Client redis.UniversalClient
	// Prefix is put before every key Gatehouse stores, so that an ACL such
	// as ~gatehouse:* can confine Gatehouse to its own keys. Default:
	// DefaultPrefix ("gatehouse:rl:").
	Prefix string
}

// Redis is a [Limiter] that keeps its counts in Redis, shared by every
// Gatehouse node that uses the same Redis. It runs the GCRA of
// github.com/go-redis/redis_rate as one Lua script per call, so concurrent
// calls from any number of nodes are counted exactly, and time is Redis's
// own clock, so the nodes' clocks need not agree. Each key is one Redis
// string that expires when its allowance has fully come back, so idle keys
// cost nothing.
//
// # Failing closed
//
// When Redis does not answer, Allow and Peek return an error wrapping
// [ErrUnavailable] and a Result that refuses. The caller must refuse the
// request rather than let it through unlimited; otherwise an attacker who
// can slow Redis down, or wait for it to restart, gets unlimited password
// guesses. The HTTP layer answers 503 with a short Retry-After, or, if the
// operator chose so, falls back to a per-node [Memory] limiter: a weaker
// limit (each node allows the full amount) but still a limit. That choice
// belongs to the caller, which also logs the outage; this package only
// reports it.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	limiter *redis_rate.Limiter
}

// NewRedis returns a limiter over cfg.Client. It does not contact Redis; call
// [Redis.Ping] at start-up to find out whether Redis answers.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if cfg.Client == nil {
		return nil, errors.New("ratelimit: RedisConfig.Client is required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	ks := keyspace{client: cfg.Client, prefix: cfg.Prefix}
	return &Redis{client: cfg.Client, prefix: cfg.Prefix, limiter: redis_rate.NewLimiter(ks)}, nil
}

// Allow implements [Limiter].
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	g, err := l.check()
	if err != nil {
		return Result{}, err
	}
	res, err := r.limiter.Allow(ctx, key, r.limit(l, g))
	if err != nil {
		return Result{}, fmt.Errorf("%w: redis: %w", ErrUnavailable, err)
	}
	if res.Allowed > 0 {
		return Result{Allowed: true, Remaining: res.Remaining}, nil
	}
	return Result{RetryAfter: atLeast(res.RetryAfter)}, nil
}

// Peek implements [Limiter]. It runs the same script as Allow with a cost
// of zero, which counts nothing: it stores back the state it read.
func (r *Redis) Peek(ctx context.Context, key string, l Limit) (Result, error) {
	g, err := l.check()
	if err != nil {
		return Result{}, err
	}
	res, err := r.limiter.AllowN(ctx, key, r.limit(l, g), 0)
	if err != nil {
		return Result{}, fmt.Errorf("%w: redis: %w", ErrUnavailable, err)
	}
	// With a cost of zero, Remaining is how many events fit now, and
	// ResetAfter is how far the key's theoretical arrival time lies ahead;
	// the next event fits once that is no more than burst-1 intervals.
	if res.Remaining >= 1 {
		return Result{Allowed: true, Remaining: res.Remaining}, nil
	}
	return Result{RetryAfter: atLeast(res.ResetAfter - g.window + g.interval)}, nil
}

// Reset implements [Limiter].
func (r *Redis) Reset(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("%w: redis: %w", ErrUnavailable, err)
	}
	return nil
}

// Ping reports whether Redis answers, for start-up checks and health
// endpoints.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("%w: redis: %w", ErrUnavailable, err)
	}
	return nil
}

func (r *Redis) limit(l Limit, g gcra) redis_rate.Limit {
	return redis_rate.Limit{Rate: l.Rate, Period: l.Period, Burst: g.burst}
}

// atLeast keeps a refusal's RetryAfter positive when the script's floating
// point arithmetic rounds it to zero or below.
func atLeast(d time.Duration) time.Duration { return max(d, time.Millisecond) }

// redisRatePrefix is what redis_rate v10 puts before every key it is given.
const redisRatePrefix = "rate:"

// keyspace is the Redis client as redis_rate sees it, with redis_rate's
// fixed key prefix replaced by Gatehouse's own, so that every key Gatehouse
// stores lies under one prefix an operator can grant, inspect and flush.
// A key without redis_rate's prefix is refused rather than passed on, so a
// change in redis_rate shows up as errors in the tests, not as keys strewn
// outside the prefix.
type keyspace struct {
	client redis.UniversalClient
	prefix string
}

func (k keyspace) keys(keys []string) ([]string, error) {
	out := make([]string, len(keys))
	for i, key := range keys {
		rest, ok := strings.CutPrefix(key, redisRatePrefix)
		if !ok {
			return nil, fmt.Errorf("ratelimit: unexpected key from redis_rate: %q", key)
		}
		out[i] = k.prefix + rest
	}
	return out, nil
}

func (k keyspace) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	keys, err := k.keys(keys)
	if err != nil {
		return redis.NewCmdResult(nil, err)
	}
	return k.client.Eval(ctx, script, keys, args...)
}

func (k keyspace) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	keys, err := k.keys(keys)
	if err != nil {
		return redis.NewCmdResult(nil, err)
	}
	return k.client.EvalSha(ctx, sha1, keys, args...)
}

func (k keyspace) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	keys, err := k.keys(keys)
	if err != nil {
		return redis.NewCmdResult(nil, err)
	}
	return k.client.EvalRO(ctx, script, keys, args...)
}

func (k keyspace) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	keys, err := k.keys(keys)
	if err != nil {
		return redis.NewCmdResult(nil, err)
	}
	return k.client.EvalShaRO(ctx, sha1, keys, args...)
}

func (k keyspace) ScriptExists(ctx context.Context, hashes ...string) *redis.BoolSliceCmd {
	return k.client.ScriptExists(ctx, hashes...)
}

func (k keyspace) ScriptLoad(ctx context.Context, script string) *redis.StringCmd {
	return k.client.ScriptLoad(ctx, script)
}

func (k keyspace) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	keys, err := k.keys(keys)
	if err != nil {
		return redis.NewIntResult(0, err)
	}
	return k.client.Del(ctx, keys...)
}
