// Package metrics holds Gatehouse's Prometheus metrics: one registry per
// Gatehouse instance (so that two instances in one process, as in tests, do
// not collide), the instruments the web layer updates on every request, and
// gauges read from the store and the hash pool when scraped.
//
// Every method works on a nil *Metrics and then does nothing, so that code
// built without metrics (tests, embedded uses that do not want them) needs
// no checks.
//
// Labels are bounded: routes are ServeMux patterns ("GET /api/me"), never
// raw paths, which may hold secrets (reset links) and are unbounded; status
// codes, sign-in methods, results and limit names come from short fixed
// lists. Nothing here ever carries a user, an address or an identifier.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse-dev/gatehouse/hashpool"
)

// Metrics is the set of Gatehouse's metrics. It is safe for concurrent use.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.HistogramVec
	signIns     *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	unavailable *prometheus.CounterVec
	hashWait    prometheus.Histogram
}

// New returns a registry holding Gatehouse's instruments and the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gatehouse_http_request_duration_seconds",
			Help: "Time to answer HTTP requests, by route pattern and status code; its _count is the number of requests.",
			// From 0.5 ms (a session check) to 10 s (a request stuck behind
			// an outage).
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route", "code"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_sign_ins_total",
			Help: "Sign-in attempts by method (password, passkey, email, second_factor) and result (success, failure, mfa_required, rate_limited, unavailable).",
		}, []string{"method", "result"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_rate_limited_total",
			Help: "Requests refused with 429 by a rate limit, by limit.",
		}, []string{"limit"}),
		unavailable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_unavailable_total",
			Help: "Requests refused with 503 because the server was at capacity or a dependency was down, by reason (hash_pool_full, rate_limiter_down).",
		}, []string{"reason"}),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gatehouse_hash_pool_queue_seconds",
			Help:    "Time password hashes waited in the hash pool's queue for a worker (0 when one was free).",
			Buckets: []float64{0, .001, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
	}
	m.reg.MustRegister(m.requests, m.signIns, m.rateLimited, m.unavailable, m.hashWait,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry returns the registry, for an embedding application that gathers
// Gatehouse's metrics with its own.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// codes holds the label values of the common status codes, so that the
// request path does not format one per request.
var codes = func() map[int]string {
	out := map[int]string{}
	for c := 100; c < 600; c++ {
		if http.StatusText(c) != "" {
			out[c] = strconv.Itoa(c)
		}
	}
	return out
}()

// Request records one answered request: its route pattern ("unmatched" when
// none matched), status and duration.
func (m *Metrics) Request(route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	code, ok := codes[status]
	if !ok {
		code = strconv.Itoa(status)
	}
	m.requests.WithLabelValues(route, code).Observe(d.Seconds())
}

// Sign-in results.
const (
	Success     = "success"
	Failure     = "failure"
	RateLimited = "rate_limited"
	Unavailable = "unavailable"
	// SecondFactorDue: the password was right; a second factor follows.
	SecondFactorDue = "mfa_required"
)

// SignIn counts a sign-in attempt by method and result.
func (m *Metrics) SignIn(method, result string) {
	if m == nil {
		return
	}
	m.signIns.WithLabelValues(method, result).Inc()
}

// Limited counts a request refused by the rate limit named limit.
func (m *Metrics) Limited(limit string) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(limit).Inc()
}

// Refused counts a request refused with 503, by reason.
func (m *Metrics) Refused(reason string) {
	if m == nil {
		return
	}
	m.unavailable.WithLabelValues(reason).Inc()
}

// WatchHashPool reports the pool's queue time on every hash, and its
// workers, use, queue and refusals when scraped.
func (m *Metrics) WatchHashPool(p *hashpool.Pool) {
	if m == nil {
		return
	}
	p.OnWait(func(d time.Duration) { m.hashWait.Observe(d.Seconds()) })
	gauge := func(name, help string, f func(hashpool.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(p.Stats()) })
	}
	m.reg.MustRegister(
		gauge("gatehouse_hash_pool_workers", "Passwords the hash pool hashes at once, at most.",
			func(s hashpool.Stats) float64 { return float64(s.Workers) }),
		gauge("gatehouse_hash_pool_in_use", "Hash pool workers hashing right now.",
			func(s hashpool.Stats) float64 { return float64(s.InUse) }),
		gauge("gatehouse_hash_pool_queued", "Password checks waiting for a hash pool worker right now.",
			func(s hashpool.Stats) float64 { return float64(s.Queued) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gatehouse_hash_pool_rejected_total",
			Help: "Password checks refused at once because the hash pool and its queue were full."},
			func() float64 { return float64(p.Stats().Rejected) }),
	)
}

// Counter is a count read from the store, such as the active sessions.
type Counter func(ctx context.Context) (int, error)

// WatchCount registers a gauge whose value is count's answer. The answer is
// kept for maxAge, so that frequent scrapes (or several scrapers) do not
// each run a query over a large table; a failed query leaves the last
// value, or no sample at all before the first success.
func (m *Metrics) WatchCount(name, help string, maxAge time.Duration, count Counter) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&cachedCount{desc: prometheus.NewDesc(name, help, nil, nil), maxAge: maxAge, count: count})
}

type cachedCount struct {
	desc   *prometheus.Desc
	maxAge time.Duration
	count  Counter

	mu    sync.Mutex
	value float64
	at    time.Time
	ok    bool
}

func (c *cachedCount) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *cachedCount) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) >= c.maxAge {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		n, err := c.count(ctx)
		cancel()
		if err == nil {
			c.value, c.at, c.ok = float64(n), time.Now(), true
		}
	}
	if c.ok {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, c.value)
	}
}
