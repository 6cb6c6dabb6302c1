package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalidLimit is returned for a [Limit] whose Rate or Period is not
// positive, whose Burst is negative, or whose figures overflow.
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

// Limit is a rate: Rate events per Period on average, with up to Burst of
// them at once. The events are spread evenly (the generic cell rate
// algorithm, GCRA): once a key has used its burst, one more event is allowed
// every Period/Rate. "10 per 15 minutes" with a burst of 10 allows ten
// failures at once, then one every 90 seconds.
type Limit struct {
	// Rate is how many events a Period allows on average; it must be positive.
	Rate int
	// Period is the time over which Rate events are allowed; it must be
	// positive.
	Period time.Duration
	// Burst is how many events may happen at once after a quiet spell.
	// Zero means Rate.
	Burst int
}

// Per returns a limit of n events per d, with a burst of n.
func Per(n int, d time.Duration) Limit { return Limit{Rate: n, Period: d, Burst: n} }

// PerMinute returns a limit of n events a minute, with a burst of n.
func PerMinute(n int) Limit { return Per(n, time.Minute) }

// PerHour returns a limit of n events an hour, with a burst of n.
func PerHour(n int) Limit { return Per(n, time.Hour) }

// String returns the limit in a form fit for logs and configuration
// references, such as "10 per 15m0s (burst 10)".
func (l Limit) String() string {
	return fmt.Sprintf("%d per %s (burst %d)", l.Rate, l.Period, l.burst())
}

func (l Limit) burst() int {
	if l.Burst == 0 {
		return l.Rate
	}
	return l.Burst
}

// gcra holds a limit as the two durations GCRA works with.
type gcra struct {
	interval time.Duration // between two events at the sustained rate
	window   time.Duration // burst × interval: how far ahead a key may run
	burst    int
}

// check validates l and returns its GCRA figures.
func (l Limit) check() (gcra, error) {
	if l.Rate <= 0 || l.Period <= 0 || l.Burst < 0 {
		return gcra{}, fmt.Errorf("%w: %d per %s (burst %d)", ErrInvalidLimit, l.Rate, l.Period, l.Burst)
	}
	g := gcra{interval: l.Period / time.Duration(l.Rate), burst: l.burst()}
	if g.interval <= 0 {
		// More events per Period than nanoseconds in it.
		return gcra{}, fmt.Errorf("%w: %d per %s is finer than a nanosecond", ErrInvalidLimit, l.Rate, l.Period)
	}
	if int64(g.interval) > math.MaxInt64/int64(g.burst)/2 {
		return gcra{}, fmt.Errorf("%w: burst %d of %s overflows", ErrInvalidLimit, g.burst, g.interval)
	}
	g.window = g.interval * time.Duration(g.burst)
	return g, nil
}

// Result is a limiter's answer for one key.
type Result struct {
	// Allowed reports whether the event is within the limit. For Allow the
	// event has been counted if and only if Allowed is true; for Peek nothing
	// has been counted.
	Allowed bool
	// Remaining is how many more events the limit would allow right now:
	// after this one for Allow, including the next one for Peek.
	Remaining int
	// RetryAfter is how long until the next event would be allowed, when
	// Allowed is false; zero otherwise.
	RetryAfter time.Duration
}

// RetryAfterSeconds returns RetryAfter for an HTTP Retry-After header
// (RFC 9110 §10.2.3): whole seconds, rounded up so that a client that waits
// that long is allowed, and at least 1 when the event was refused. It is 0
// when the event was allowed.
func (r Result) RetryAfterSeconds() int {
	if r.Allowed {
		return 0
	}
	s := int((r.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}

// merge combines the results of several limits that all apply to one
// request: it is allowed only if each is, it has the least room left of any,
// and it must wait for the slowest of those that refused.
func merge(rs ...Result) Result {
	out := Result{Allowed: true, Remaining: math.MaxInt}
	for _, r := range rs {
		out.Remaining = min(out.Remaining, r.Remaining)
		if !r.Allowed {
			out.Allowed = false
			out.RetryAfter = max(out.RetryAfter, r.RetryAfter)
		}
	}
	if len(rs) == 0 {
		out.Remaining = 0
	}
	return out
}

// Limiter counts events per key against a limit. Keys are opaque strings;
// [Policy] builds them from account identifiers and client addresses so that
// none appears in clear.
//
// An error means the limiter could not decide (for [Redis], that Redis did
// not answer); the Result is then the zero Result, which refuses. Callers
// must refuse the request too rather than let it through unlimited: an
// attacker who can make the limiter fail must not gain unlimited guesses.
type Limiter interface {
	// Allow counts one event for key, if it is within l, and reports whether
	// it was. A refused event is not counted, so a client that keeps trying
	// while refused does not push its own Retry-After further away.
	Allow(ctx context.Context, key string, l Limit) (Result, error)
	// Peek reports whether one more event for key would be within l, without
	// counting anything. The sign-in path peeks before checking a password,
	// so that while an identifier is limited even a correct password is
	// refused (a limit must never confirm a password), and counts only
	// failures.
	Peek(ctx context.Context, key string, l Limit) (Result, error)
	// Reset forgets key, as if it had never been seen.
	Reset(ctx context.Context, key string) error
}
