package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// check is one target: a measured ratio and the bound it must keep.
type check struct {
	label  string
	value  float64
	bound  float64
	atMost bool // the value must be at most bound (else at least)
}

func (c check) met() bool {
	if c.atMost {
		return c.value <= c.bound
	}
	return c.value >= c.bound
}

func (c check) target() string {
	if c.atMost {
		return fmt.Sprintf("≤ %.2g", c.bound)
	}
	return fmt.Sprintf("≥ %.2g", c.bound)
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// checks returns the targets of r, in the order of the figures. Each ratio
// is taken within one round (see rounds).
func (r *report) checks() []check {
	bTarget := 0.5
	if strings.Contains(r.name, "PostgreSQL") {
		bTarget = 0.35
	}
	return []check{
		{"(b) session cookie, req/s ÷ (a)", r.b.ratio, bTarget, false},
		{"(b) p99 ÷ (a) p99", ratio(float64(r.b.sub.p99), float64(r.b.ref.p99)), 2, true},
		{"(c) bearer token, req/s ÷ (a)", r.c.ratio, 0.5, false},
		{"(d) client middleware, req/s ÷ (a)", r.d.ratio, 0.7, false},
		{"(e) sign-ins/s ÷ raw argon2id/s", r.logins.ratio, 0.9, false},
		{"(f) p99 of (b) during flood ÷ p99 of (b)", r.bFlood.ratio, 3, true},
		{"peak resident memory, MiB", r.peakMiB, 150, true},
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// medianA is the median of the (a) runs, for the table's first row.
func (r *report) medianA() result {
	if len(r.a) == 0 {
		return result{}
	}
	as := slices.Clone(r.a)
	slices.SortFunc(as, func(x, y result) int { return cmp.Compare(x.rate(), y.rate()) })
	return as[len(as)/2]
}

// print writes r as Markdown tables, ready for docs/benchmarks.md.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n### %s — %d users, %d sessions (seeded in %v)\n\n", r.name, r.users, r.sessions, r.seeded.Round(time.Second))
	fmt.Fprintf(w, "| figure | conns | req/s | p50 | p99 | (a) in the same round | ratio to (a) |\n|---|---|---|---|---|---|---|\n")
	a := r.medianA()
	fmt.Fprintf(w, "| (a) bare `net/http` handler (ceiling; median of %d runs) | %d | %.0f | %s | %s | | 1 |\n",
		len(r.a), a.connections, a.rate(), ms(a.p50), ms(a.p99))
	row := func(name string, p pair) {
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %.0f req/s, p99 %s | %.3f |\n", name, p.sub.connections, p.sub.rate(),
			ms(p.sub.p50), ms(p.sub.p99), p.ref.rate(), ms(p.ref.p99), p.ratio)
	}
	row("(b) `GET /api/me`, session cookie", r.b)
	row("(c) `GET /api/me`, bearer token", r.c)
	row("(d) handler behind `client.Require`", r.d)
	fmt.Fprintf(w, "| (e) `POST /api/auth/login`, right password | %d | %.1f | %s | %s | | %.4f |\n",
		r.logins.sub.connections, r.logins.sub.rate(), ms(r.logins.sub.p50), ms(r.logins.sub.p99), ratio(r.logins.sub.rate(), a.rate()))
	fmt.Fprintf(w, "| (f) (b) during a sign-in flood | %d | %.0f | %s | %s | | %.3f |\n",
		r.bFlood.sub.connections, r.bFlood.sub.rate(), ms(r.bFlood.sub.p50), ms(r.bFlood.sub.p99), ratio(r.bFlood.sub.rate(), a.rate()))
	fmt.Fprintf(w, "\n(e): raw argon2id with the same parameters on %d threads of the hash workers' priority, in the same round: %.1f hashes/s; sign-ins %.1f/s. "+
		"Hash pool: %d workers, queue %d.\n", r.logins.ref.connections, r.logins.ref.rate(), r.logins.sub.rate(), r.workers, r.queue)
	fmt.Fprintf(w, "(f): (b) alone in the same round: %.0f req/s, p99 %s. The flood: %d connections signing in with the right password "+
		"(twice what the pool holds; a refused one waits its Retry-After): %.1f sign-ins/s, %d refused at once with 503.\n", r.bFlood.ref.rate(), ms(r.bFlood.ref.p99), r.floodConns, r.flood.rate(), r.flood.statuses[503])
	if n := r.b.sub.other + r.c.sub.other + r.d.sub.other + r.bFlood.sub.other; n > 0 {
		fmt.Fprintf(w, "Unexpected answers in (b)–(d), (f): %d.\n", n)
	}
	fmt.Fprintf(w, "Gatehouse's resident memory after the run: %.0f MiB, peak %.0f MiB (Go: %s).\n", r.rssMiB, r.peakMiB, r.heap)
	fmt.Fprintf(w, "Load average of the machine: %s before this store's run, %s after (2 cores; other jobs share them).\n\n", r.loadBefore, r.loadAfter)
	fmt.Fprintf(w, "| target | measured | bound | met |\n|---|---|---|---|\n")
	for _, c := range r.checks() {
		fmt.Fprintf(w, "| %s | %.3f | %s | %s |\n", c.label, c.value, c.target(), yes(c.met()))
	}
}
