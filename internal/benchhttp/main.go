// Command benchhttp is Gatehouse's HTTP load benchmark (make bench-http). It
// builds the gatehouse binary, runs `gatehouse serve` on a loopback port as
// a deployment runs it, drives it with a closed-loop load generator on the
// same machine, and prints, for each store, every figure against a
// reference measured in the same run:
//
//	(a) req/s, p50 and p99 of a bare net/http handler: the ceiling
//	(b) GET /api/me with a session cookie
//	(c) GET /api/me with a bearer token
//	(d) a handler behind the client package's middleware (client.Require)
//	(e) password sign-ins per second against raw argon2id hashes per second
//	(f) the p99 of (b) while a sign-in flood saturates the hash pool
//
// and Gatehouse's resident memory. SQLite runs with 100,000 users and
// 1,000,000 sessions; PostgreSQL with Redis runs too when
// GATEHOUSE_TEST_POSTGRES_URL and GATEHOUSE_TEST_REDIS_URL are set (in a
// schema of its own, dropped at the end). Every phase is bounded in time
// and in requests, and the generator dials loopback addresses only. With
// -svg it writes a chart of the ratios.
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the PostgreSQL schema
	"golang.org/x/crypto/argon2"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/hashpool"
	"github.com/gatehouse-dev/gatehouse/store"
)

type options struct {
	users, sessions int
	dur             time.Duration
	conns           int
	loginConns      int
	floodConns      int
	maxRequests     int64
	rounds          int
	postgres, redis string
	svg             string
	only            string
	cpuprofile      string
	figures         string
	gatehouseEnv    string
	serve           string
	gatehouse       string // the built binary
}

func main() {
	var o options
	flag.IntVar(&o.users, "users", 100_000, "users to seed")
	flag.IntVar(&o.sessions, "sessions", 1_000_000, "sessions to seed")
	flag.DurationVar(&o.dur, "d", 2*time.Second, "length of each measured phase (at most 30s)")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of each figure against its reference (the median is kept)")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the load generator to this file")
	flag.StringVar(&o.serve, "serve", "", "run one of the measured servers (bare, backend, gatehouse) instead; for the benchmark's own use")
	flag.IntVar(&o.conns, "conns", 64, "connections of the (a) to (d) phases")
	flag.IntVar(&o.loginConns, "login-conns", 0, "connections of the sign-in phase (e); 0 means the hash pool's workers plus its queue")
	flag.IntVar(&o.floodConns, "flood-conns", 0, "connections of the sign-in flood of (f), each waiting Retry-After when refused; 0 means twice the hash pool's workers plus its queue")
	flag.Int64Var(&o.maxRequests, "max-requests", 2_000_000, "most requests any one phase sends")
	flag.StringVar(&o.postgres, "postgres", os.Getenv("GATEHOUSE_TEST_POSTGRES_URL"), "PostgreSQL server for the second run (empty skips it)")
	flag.StringVar(&o.redis, "redis", os.Getenv("GATEHOUSE_TEST_REDIS_URL"), "Redis for the second run (empty skips it)")
	flag.StringVar(&o.svg, "svg", "", "write a chart of the ratios to this file")
	flag.StringVar(&o.only, "only", "", "run only this store: sqlite or postgres")
	flag.StringVar(&o.gatehouseEnv, "gatehouse-env", "", "extra NAME=VALUE settings, comma-separated, for the Gatehouse process only (e.g. GOGC=50)")
	flag.StringVar(&o.figures, "figures", "bcdef", "the figures to measure, for quick reruns; (a) is measured with each of (b) to (d)")
	flag.Parse()
	if o.serve != "" {
		if err := serveChild(o.serve); err != nil {
			fatal(err)
		}
		return
	}
	o.dur = min(max(o.dur, 500*time.Millisecond), 30*time.Second)
	o.rounds = min(max(o.rounds, 1), 9)
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	fmt.Printf("Gatehouse bench-http: %s, %d cores (GOMAXPROCS %d), %s %s/%s\n",
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("each phase %v after a warm-up, %d rounds against its reference (median kept); Gatehouse, the ceiling and the backend each in a process of their own, the load generator in this one; loopback only\n", o.dur, o.rounds)

	bindir, err := os.MkdirTemp("", "gatehouse-bench-bin-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(bindir)
	if o.gatehouse, err = buildGatehouse(bindir); err != nil {
		fatal(err)
	}
	var runs []*report
	if o.only == "" || o.only == "sqlite" {
		runs = append(runs, mustRun(o, "SQLite", false))
	}
	if o.only == "" || o.only == "postgres" {
		if o.postgres != "" && o.redis != "" {
			runs = append(runs, mustRun(o, "PostgreSQL + Redis", true))
		} else {
			fmt.Println("\n(PostgreSQL + Redis skipped: set GATEHOUSE_TEST_POSTGRES_URL and GATEHOUSE_TEST_REDIS_URL)")
		}
	}
	for _, r := range runs {
		r.print(os.Stdout)
	}
	if o.svg != "" && len(runs) > 0 {
		if err := os.WriteFile(o.svg, chart(runs), 0o644); err != nil {
			fatal(err)
		}
		fmt.Printf("\nchart written to %s\n", o.svg)
	}
}

func mustRun(o options, name string, postgres bool) *report {
	r, err := benchmark(o, name, postgres)
	if err != nil {
		fatal(fmt.Errorf("%s: %w", name, err))
	}
	return r
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench-http:", err)
	os.Exit(1)
}

// report holds the figures of one store.
type report struct {
	name                   string
	users, sessions        int
	seeded                 time.Duration
	a                      []result // the references of (b), (c) and (d)
	b, c, d                pair     // each against (a)
	logins                 pair     // against raw argon2id
	bFlood                 pair     // (b) during a flood, against (b) alone
	flood                  result   // the flood of the last round of (f)
	workers, queue         int
	loginConns, floodConns int
	rssMiB, peakMiB        float64
	heap                   string // the Go heap's figures from /metrics
	loadBefore, loadAfter  string // the machine's load average: other work shares it
}

const secretKey = "bench-http-secret-key-0123456789abcdef"

// signerPassword is the password of the accounts that sign in.
const signerPassword = "correct horse battery staple"

func benchmark(o options, name string, postgres bool) (*report, error) {
	ctx := context.Background()
	rep := &report{name: name, users: o.users, sessions: o.sessions, loadBefore: loadAverage()}
	defer func() { rep.loadAfter = loadAverage() }()
	tmp, err := os.MkdirTemp("", "gatehouse-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	cfg := gatehouse.DefaultConfig()
	cfg.DatabaseURL = "sqlite://" + tmp + "/gatehouse.db"
	if postgres {
		dbURL, drop, err := newSchema(o.postgres)
		if err != nil {
			return nil, err
		}
		defer drop()
		cfg.DatabaseURL, cfg.RedisURL = dbURL, o.redis
	}

	// Migrate and seed before Gatehouse starts, as a deployment would be.
	// The accounts that sign in get a real argon2id hash of the default
	// cost; sixteen of them, so that the sign-in phases do not all write
	// one row.
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	fmt.Printf("\n%s: seeding %d users and %d sessions…\n", name, o.users, o.sessions)
	if rep.seeded, err = seed(ctx, st, postgres, o.users, o.sessions); err != nil {
		st.Close()
		return nil, err
	}
	const signers = 16
	if err := seedSigners(ctx, st, cfg, signers); err != nil {
		st.Close()
		return nil, err
	}
	st.Close()
	fmt.Printf("%s: seeded in %v\n", name, rep.seeded.Round(time.Second))

	// Gatehouse, the ceiling (a) and the backend (d) each run in a process
	// of their own, as in production; this process only generates load.
	env := []string{"GATEHOUSE_DATABASE_URL=" + cfg.DatabaseURL, "GATEHOUSE_REDIS_URL=" + cfg.RedisURL,
		"GATEHOUSE_SECRET_KEY=" + secretKey, "GATEHOUSE_DATA_DIR=" + tmp, "GATEHOUSE_LOG_LEVEL=error", "GATEHOUSE_LOG_FORMAT=text",
		"GATEHOUSE_METRICS_ENABLED=true"}
	if o.gatehouseEnv != "" {
		env = append(env, strings.Split(o.gatehouseEnv, ",")...)
	}
	gh, err := startGatehouse(o.gatehouse, env)
	if err != nil {
		return nil, err
	}
	defer gh.stop()
	base := "http://" + gh.addr
	bare, err := startChild("bare", nil)
	if err != nil {
		return nil, err
	}
	defer bare.stop()
	backend, err := startChild("backend", []string{"BENCH_ISSUER=" + base})
	if err != nil {
		return nil, err
	}
	defer backend.stop()

	var logins [][]byte
	for i := range signers {
		body, _ := json.Marshal(map[string]string{"login": fmt.Sprintf("bench%d", i), "password": signerPassword})
		logins = append(logins, body)
	}
	cookie, err := browserSession(base, "bench0", signerPassword)
	if err != nil {
		return nil, err
	}
	bearer, err := accessToken(base, logins[1])
	if err != nil {
		return nil, err
	}

	get := func(u string, header ...string) request {
		return func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			return req
		}
	}
	withCookie := get(base+"/api/me", "Cookie", "gatehouse_session="+cookie)
	withBearer := get(base+"/api/me", "Authorization", "Bearer "+bearer)
	var turn atomic.Uint64
	signIn := func() *http.Request {
		body := logins[turn.Add(1)%uint64(len(logins))]
		req, _ := http.NewRequest(http.MethodPost, base+"/api/auth/login", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	ph := func(name string, conns int, next request, ok int) phase {
		return phase{name: name, conns: conns, dur: o.dur, warmup: o.dur / 6, maxRequests: o.maxRequests, next: next, ok: ok}
	}

	// Each figure is measured in rounds that alternate with its reference,
	// and the round with the median ratio is kept: the machine is shared
	// and its speed drifts, and two figures taken side by side drift
	// together.
	cookiePhase := ph("b", o.conns, withCookie, 200)
	for _, f := range []struct {
		label string
		p     phase
		dst   *pair
	}{
		{"(b) /api/me with a session cookie", cookiePhase, &rep.b},
		{"(c) /api/me with a bearer token", ph("c", o.conns, withBearer, 200), &rep.c},
		{"(d) client middleware", ph("d", o.conns, get("http://"+backend.addr+"/", "Authorization", "Bearer "+bearer), 200), &rep.d},
	} {
		if !strings.Contains(o.figures, f.p.name) {
			continue
		}
		fmt.Printf("%s: %s, against (a) a bare handler…\n", name, f.label)
		*f.dst = rounds(o.rounds, func() result { return run(ph("a", o.conns, get("http://"+bare.addr+"/"), 200)) },
			func() result { return run(f.p) }, func(ref, sub result) float64 { return ratio(sub.rate(), ref.rate()) })
		rep.a = append(rep.a, f.dst.ref)
	}

	// The pool's defaults: a worker per core, a queue of four per worker.
	rep.workers = runtime.GOMAXPROCS(0)
	rep.queue = 4 * rep.workers
	rep.loginConns = o.loginConns
	if rep.loginConns == 0 {
		rep.loginConns = rep.workers + rep.queue
	}
	rep.floodConns = o.floodConns
	if rep.floodConns == 0 {
		rep.floodConns = 2 * (rep.workers + rep.queue)
	}
	if strings.Contains(o.figures, "e") {
		fmt.Printf("%s: (e) password sign-ins, against raw argon2id…\n", name)
		rep.logins = rounds(o.rounds, func() result { return rawHashRate(cfg, o.dur, rep.workers) },
			func() result { return run(ph("e", rep.loginConns, signIn, 200)) },
			func(ref, sub result) float64 { return ratio(sub.rate(), ref.rate()) })
	}

	if strings.Contains(o.figures, "f") {
		fmt.Printf("%s: (f) /api/me with a session cookie during a sign-in flood, against none…\n", name)
		rep.bFlood = rounds(o.rounds, func() result { return run(cookiePhase) }, func() result {
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				// The flood starts first and outlasts the measured phase.
				f := ph("flood", rep.floodConns, signIn, 200)
				f.warmup, f.dur, f.politely = 0, o.dur+o.dur/2, true
				rep.flood = run(f)
			}()
			time.Sleep(o.dur / 4)
			res := run(cookiePhase)
			wg.Wait()
			return res
		}, func(ref, sub result) float64 { return ratio(float64(sub.p99), float64(ref.p99)) })
	}

	rep.rssMiB, rep.peakMiB = gh.memory()
	rep.heap = scrapeHeap(base)
	return rep, nil
}

// browserSession signs in on the hosted page and returns the session
// cookie's value.
func browserSession(base, login, password string) (string, error) {
	form := url.Values{"login": {login}, "password": {password}}
	req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := newClient().Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "gatehouse_session" && c.Value != "" {
			return c.Value, nil
		}
	}
	return "", fmt.Errorf("sign-in on the hosted page: status %d and no session cookie", resp.StatusCode)
}

// accessToken signs in through the API and returns the access token.
func accessToken(base string, body []byte) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, base+"/api/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := newClient().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&pair); err != nil || pair.AccessToken == "" {
		return "", fmt.Errorf("sign-in through the API: status %d", resp.StatusCode)
	}
	return pair.AccessToken, nil
}

// rawHashRate measures argon2id hashes with Gatehouse's parameters,
// computed directly by as many threads as the hash pool has workers (by
// default one per core), at the same low priority as Gatehouse's hashing
// threads (hashpool.Threads): the most sign-ins the machine could check.
// On an idle machine the priority changes nothing; on a shared one, both
// sides meet the same competition. It returns a result whose rate is
// hashes per second.
func rawHashRate(cfg gatehouse.Config, dur time.Duration, workers int) result {
	var n atomic.Int64
	var wg sync.WaitGroup
	salt := make([]byte, 16)
	rand.Read(salt)
	threads := hashpool.NewThreads(workers)
	defer threads.Close()
	deadline := time.Now().Add(dur)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			threads.Run(func() {
				for time.Now().Before(deadline) {
					argon2.IDKey([]byte("correct horse battery staple"), salt, uint32(cfg.Password.Argon2Iterations),
						uint32(cfg.Password.Argon2MemoryKiB), uint8(cfg.Password.Argon2Parallelism), 32)
					n.Add(1)
				}
			})
		}()
	}
	wg.Wait()
	return result{ok: n.Load(), elapsed: time.Since(start), connections: workers}
}

// pair is a figure and the reference it was measured against, in the same
// round.
type pair struct {
	ref, sub result
	ratio    float64
}

// rounds measures ref and sub in alternation n times and returns the round
// whose ratio is the median.
func rounds(n int, ref, sub func() result, ratio func(ref, sub result) float64) pair {
	var ps []pair
	for range n {
		r := ref()
		s := sub()
		ps = append(ps, pair{ref: r, sub: s, ratio: ratio(r, s)})
	}
	slices.SortFunc(ps, func(a, b pair) int { return cmp.Compare(a.ratio, b.ratio) })
	return ps[len(ps)/2]
}

// newSchema creates an empty schema on the PostgreSQL server and returns a
// URL that uses it, and a function that drops it.
func newSchema(base string) (string, func(), error) {
	var b [6]byte
	rand.Read(b[:])
	schema := "gh_bench_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		if admin, err := sql.Open("pgx", base); err == nil {
			admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
			admin.Close()
		}
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// memory returns a process's resident memory now and at its peak, in MiB
// (VmRSS and VmHWM).
func memory(pid int) (rss, peak float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return rss, peak
}

// scrapeHeap reads the Go heap's size from Gatehouse's /metrics.
func scrapeHeap(base string) string {
	resp, err := newClient().Get(base + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		for _, name := range []string{"go_memstats_heap_inuse_bytes", "go_memstats_heap_sys_bytes", "go_memstats_next_gc_bytes", "go_memstats_sys_bytes"} {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				x, _ := strconv.ParseFloat(v, 64)
				out = append(out, fmt.Sprintf("%s %.0f MiB", strings.TrimSuffix(strings.TrimPrefix(name, "go_memstats_"), "_bytes"), x/(1<<20)))
			}
		}
	}
	return strings.Join(out, ", ")
}

// loadAverage is the machine's one-minute load average, from /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// cpuModel names the processor, from /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
