package hashpool

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// eventually fails the test unless cond becomes true within 10 seconds. It
// waits for other goroutines to reach a state, and asserts nothing about
// how long that takes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// returns runs f and fails the test if it has not returned within 10
// seconds: "returns at once" without a timing assertion.
func returns(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s has not returned after 10s", what)
		return nil
	}
}

// holder keeps workers busy until released.
type holder struct {
	release chan struct{}
	started chan struct{}
	wg      sync.WaitGroup
	errs    chan error
}

func newHolder() *holder {
	return &holder{release: make(chan struct{}), started: make(chan struct{}, 100), errs: make(chan error, 100)}
}

// hold starts n calls of Do whose functions block until h.done.
func (h *holder) hold(p *Pool, n int) {
	for range n {
		h.wg.Go(func() {
			h.errs <- p.Do(context.Background(), func() {
				h.started <- struct{}{}
				<-h.release
			})
		})
	}
}

func (h *holder) done() {
	close(h.release)
	h.wg.Wait()
}

func TestNew(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	tests := []struct {
		workers, queue         int
		wantWorkers, wantQueue int
	}{
		{0, 0, procs, 4 * procs},
		{-1, 0, procs, 4 * procs},
		{3, 0, 3, 12},
		{3, 5, 3, 5},
		{3, -1, 3, 0},
	}
	for _, tc := range tests {
		p := New(tc.workers, tc.queue)
		s := p.Stats()
		if s.Workers != tc.wantWorkers || s.QueueLimit != tc.wantQueue {
			t.Errorf("New(%d, %d): %d workers, queue %d; want %d, %d", tc.workers, tc.queue, s.Workers, s.QueueLimit, tc.wantWorkers, tc.wantQueue)
		}
		p.Close()
	}
}

func TestDoRunsF(t *testing.T) {
	p := New(2, 0)
	defer p.Close()
	var ran int
	if err := p.Do(context.Background(), func() { ran++ }); err != nil || ran != 1 {
		t.Errorf("Do = %v, f ran %d times; want nil, 1", err, ran)
	}
	if s := p.Stats(); s.InUse != 0 || s.Queued != 0 {
		t.Errorf("after Do: %+v; want nothing in use or queued", s)
	}
}

// With every worker busy and the queue full, Do refuses at once, and the
// queued calls still run once workers free up.
func TestSaturation(t *testing.T) {
	tests := []struct{ workers, queue int }{{1, -1}, {2, 3}, {4, 16}}
	for _, tc := range tests {
		p := New(tc.workers, tc.queue)
		queue := p.Stats().QueueLimit
		h := newHolder()
		h.hold(p, tc.workers+queue)
		for range tc.workers {
			<-h.started
		}
		eventually(t, "the queue to fill", func() bool { return p.Stats().Queued == queue })

		ran := false
		err := returns(t, "Do on a saturated pool", func() error {
			return p.Do(context.Background(), func() { ran = true })
		})
		if !errors.Is(err, ErrBusy) || ran {
			t.Errorf("New(%d, %d), saturated: Do = %v, f ran %v; want ErrBusy, false", tc.workers, tc.queue, err, ran)
		}
		if s := p.Stats(); s.Rejected != 1 || s.InUse != tc.workers {
			t.Errorf("New(%d, %d), saturated: %+v; want 1 rejected, %d in use", tc.workers, tc.queue, s, tc.workers)
		}
		h.done()
		close(h.errs)
		for err := range h.errs {
			if err != nil {
				t.Errorf("New(%d, %d): held call returned %v", tc.workers, tc.queue, err)
			}
		}
		if s := p.Stats(); s.InUse != 0 || s.Queued != 0 {
			t.Errorf("New(%d, %d), after release: %+v; want nothing in use or queued", tc.workers, tc.queue, s)
		}
		p.Close()
	}
}

// A call cancelled while queued leaves the queue without running f, and
// its place goes to the next call.
func TestCancelWhileQueued(t *testing.T) {
	p := New(1, 2)
	defer p.Close()
	h := newHolder()
	h.hold(p, 1)
	<-h.started

	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	errc := make(chan error, 1)
	go func() { errc <- p.Do(ctx, func() { ran = true }) }()
	eventually(t, "the call to queue", func() bool { return p.Stats().Queued == 1 })
	cancel()
	err := returns(t, "a cancelled queued Do", func() error { return <-errc })
	if !errors.Is(err, context.Canceled) || ran {
		t.Errorf("cancelled while queued: Do = %v, f ran %v; want context.Canceled, false", err, ran)
	}
	if s := p.Stats(); s.Queued != 0 || s.InUse != 1 {
		t.Errorf("after cancel: %+v; want 0 queued, 1 in use", s)
	}
	h.done()
	if err := p.Do(context.Background(), func() {}); err != nil {
		t.Errorf("Do after the worker freed up = %v", err)
	}
	if s := p.Stats(); s.InUse != 0 {
		t.Errorf("at the end: %+v; want nothing in use", s)
	}
}

func TestDoWithDoneContext(t *testing.T) {
	p := New(1, 0)
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	if err := p.Do(ctx, func() { ran = true }); !errors.Is(err, context.Canceled) || ran {
		t.Errorf("Do with a done context = %v, f ran %v; want context.Canceled, false", err, ran)
	}
}

// A panic in f reaches the caller and frees the worker.
func TestPanicFreesWorker(t *testing.T) {
	p := New(1, -1)
	defer p.Close()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the caller")
			}
		}()
		p.Do(context.Background(), func() { panic("boom") })
	}()
	if err := p.Do(context.Background(), func() {}); err != nil {
		t.Errorf("Do after a panic = %v; the worker was not freed", err)
	}
}

// Close refuses queued and later calls, and waits for running ones.
func TestClose(t *testing.T) {
	p := New(1, 1)
	h := newHolder()
	h.hold(p, 2) // one runs, one queues
	<-h.started
	eventually(t, "the call to queue", func() bool { return p.Stats().Queued == 1 })

	closed := make(chan struct{})
	go func() {
		p.Close()
		close(closed)
	}()
	// The queued call is refused at once.
	if err := returns(t, "the queued call", func() error { return <-h.errs }); !errors.Is(err, ErrClosed) {
		t.Errorf("queued call after Close = %v, want ErrClosed", err)
	}
	select {
	case <-closed:
		t.Error("Close returned while a function was still running")
	default:
	}
	if err := p.Do(context.Background(), func() {}); !errors.Is(err, ErrClosed) {
		t.Errorf("Do after Close = %v, want ErrClosed", err)
	}
	h.done()
	returns(t, "Close", func() error { <-closed; return nil })
	if err := <-h.errs; err != nil {
		t.Errorf("running call = %v, want nil", err)
	}
	p.Close() // again: returns at once
}

func TestOnWait(t *testing.T) {
	p := New(1, 1)
	defer p.Close()
	var (
		mu    sync.Mutex
		waits []time.Duration
	)
	p.OnWait(func(d time.Duration) {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
	})
	p.Do(context.Background(), func() {})

	h := newHolder()
	h.hold(p, 1)
	<-h.started
	errc := make(chan error, 1)
	go func() { errc <- p.Do(context.Background(), func() {}) }()
	eventually(t, "the call to queue", func() bool { return p.Stats().Queued == 1 })
	time.Sleep(time.Millisecond) // so that the wait is measurably positive
	h.done()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	p.OnWait(nil)
	p.Do(context.Background(), func() {})

	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 3 || waits[0] != 0 || waits[1] != 0 || waits[2] <= 0 {
		t.Errorf("observed waits %v; want [0 0 >0] (free, held, queued)", waits)
	}
}

// Many concurrent callers: never more than workers functions at once, and
// every call either runs or is refused.
func TestConcurrentBound(t *testing.T) {
	const workers, callers = 3, 200
	p := New(workers, 5)
	defer p.Close()
	var running, peak, ran, busy atomic.Int32
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			err := p.Do(context.Background(), func() {
				n := running.Add(1)
				for {
					m := peak.Load()
					if n <= m || peak.CompareAndSwap(m, n) {
						break
					}
				}
				runtime.Gosched()
				running.Add(-1)
				ran.Add(1)
			})
			switch {
			case errors.Is(err, ErrBusy):
				busy.Add(1)
			case err != nil:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if peak.Load() > workers {
		t.Errorf("%d functions ran at once, want at most %d", peak.Load(), workers)
	}
	if ran.Load()+busy.Load() != callers || uint64(busy.Load()) != p.Stats().Rejected {
		t.Errorf("%d ran, %d busy, %d counted rejected; want %d in all", ran.Load(), busy.Load(), p.Stats().Rejected, callers)
	}
}

// After saturation, cancellation and Close, no goroutine is left behind.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	p := New(2, 2)
	h := newHolder()
	h.hold(p, 4)
	<-h.started
	<-h.started
	eventually(t, "the queue to fill", func() bool { return p.Stats().Queued == 2 })
	for range 10 {
		p.Do(context.Background(), func() {}) // ErrBusy
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	h.done()
	p.Do(ctx, func() {})
	p.Close()
	eventually(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
}
