package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a clock that moves only when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is what the behavioural suite needs of one Limiter.
type harness struct {
	limiter Limiter
	// wait lets d pass: moves a fake clock, or sleeps.
	wait func(d time.Duration)
	// slack is how much real time may pass during a test, so how much
	// smaller than the exact figure a RetryAfter may be: zero with a fake
	// clock.
	slack time.Duration
	// unit is the emission interval of the limits that the suite lets time
	// pass on: short for a real clock, so that the suite stays quick, yet
	// long enough that the time a test step takes does not matter.
	unit time.Duration
}

// step is one call in a behavioural table.
type step struct {
	wait          time.Duration // before the call
	peek          bool          // Peek rather than Allow
	key           string        // "" means "k"
	reset         bool          // Reset key instead of calling Allow or Peek
	wantAllowed   bool
	wantRemaining int
	wantRetry     time.Duration
}

// runLimiterSuite runs the behaviour every Limiter must have, against the
// limiters that newHarness makes (a fresh one per subtest).
func runLimiterSuite(t *testing.T, newHarness func(t *testing.T) harness) {
	t.Run("table", func(t *testing.T) {
		for _, tc := range limiterTable(newHarness(t).unit) {
			t.Run(tc.name, func(t *testing.T) {
				h := newHarness(t)
				ctx := context.Background()
				for i, s := range tc.steps {
					if s.wait > 0 {
						h.wait(s.wait)
					}
					key := s.key
					if key == "" {
						key = "k"
					}
					var (
						got Result
						err error
						op  = "Allow"
					)
					switch {
					case s.reset:
						if err := h.limiter.Reset(ctx, key); err != nil {
							t.Fatalf("step %d: Reset(%q) = %v", i, key, err)
						}
						continue
					case s.peek:
						op = "Peek"
						got, err = h.limiter.Peek(ctx, key, tc.limit)
					default:
						got, err = h.limiter.Allow(ctx, key, tc.limit)
					}
					if err != nil {
						t.Fatalf("step %d: %s(%q) error: %v", i, op, key, err)
					}
					if got.Allowed != s.wantAllowed || got.Remaining != s.wantRemaining {
						t.Errorf("step %d: %s(%q) = allowed %v, remaining %d; want %v, %d",
							i, op, key, got.Allowed, got.Remaining, s.wantAllowed, s.wantRemaining)
					}
					if !retryNear(got.RetryAfter, s.wantRetry, h.slack) {
						t.Errorf("step %d: %s(%q).RetryAfter = %v, want %v (slack %v)", i, op, key, got.RetryAfter, s.wantRetry, h.slack)
					}
				}
			})
		}
	})

	t.Run("InvalidLimit", func(t *testing.T) {
		h := newHarness(t)
		for _, l := range []Limit{{}, {Rate: -1, Period: time.Second}, {Rate: 1}, {Rate: 1, Period: time.Second, Burst: -1}, {Rate: 10, Period: 5}} {
			if _, err := h.limiter.Allow(context.Background(), "k", l); !errors.Is(err, ErrInvalidLimit) {
				t.Errorf("Allow(%+v) error = %v, want ErrInvalidLimit", l, err)
			}
			if _, err := h.limiter.Peek(context.Background(), "k", l); !errors.Is(err, ErrInvalidLimit) {
				t.Errorf("Peek(%+v) error = %v, want ErrInvalidLimit", l, err)
			}
		}
	})

	// 100 concurrent events on one key with room for 10: exactly 10 get in.
	t.Run("Concurrent", func(t *testing.T) {
		h := newHarness(t)
		var allowed atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 100 {
			wg.Go(func() {
				<-start
				r, err := h.limiter.Allow(context.Background(), "shared", PerHour(10))
				if err != nil {
					t.Error(err)
					return
				}
				if r.Allowed {
					allowed.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := allowed.Load(); n != 10 {
			t.Errorf("100 concurrent Allow with a limit of 10: %d allowed, want 10", n)
		}
	})
}

// retryNear reports whether got is want, or up to slack less (real time
// passing between calls shortens a wait), give or take a millisecond of
// floating-point rounding.
func retryNear(got, want, slack time.Duration) bool {
	if want == 0 {
		return got == 0
	}
	return got <= want+time.Millisecond && got >= want-slack-time.Millisecond
}

type limiterCase struct {
	name  string
	limit Limit
	steps []step
}

// limiterTable is the behavioural table; u is the emission interval of the
// limits on which time passes.
func limiterTable(u time.Duration) []limiterCase {
	slow := PerHour(3) // 20 minutes between events: no time passes
	return []limiterCase{{
		name:  "burst then refuse",
		limit: slow,
		steps: []step{
			{wantAllowed: true, wantRemaining: 2},
			{wantAllowed: true, wantRemaining: 1},
			{wantAllowed: true, wantRemaining: 0},
			{wantRetry: 20 * time.Minute},
			{wantRetry: 20 * time.Minute}, // a refused event is not counted
		},
	}, {
		name:  "burst differs from rate",
		limit: Limit{Rate: 60, Period: time.Hour, Burst: 2},
		steps: []step{
			{wantAllowed: true, wantRemaining: 1},
			{wantAllowed: true, wantRemaining: 0},
			{wantRetry: time.Minute},
		},
	}, {
		name:  "zero burst means rate",
		limit: Limit{Rate: 2, Period: time.Hour},
		steps: []step{
			{wantAllowed: true, wantRemaining: 1},
			{wantAllowed: true, wantRemaining: 0},
			{wantRetry: 30 * time.Minute},
		},
	}, {
		name:  "peek does not count",
		limit: slow,
		steps: []step{
			{peek: true, wantAllowed: true, wantRemaining: 3},
			{peek: true, wantAllowed: true, wantRemaining: 3},
			{peek: true, wantAllowed: true, wantRemaining: 3},
			{wantAllowed: true, wantRemaining: 2},
			{peek: true, wantAllowed: true, wantRemaining: 2},
			{wantAllowed: true, wantRemaining: 1},
			{wantAllowed: true, wantRemaining: 0},
			{peek: true, wantRetry: 20 * time.Minute},
			{peek: true, wantRetry: 20 * time.Minute},
			{wantRetry: 20 * time.Minute},
		},
	}, {
		name:  "keys are independent",
		limit: Per(1, time.Hour),
		steps: []step{
			{key: "a", wantAllowed: true},
			{key: "a", wantRetry: time.Hour},
			{key: "b", peek: true, wantAllowed: true, wantRemaining: 1},
			{key: "b", wantAllowed: true},
			{key: "b", wantRetry: time.Hour},
		},
	}, {
		name:  "reset forgets",
		limit: Per(1, time.Hour),
		steps: []step{
			{wantAllowed: true},
			{wantRetry: time.Hour},
			{reset: true},
			{peek: true, wantAllowed: true, wantRemaining: 1},
			{wantAllowed: true},
			{key: "never-seen", reset: true},
		},
	}, {
		name:  "refill one interval at a time",
		limit: Limit{Rate: 1, Period: u, Burst: 2},
		steps: []step{
			{wantAllowed: true, wantRemaining: 1},
			{wantAllowed: true, wantRemaining: 0},
			{wantRetry: u},
			{peek: true, wantRetry: u},
			{wait: u, peek: true, wantAllowed: true, wantRemaining: 1},
			{wantAllowed: true, wantRemaining: 0},
			{wantRetry: u},
		},
	}, {
		name:  "refused events do not push the wait further",
		limit: Limit{Rate: 1, Period: u, Burst: 1},
		steps: []step{
			{wantAllowed: true},
			{wantRetry: u},
			{wantRetry: u},
			{wantRetry: u},
			{wait: u, wantAllowed: true},
		},
	}}
}

func TestMemory(t *testing.T) {
	runLimiterSuite(t, func(t *testing.T) harness {
		clk := newClock()
		m, err := NewMemory(MemoryConfig{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return harness{limiter: m, wait: clk.Add, unit: time.Minute}
	})
}

// ExampleLimit_String shows how limits read in logs and references.
func ExampleLimit_String() {
	fmt.Println(Per(10, 15*time.Minute))
	fmt.Println(Limit{Rate: 60, Period: time.Hour, Burst: 10})
	// Output:
	// 10 per 15m0s (burst 10)
	// 60 per 1h0m0s (burst 10)
}
