package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// request builds the next request of a load phase; it is called from many
// goroutines at once.
type request func() *http.Request

// phase describes one measured run: conns connections, each sending one
// request at a time (a closed loop) for dur, and at most maxRequests in all.
type phase struct {
	name        string
	conns       int
	dur         time.Duration
	warmup      time.Duration
	maxRequests int64
	next        request
	ok          int // the status that counts as a success
	// politely makes a connection that is refused with Retry-After (429,
	// 503) wait that long before its next request, as the HTTP contract
	// asks clients to.
	politely bool
}

// result is what a phase measured. Latencies are of successful requests.
type result struct {
	ok, other   int64
	elapsed     time.Duration
	connections int
	p50, p99    time.Duration
	statuses    map[int]int64
}

// rate is successful requests per second.
func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// newClient returns a client with exactly one keep-alive connection, to
// loopback only.
func newClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, _, err := net.SplitHostPort(addr)
				if err != nil || !net.ParseIP(host).IsLoopback() {
					return nil, &net.AddrError{Err: "the load generator only dials loopback", Addr: addr}
				}
				return d.DialContext(ctx, network, addr)
			},
			MaxIdleConnsPerHost: 1,
			MaxConnsPerHost:     1,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// do sends one request and reads the whole answer. It returns the status
// and the Retry-After of a refusal.
func do(c *http.Client, req *http.Request) (int, time.Duration, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	wait := time.Duration(0)
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = time.Duration(s) * time.Second
	}
	return resp.StatusCode, wait, nil
}

// run drives a phase until its time is up or its request budget is spent,
// whichever comes first; the warm-up is not measured. stop, when closed,
// ends the phase early.
func run(p phase) result {
	clients := make([]*http.Client, p.conns)
	for i := range clients {
		clients[i] = newClient()
	}
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()
	loop := func(measure bool, dur time.Duration) result {
		var (
			wg       sync.WaitGroup
			sent     atomic.Int64
			mu       sync.Mutex
			lat      []time.Duration
			statuses = map[int]int64{}
			ok       int64
			other    int64
		)
		start := time.Now()
		deadline := start.Add(dur)
		for _, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := make([]time.Duration, 0, 1<<14)
				st := map[int]int64{}
				var good, bad int64
				for time.Now().Before(deadline) && (p.maxRequests == 0 || sent.Add(1) <= p.maxRequests) {
					t0 := time.Now()
					code, wait, err := do(c, p.next())
					d := time.Since(t0)
					if p.politely && wait > 0 {
						time.Sleep(min(wait, time.Until(deadline)))
					}
					st[code]++
					if err == nil && code == p.ok {
						good++
						if measure {
							mine = append(mine, d)
						}
					} else {
						bad++
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				for k, v := range st {
					statuses[k] += v
				}
				ok += good
				other += bad
				mu.Unlock()
			}()
		}
		wg.Wait()
		r := result{ok: ok, other: other, elapsed: time.Since(start), statuses: statuses}
		if len(lat) > 0 {
			slices.Sort(lat)
			r.p50 = lat[len(lat)*50/100]
			r.p99 = lat[min(len(lat)*99/100, len(lat)-1)]
		}
		return r
	}
	if p.warmup > 0 {
		loop(false, p.warmup)
	}
	r := loop(true, p.dur)
	r.connections = p.conns
	return r
}
