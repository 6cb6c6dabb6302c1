// Package hashpool bounds how much password hashing a Gatehouse server does
// at once, so that a flood of sign-ins cannot take the whole server down.
//
// Hashing a password with argon2id costs tens of milliseconds of CPU and
// about 19 MiB of memory, by design. Without a bound, a few hundred
// concurrent sign-in attempts (valid or not, since an unknown user is hashed
// too) use every core and a lot of memory, and every other request (session
// checks, token checks, pages that hash nothing) queues behind them. A
// [Pool] runs at most one hash per worker (by default one per core the
// process may use), lets a short queue wait for a worker, and refuses
// everything beyond that at once with [ErrBusy], which the web layer turns
// into 503 with Retry-After. The rest of the server keeps its share of the
// CPU, and a refused client learns so in microseconds rather than after a
// long wait.
//
// # Threat model
//
// A denial of service by CPU and memory exhaustion through endpoints that
// hash passwords (sign-in, registration, password change and reset).
// Per-account and per-address limits (package ratelimit) reduce how many
// such requests reach the hash; the pool bounds what those that do reach it
// can cost. It does not stop an attacker from keeping the pool itself busy,
// which delays other users' sign-ins: that is the trade-off that keeps the
// rest of the server up.
//
// # What it does not do
//
// It does not hash: the caller passes the work as a function. It does not
// interrupt work that has started: the hashing functions take no context,
// so a context only bounds the wait for a worker. It does not order the
// queue by priority.
package hashpool

import (
	"container/list"
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ErrBusy is returned by [Pool.Do], without waiting, when every worker is
// busy and the queue is full. The web layer answers 503 Service Unavailable
// with a Retry-After of a second or so: a queue that is full now drains
// within a few hash times.
var ErrBusy = errors.New("hashpool: busy")

// ErrClosed is returned by [Pool.Do] once the pool is closed.
var ErrClosed = errors.New("hashpool: closed")

// Pool runs functions on a bounded number of workers, with a bounded queue
// in front of them. A worker is a slot, not a goroutine: the function runs on
// the goroutine that called [Pool.Do] once that goroutine holds a slot, so
// handing work over costs nothing, a panic in the function reaches the
// caller (after the slot is freed), and there is no goroutine to leak. The
// queue is first come, first served.
//
// A Pool is safe for concurrent use.
type Pool struct {
	workers, queueLimit int

	mu       sync.Mutex
	inUse    int
	queue    list.List // of *waiter
	rejected uint64
	closed   bool
	drained  chan struct{} // closed when the pool is closed and idle

	onWait atomic.Pointer[func(time.Duration)]
}

// waiter is a call of Do waiting in the queue.
type waiter struct {
	// ready receives nil when the waiter is handed a slot, or ErrClosed.
	ready chan error
	// elem is the waiter's place in the queue, nil once it has left it.
	// Guarded by Pool.mu.
	elem *list.Element
}

// New returns a pool of workers workers, with room for queue calls to wait
// for one. workers <= 0 means runtime.GOMAXPROCS(0): the cores the process
// may use, which unlike runtime.NumCPU accounts for a container's CPU quota.
// queue == 0 means 4 × workers; queue < 0 means no queue, so that a call
// that finds every worker busy fails at once.
func New(workers, queue int) *Pool {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case queue == 0:
		queue = 4 * workers
	case queue < 0:
		queue = 0
	}
	return &Pool{workers: workers, queueLimit: queue, drained: make(chan struct{})}
}

// Do runs f on a worker and returns once f has returned.
//
// When a worker is free, f runs at once. When none is, Do waits in the
// queue; if the queue is full too, Do returns ErrBusy at once, without
// running f. If ctx is done before a worker frees up, Do leaves the queue
// and returns ctx.Err() without running f. Once f has started, Do waits for
// it whatever ctx does. After [Pool.Close], Do returns ErrClosed.
func (p *Pool) Do(ctx context.Context, f func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var waited time.Duration
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return ErrClosed
	case p.inUse < p.workers:
		// A free slot implies an empty queue: release hands slots to
		// waiters directly.
		p.inUse++
		p.mu.Unlock()
	case p.queue.Len() >= p.queueLimit:
		p.rejected++
		p.mu.Unlock()
		return ErrBusy
	default:
		start := time.Now()
		w := &waiter{ready: make(chan error, 1)}
		w.elem = p.queue.PushBack(w)
		p.mu.Unlock()
		if err := p.wait(ctx, w); err != nil {
			return err
		}
		waited = time.Since(start)
	}
	defer p.release()
	if hook := p.onWait.Load(); hook != nil {
		(*hook)(waited)
	}
	f()
	return nil
}

// wait waits for w to be handed a slot, and returns nil when it has one.
func (p *Pool) wait(ctx context.Context, w *waiter) error {
	select {
	case err := <-w.ready:
		return err
	case <-ctx.Done():
	}
	p.mu.Lock()
	if w.elem != nil {
		p.queue.Remove(w.elem)
		w.elem = nil
		p.mu.Unlock()
		return ctx.Err()
	}
	p.mu.Unlock()
	// A slot (or ErrClosed) was handed over as ctx ended; give it back.
	if err := <-w.ready; err != nil {
		return err
	}
	p.release()
	return ctx.Err()
}

// release frees a slot, handing it to the first waiter if there is one.
func (p *Pool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.queue.Front(); e != nil {
		w := p.queue.Remove(e).(*waiter)
		w.elem = nil
		w.ready <- nil
		return
	}
	p.inUse--
	if p.closed && p.inUse == 0 {
		close(p.drained)
	}
}

// OnWait sets a function that observes, for every call of [Pool.Do] that
// gets a worker, how long it waited for one (zero when a worker was free),
// for example a histogram's Observe. It runs on the caller's goroutine
// before the work, so it must be quick. OnWait may be called at any time,
// also while the pool is in use; nil removes the function.
func (p *Pool) OnWait(f func(time.Duration)) {
	if f == nil {
		p.onWait.Store(nil)
		return
	}
	p.onWait.Store(&f)
}

// Stats is a snapshot of a pool's state, for metrics.
type Stats struct {
	// Workers and QueueLimit are the pool's sizes.
	Workers, QueueLimit int
	// InUse is how many workers are running a function.
	InUse int
	// Queued is how many calls are waiting for a worker.
	Queued int
	// Rejected counts the calls refused with ErrBusy since the pool was made.
	Rejected uint64
}

// Stats returns a snapshot of the pool's state.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Workers: p.workers, QueueLimit: p.queueLimit, InUse: p.inUse, Queued: p.queue.Len(), Rejected: p.rejected}
}

// Close stops the pool: later calls of Do return ErrClosed, calls waiting in
// the queue return ErrClosed at once, and Close returns when the functions
// already running have returned. It is safe to call more than once.
func (p *Pool) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		for e := p.queue.Front(); e != nil; e = p.queue.Front() {
			w := p.queue.Remove(e).(*waiter)
			w.elem = nil
			w.ready <- ErrClosed
		}
		if p.inUse == 0 {
			close(p.drained)
		}
	}
	p.mu.Unlock()
	<-p.drained
}
