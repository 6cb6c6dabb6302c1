package accounts

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/hashpool"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
)

// ErrBusy is the error of a request that needed a password hashed while the
// hash pool was saturated: every worker busy and the queue full. Its code is
// EUnavailable, which the HTTP layer answers with 503 and Retry-After: 1.
//
// 503 rather than 429: the client did nothing wrong and is not over any
// limit of its own; the server as a whole is at capacity for a moment, which
// is what 503 says (RFC 9110 §15.6.4). A sign-in refused this way is not
// counted as a failure, and is refused the same way whether or not the
// account exists, so it reveals nothing.
var ErrBusy = &auth.Error{Code: auth.EUnavailable,
	Message: "Too many sign-ins are being checked right now. Try again in a moment.", Err: hashpool.ErrBusy}

// PooledHasher returns a Hasher that runs every Hash and Verify of h on
// pool, so that however many requests arrive, at most the pool's workers
// hash at once and at most its queue waits; beyond that, Hash and Verify
// fail at once with ErrBusy, and the rest of the server (session and token
// checks, pages that hash nothing) keeps its share of the CPU. With threads
// (which may be nil), the hashes themselves run on those low-priority
// threads, which should number as many as the pool's workers. NeedsRehash
// hashes nothing and runs directly.
//
// Hasher's methods take no context, so a call waits in the queue until a
// worker frees up even if its request has gone; the queue is short (a few
// hash times), which bounds that waste.
func PooledHasher(h Hasher, pool *hashpool.Pool, threads *hashpool.Threads) Hasher {
	return &pooledHasher{h: h, pool: pool, threads: threads}
}

type pooledHasher struct {
	h       Hasher
	pool    *hashpool.Pool
	threads *hashpool.Threads
}

// do runs f on a worker of the pool, and on one of the threads if any.
func (p *pooledHasher) do(f func()) error {
	if p.threads != nil {
		return p.pool.Do(context.Background(), func() { p.threads.Run(f) })
	}
	return p.pool.Do(context.Background(), f)
}

func (p *pooledHasher) Hash(password string) (encoded string, err error) {
	if perr := p.do(func() { encoded, err = p.h.Hash(password) }); perr != nil {
		return "", poolError(perr)
	}
	return encoded, err
}

func (p *pooledHasher) Verify(password, encoded string) (ok bool, err error) {
	if perr := p.do(func() { ok, err = p.h.Verify(password, encoded) }); perr != nil {
		return false, poolError(perr)
	}
	return ok, err
}

func (p *pooledHasher) NeedsRehash(encoded string) bool { return p.h.NeedsRehash(encoded) }

func poolError(err error) error {
	if errors.Is(err, hashpool.ErrBusy) {
		return ErrBusy
	}
	return auth.Internal(err)
}

// busy reports whether err is the hash pool refusing work, which callers
// pass on as it is rather than treat as a wrong password or a failed hash.
func busy(err error) bool { return errors.Is(err, hashpool.ErrBusy) }

// RateLimited returns the ERateLimited error of a request that res refused,
// carrying the wait for Retry-After (a *RateLimitError), for the callers of
// ratelimit outside this package, such as the sign-in limits of the web
// layer.
func RateLimited(res ratelimit.Result) error { return rateLimited(res) }

// limiterRetry is how long a client refused because the rate limiter did
// not answer is asked to wait: long enough for a Redis failover.
const limiterRetry = 5 * time.Second

// retryLater is an EUnavailable error with the wait for Retry-After.
type retryLater struct {
	err   *auth.Error
	after time.Duration
}

func (e *retryLater) Error() string { return e.err.Error() }

// Unwrap returns the *auth.Error, so that auth.ErrorCode sees EUnavailable.
func (e *retryLater) Unwrap() error { return e.err }

// RetryAfterSeconds is the wait in whole seconds, at least 1.
func (e *retryLater) RetryAfterSeconds() int {
	return max(int((e.after+time.Second-1)/time.Second), 1)
}

// limiterDown is the error of a request whose rate limit could not be
// checked because the limiter's store (Redis) did not answer: refused with
// 503 and Retry-After, never let through unlimited and never a 500, since
// it says nothing is wrong with Gatehouse itself.
func limiterDown(err error) error {
	return &retryLater{err: &auth.Error{Code: auth.EUnavailable,
		Message: "This is briefly unavailable. Try again in a few seconds.", Err: err}, after: limiterRetry}
}
