package hashpool

import (
	"runtime"
	"sync"
)

// Threads runs functions on a fixed set of dedicated OS threads that run at
// a lower CPU priority (nice 5 on Linux), so that the kernel favours the
// other threads of the process (a request thread gets about three quarters
// of a core against one hashing thread, and runs at once when it wakes),
// and gives password hashing the rest.
//
// Not the lowest priority (19): the Go runtime must now and then run on
// these threads too (to preempt a hash, scan its stack for the garbage
// collector), and on a machine busy with other processes a thread at 19
// would wait so long that garbage collection stalls and memory grows; and
// sign-ins would crawl whenever anything else on the machine is busy.
//
// A [Pool] bounds how many hashes run at once, but a hash that runs holds a
// core for tens of milliseconds, and Go's scheduler takes it back only every
// 10 ms: with every core hashing, a session check waits behind a hash. Run
// the pool's work on Threads, and give the runtime as many more Ps (see
// runtime.GOMAXPROCS) as there are threads, and the kernel preempts a hash
// within microseconds whenever a request is ready to run, while a hash still
// gets a whole core when nothing else wants it: sign-ins lose nothing on an
// idle server, and everything else keeps its speed on a busy one.
//
// On systems where a thread's priority cannot be set, the threads run at the
// normal priority and Threads only hands work over.
//
// Threads is safe for concurrent use.
type Threads struct {
	work chan func()
	wg   sync.WaitGroup
	once sync.Once
}

// NewThreads starts n threads (at least one).
func NewThreads(n int) *Threads {
	t := &Threads{work: make(chan func())}
	for range max(n, 1) {
		t.wg.Add(1)
		go t.loop()
	}
	return t
}

func (t *Threads) loop() {
	defer t.wg.Done()
	// The goroutine keeps its thread, and the thread its priority, for
	// good: when the goroutine ends with the thread still locked, the
	// runtime ends the thread rather than hand a lowered priority to other
	// goroutines.
	runtime.LockOSThread()
	lowerPriority()
	for f := range t.work {
		f()
	}
}

// Run calls f on one of the threads and returns when f has returned. It
// waits for a free thread; under a Pool with as many workers as threads it
// never waits. A panic in f is raised again on the caller's goroutine.
func (t *Threads) Run(f func()) {
	done := make(chan any, 1)
	t.work <- func() {
		defer func() { done <- recover() }()
		f()
	}
	if p := <-done; p != nil {
		panic(p)
	}
}

// Close stops the threads once the functions running on them return. Run
// must not be called after Close.
func (t *Threads) Close() {
	t.once.Do(func() { close(t.work) })
	t.wg.Wait()
}
