package hashpool_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gatehouse-dev/gatehouse/hashpool"
)

func ExamplePool_Do() {
	pool := hashpool.New(0, 0) // one worker per core, a queue of four per worker
	defer pool.Close()

	hash := func(password string) string { return "$argon2id$…" } // stands in for password.Hasher.Hash

	var encoded string
	err := pool.Do(context.Background(), func() { encoded = hash("correct horse battery staple") })
	fmt.Println(encoded, err)
	// Output: $argon2id$… <nil>
}

// A sign-in handler answers 503 with Retry-After when the pool is saturated,
// at once, instead of queueing without bound.
func ExampleErrBusy() {
	pool := hashpool.New(1, -1) // one worker, no queue
	defer pool.Close()

	release := make(chan struct{})
	started := make(chan struct{})
	go pool.Do(context.Background(), func() { close(started); <-release }) // a slow hash
	<-started

	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := pool.Do(r.Context(), func() { /* verify the password */ })
		switch {
		case errors.Is(err, hashpool.ErrBusy):
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		case err != nil:
			return // the client went away
		}
		w.WriteHeader(http.StatusOK)
	})
	rec := httptest.NewRecorder()
	login.ServeHTTP(rec, httptest.NewRequest("POST", "/api/auth/login", nil))
	fmt.Println(rec.Code, rec.Header().Get("Retry-After"), pool.Stats().Rejected)
	close(release)
	// Output: 503 1 1
}

func ExamplePool_OnWait() {
	pool := hashpool.New(2, 8)
	defer pool.Close()

	// In a server: func(d time.Duration) { queueWait.Observe(d.Seconds()) }
	var waits []time.Duration
	pool.OnWait(func(d time.Duration) { waits = append(waits, d) })

	pool.Do(context.Background(), func() {})
	fmt.Println(waits)
	// Output: [0s]
}

func ExamplePool_Stats() {
	pool := hashpool.New(4, 16)
	defer pool.Close()
	fmt.Printf("%+v\n", pool.Stats())
	// Output: {Workers:4 QueueLimit:16 InUse:0 Queued:0 Rejected:0}
}
