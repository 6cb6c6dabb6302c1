package ratelimit

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

func newMemory(t testing.TB, cfg MemoryConfig) *Memory {
	t.Helper()
	m, err := NewMemory(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The sign-in limit of the HTTP contract, with the exact waits a fake clock
// allows: ten at once, then one every 90 seconds.
func TestMemoryRetryAfter(t *testing.T) {
	clk := newClock()
	m := newMemory(t, MemoryConfig{Now: clk.Now})
	l := Per(10, 15*time.Minute)
	ctx := context.Background()
	for i := range 10 {
		r, _ := m.Allow(ctx, "k", l)
		if !r.Allowed || r.Remaining != 9-i {
			t.Fatalf("event %d: allowed %v, remaining %d; want true, %d", i+1, r.Allowed, r.Remaining, 9-i)
		}
	}
	tests := []struct {
		wait        time.Duration
		peek        bool
		wantAllowed bool
		wantRetry   time.Duration
		wantSeconds int
	}{
		{0, false, false, 90 * time.Second, 90},
		{30 * time.Second, true, false, 60 * time.Second, 60},
		{59*time.Second + 500*time.Millisecond, false, false, 500 * time.Millisecond, 1},
		{500 * time.Millisecond, true, true, 0, 0},
		{0, false, true, 0, 0},
		{0, false, false, 90 * time.Second, 90},
		{15 * time.Minute, true, true, 0, 0},
	}
	for i, tc := range tests {
		clk.Add(tc.wait)
		var r Result
		if tc.peek {
			r, _ = m.Peek(ctx, "k", l)
		} else {
			r, _ = m.Allow(ctx, "k", l)
		}
		if r.Allowed != tc.wantAllowed || r.RetryAfter != tc.wantRetry || r.RetryAfterSeconds() != tc.wantSeconds {
			t.Errorf("step %d (peek %v): allowed %v, RetryAfter %v (%d s); want %v, %v (%d s)",
				i, tc.peek, r.Allowed, r.RetryAfter, r.RetryAfterSeconds(), tc.wantAllowed, tc.wantRetry, tc.wantSeconds)
		}
	}
	if r, _ := m.Peek(ctx, "k", l); r.Remaining != 10 {
		t.Errorf("after 15 quiet minutes: Remaining %d, want 10", r.Remaining)
	}
}

func TestNewMemory(t *testing.T) {
	tests := []struct {
		cfg        MemoryConfig
		wantErr    bool
		wantShards int
		wantCap    int
	}{
		{MemoryConfig{}, false, maxShards, DefaultMaxKeys / maxShards},
		{MemoryConfig{MaxKeys: 1}, false, 1, 1},
		{MemoryConfig{MaxKeys: 10000}, false, 2, 5000},
		{MemoryConfig{MaxKeys: -1}, true, 0, 0},
	}
	for _, tc := range tests {
		m, err := NewMemory(tc.cfg)
		if (err != nil) != tc.wantErr {
			t.Errorf("NewMemory(%+v) error = %v, want error %v", tc.cfg, err, tc.wantErr)
			continue
		}
		if err == nil && (len(m.shards) != tc.wantShards || m.shardCap != tc.wantCap) {
			t.Errorf("NewMemory(%+v): %d shards of %d; want %d of %d", tc.cfg, len(m.shards), m.shardCap, tc.wantShards, tc.wantCap)
		}
	}
}

// Idle keys are dropped at the next sweep, and the answers do not change.
func TestMemorySweepsIdleKeys(t *testing.T) {
	clk := newClock()
	m := newMemory(t, MemoryConfig{MaxKeys: 1000, Now: clk.Now})
	ctx := context.Background()
	l := PerMinute(2)
	for i := range 100 {
		m.Allow(ctx, fmt.Sprint("idle-", i), l)
	}
	busy := Per(1, time.Hour)
	m.Allow(ctx, "busy", busy)
	if n := m.Len(); n != 101 {
		t.Fatalf("Len() = %d, want 101", n)
	}
	clk.Add(sweepEvery)
	m.Allow(ctx, "new", l) // sweeps
	if n := m.Len(); n != 2 {
		t.Errorf("after a quiet minute, Len() = %d, want 2 (busy and new)", n)
	}
	if r, _ := m.Peek(ctx, "busy", busy); r.Allowed {
		t.Error("the busy key was forgotten by the sweep")
	}
	if r, _ := m.Peek(ctx, "idle-7", l); !r.Allowed || r.Remaining != 2 {
		t.Errorf("a swept key: allowed %v, remaining %d; want true, 2", r.Allowed, r.Remaining)
	}
}

// At the cap, a flood of new keys never grows the table, never refuses a
// new key, and does not free a key that is being refused.
func TestMemoryCap(t *testing.T) {
	tests := []struct {
		name string
		// setup runs first; then a flood of new keys, one event each.
		setup       func(ctx context.Context, m *Memory, clk *clock)
		flood       int      // one failed sign-in each for that many new identifiers
		stillLimits []string // keys that must still be refused after the flood
		forgotten   []string // keys that must have been evicted
	}{{
		name: "a limited key survives a flood",
		setup: func(ctx context.Context, m *Memory, clk *clock) {
			for range 10 {
				m.Allow(ctx, "victim", Per(10, 15*time.Minute))
			}
		},
		flood:       1000,
		stillLimits: []string{"victim"},
	}, {
		name: "the lightest key goes first",
		setup: func(ctx context.Context, m *Memory, clk *clock) {
			for range 10 {
				m.Allow(ctx, "heavy", Per(10, 15*time.Minute))
			}
			m.Allow(ctx, "light", Per(10, 15*time.Minute))
			for range 2 {
				m.Allow(ctx, "medium", Per(2, time.Hour))
			}
			m.Allow(ctx, "other", Per(1, time.Hour))
		},
		flood:       1,
		stillLimits: []string{"heavy", "medium", "other"},
		forgotten:   []string{"light"},
	}, {
		name: "an idle key goes before a lighter busy one",
		setup: func(ctx context.Context, m *Memory, clk *clock) {
			m.Allow(ctx, "idle", Per(1, 10*time.Second))
			clk.Add(11 * time.Second) // idle, but not yet swept
			for range 3 {
				m.Allow(ctx, "busy", Per(3, time.Hour))
			}
			m.Allow(ctx, "slightly-busy", Per(100, time.Hour))
			m.Allow(ctx, "a", Per(1, time.Hour))
		},
		flood:     1,
		forgotten: []string{"idle"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			clk := newClock()
			m := newMemory(t, MemoryConfig{MaxKeys: 4, Now: clk.Now})
			tc.setup(ctx, m, clk)
			for i := range tc.flood {
				r, err := m.Allow(ctx, fmt.Sprint("flood-", i), Per(10, 15*time.Minute))
				if err != nil || !r.Allowed {
					t.Fatalf("new key %d: allowed %v, error %v; want allowed", i, r.Allowed, err)
				}
				if n := m.Len(); n > 4 {
					t.Fatalf("after %d new keys, Len() = %d, want at most 4", i+1, n)
				}
			}
			limits := map[string]Limit{"victim": Per(10, 15*time.Minute), "heavy": Per(10, 15*time.Minute),
				"medium": Per(2, time.Hour), "other": Per(1, time.Hour)}
			for _, k := range tc.stillLimits {
				if r, _ := m.Peek(ctx, k, limits[k]); r.Allowed {
					t.Errorf("Peek(%q) allowed after the flood; the key was evicted", k)
				}
			}
			for _, k := range tc.forgotten {
				s, h := m.lookup(k)
				if _, ok := s.cells[h]; ok {
					t.Errorf("%q is still tracked; want it evicted", k)
				}
			}
		})
	}
}

// TestMemoryFootprint measures what a tracked key costs, for the figure in
// DefaultMaxKeys's comment.
func TestMemoryFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory; skipped in -short")
	}
	const n = 1 << 18
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := newMemory(t, MemoryConfig{MaxKeys: n})
	for i := range n {
		m.Allow(context.Background(), fmt.Sprint("key-", i), PerHour(1))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per key (%d keys)", per, m.Len())
	if per > 100 {
		t.Errorf("%.0f bytes per key; DefaultMaxKeys's comment says about 60", per)
	}
	runtime.KeepAlive(m)
}

func BenchmarkMemoryAllow(b *testing.B) {
	m := newMemory(b, MemoryConfig{})
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("login-id:", i)
	}
	l := Per(10, 15*time.Minute)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Allow(context.Background(), keys[i%len(keys)], l)
			i++
		}
	})
}
