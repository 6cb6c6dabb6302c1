package ratelimit

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"
	"time"
)

// DefaultMaxKeys is the default of [MemoryConfig.MaxKeys]. At about
// 60 bytes a key (measured by TestMemoryFootprint), a full table takes some
// 60 MiB.
const DefaultMaxKeys = 1 << 20

const (
	// sweepEvery is how often each shard drops its idle keys.
	sweepEvery = time.Minute
	// evictSample is how many keys are weighed to choose one to evict.
	evictSample = 8
	// keysPerShard sets how many shards a table of MaxKeys gets, up to
	// maxShards: enough that concurrent requests rarely wait on one lock,
	// few enough that the cap stays a cap on small tables.
	keysPerShard = 4096
	maxShards    = 64
)

// MemoryConfig configures a [Memory] limiter.
type MemoryConfig struct {
	// MaxKeys caps how many keys are tracked at once; see [Memory] for what
	// happens at the cap. Default: DefaultMaxKeys (1,048,576).
	MaxKeys int
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Memory is a [Limiter] that keeps its counts in the process: for a single
// Gatehouse node. Several nodes each with their own Memory would each allow
// the full limit, so a deployment with more than one node uses [Redis].
//
// Memory is safe for concurrent use. Its keys are spread over up to 64
// shards, each with its own lock.
//
// # Bounded memory
//
// A key whose allowance has fully come back is idle: forgetting it changes
// no answer, so idle keys are dropped, a shard at a time, at most once a
// minute. Each key costs a 64-bit hash (seeded at random per process, so
// nobody outside can aim keys at a shard or pick keys that collide) and its
// GCRA state, whatever the key's length.
//
// At most MaxKeys keys are tracked. When a new key arrives at a full shard,
// it takes the place of the key that has used the smallest share of its own
// allowance, among eight picked at random; an idle key goes first. The two
// other choices are worse:
//
//   - refusing keys not yet seen (failing closed) would let anyone who sends
//     a flood of distinct identifiers lock every other user out;
//   - not tracking keys not yet seen (failing open) would let the same flood
//     switch the limits off for the account under attack.
//
// Evicting the lightest key means a flood makes the limiter more lenient
// only towards the keys with the least recorded use. A key that is being
// refused right now has less than one event of its allowance left, so it is
// evicted only when all eight keys weighed have used as large a share of
// theirs: the flood must keep about MaxKeys keys near their limits at the
// same time, which for the sign-in limits takes some ten requests per key.
// Against an attack of that size, use [Redis], whose memory the operator
// sizes separately.
type Memory struct {
	now      func() time.Time
	epoch    time.Time
	seed     maphash.Seed
	shards   []shard
	shardCap int
}

type shard struct {
	mu        sync.Mutex
	cells     map[uint64]cell
	lastSweep time.Duration
}

// cell is the GCRA state of one key.
type cell struct {
	// tat is the theoretical arrival time: when the key's allowance will
	// have fully come back, as time since epoch.
	tat time.Duration
	// window is the key's burst × interval, to weigh it against others when
	// one must be evicted.
	window time.Duration
}

// NewMemory returns an empty in-process limiter.
func NewMemory(cfg MemoryConfig) (*Memory, error) {
	if cfg.MaxKeys < 0 {
		return nil, errors.New("ratelimit: MaxKeys is negative")
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	n := min(max(cfg.MaxKeys/keysPerShard, 1), maxShards)
	m := &Memory{
		now:      cfg.Now,
		epoch:    cfg.Now(),
		seed:     maphash.MakeSeed(),
		shards:   make([]shard, n),
		shardCap: cfg.MaxKeys / n,
	}
	for i := range m.shards {
		m.shards[i].cells = make(map[uint64]cell)
	}
	return m, nil
}

// clock returns the time since m was made. Subtracting time.Times uses the
// monotonic clock when both carry it, so a step of the wall clock neither
// frees nor locks keys.
func (m *Memory) clock() time.Duration { return m.now().Sub(m.epoch) }

func (m *Memory) lookup(key string) (*shard, uint64) {
	h := maphash.String(m.seed, key)
	return &m.shards[h%uint64(len(m.shards))], h
}

// Allow implements [Limiter]. It never returns an error for a valid limit.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (Result, error) {
	g, err := l.check()
	if err != nil {
		return Result{}, err
	}
	s, h := m.lookup(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.clock()
	s.sweep(now)
	c, found := s.cells[h]
	tat := max(c.tat, now)
	if !found {
		tat = now
	}
	// GCRA in its virtual scheduling form (ITU-T I.371): an event conforms
	// when it arrives no earlier than the theoretical arrival time less the
	// tolerance, which here is the window less one interval.
	allowAt := tat + g.interval - g.window
	if now < allowAt {
		return Result{RetryAfter: allowAt - now}, nil
	}
	if !found && len(s.cells) >= m.shardCap {
		s.evict(now)
	}
	s.cells[h] = cell{tat: tat + g.interval, window: g.window}
	return Result{Allowed: true, Remaining: int((now - allowAt) / g.interval)}, nil
}

// Peek implements [Limiter]. It never returns an error for a valid limit.
func (m *Memory) Peek(_ context.Context, key string, l Limit) (Result, error) {
	g, err := l.check()
	if err != nil {
		return Result{}, err
	}
	s, h := m.lookup(key)
	s.mu.Lock()
	c, found := s.cells[h]
	s.mu.Unlock()
	now := m.clock()
	tat := now
	if found {
		tat = max(c.tat, now)
	}
	allowAt := tat + g.interval - g.window
	if now < allowAt {
		return Result{RetryAfter: allowAt - now}, nil
	}
	return Result{Allowed: true, Remaining: int((now-allowAt)/g.interval) + 1}, nil
}

// Reset implements [Limiter]. It never returns an error.
func (m *Memory) Reset(_ context.Context, key string) error {
	s, h := m.lookup(key)
	s.mu.Lock()
	delete(s.cells, h)
	s.mu.Unlock()
	return nil
}

// Len returns how many keys are tracked, idle ones not yet dropped included.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.cells)
		s.mu.Unlock()
	}
	return n
}

// sweep drops s's idle keys, if it has not done so in the last sweepEvery.
// The caller holds s.mu.
func (s *shard) sweep(now time.Duration) {
	if now-s.lastSweep < sweepEvery && now >= s.lastSweep {
		return
	}
	s.lastSweep = now
	for h, c := range s.cells {
		if c.tat <= now {
			delete(s.cells, h)
		}
	}
}

// evict drops one key to make room: among evictSample keys, the one that
// has used the smallest share of its allowance. Map iteration starts at a
// random place, which makes the sample random. The caller holds s.mu.
func (s *shard) evict(now time.Duration) {
	var (
		victim uint64
		least  float64
		n      int
	)
	for h, c := range s.cells {
		if c.tat <= now {
			victim = h // idle: forgetting it costs nothing
			break
		}
		share := float64(c.tat-now) / float64(c.window)
		if n == 0 || share < least {
			victim, least = h, share
		}
		if n++; n == evictSample {
			break
		}
	}
	delete(s.cells, victim)
}
