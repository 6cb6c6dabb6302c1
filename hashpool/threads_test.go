package hashpool

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

func TestThreadsRun(t *testing.T) {
	th := NewThreads(2)
	defer th.Close()
	var ran atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { th.Run(func() { ran.Add(1) }) })
	}
	wg.Wait()
	if n := ran.Load(); n != 10 {
		t.Errorf("ran %d functions, want 10", n)
	}
}

// A panic in the function reaches the caller of Run; the thread survives.
func TestThreadsPanic(t *testing.T) {
	th := NewThreads(1)
	defer th.Close()
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want boom", p)
			}
		}()
		th.Run(func() { panic("boom") })
	}()
	done := false
	th.Run(func() { done = true })
	if !done {
		t.Error("the thread did not run work after a panic")
	}
}

// On Linux the work runs at the lowered priority, on a thread of its own.
func TestThreadsPriority(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("thread priorities are set on Linux only")
	}
	th := NewThreads(1)
	defer th.Close()
	var prio int
	var err error
	th.Run(func() {
		// getpriority returns 20 - nice for PRIO_PROCESS on Linux.
		var p int
		p, err = syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
		prio = 20 - p
	})
	if err != nil {
		t.Fatal(err)
	}
	if prio != niceness {
		t.Errorf("nice value of a hashing thread = %d, want %d", prio, niceness)
	}
	// The caller's own thread keeps its priority.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p, _ := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	if 20-p == niceness && niceness != 0 {
		t.Error("the caller's thread was lowered too")
	}
}

// A pool over Threads bounds the work as before.
func TestPoolOnThreads(t *testing.T) {
	p := New(2, 2)
	defer p.Close()
	th := NewThreads(2)
	defer th.Close()
	var running, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			p.Do(context.Background(), func() {
				th.Run(func() {
					n := running.Add(1)
					for {
						m := most.Load()
						if n <= m || most.CompareAndSwap(m, n) {
							break
						}
					}
					runtime.Gosched()
					running.Add(-1)
				})
			})
		})
	}
	wg.Wait()
	if m := most.Load(); m > 2 {
		t.Errorf("%d functions ran at once, want at most 2", m)
	}
}
