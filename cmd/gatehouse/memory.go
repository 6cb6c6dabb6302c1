package main

import (
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"

	"github.com/gatehouse-dev/gatehouse/config"
)

// memoryBase is what the server needs besides password hashing: its code,
// caches, connection pools and requests in flight.
const memoryBase = 16 << 20

// setMemoryLimit gives the Go runtime a soft memory limit sized to the
// server, unless GOMEMLIMIT is set (to a limit, or to off): the base, plus
// room for two argon2id hashes per hash worker. Each hash allocates its
// memory cost afresh (19 MiB by default), so a flood of sign-ins produces
// garbage at the rate of the hash pool, and without a limit the heap grows
// to about twice what the hashes in flight hold before the collector runs:
// some 170 MB resident with the defaults. Under the limit the process stays
// near 140 MB; the price is more frequent collection, and pages handed back
// to the kernel and faulted in again, which costs sign-in throughput (about
// a tenth on two cores; docs/benchmarks.md). Operators with memory to spare
// set GOMEMLIMIT higher, or off.
//
// It is a soft limit: a server that truly needs more gets more, at the
// cost of more frequent collection. The previous limit is put back when
// serve returns, for the tests that run serve in their own process.
func setMemoryLimit(cfg *config.Config, lookupEnv func(string) (string, bool), log *slog.Logger) (restore func()) {
	prev := debug.SetMemoryLimit(-1)
	if _, set := lookupEnv("GOMEMLIMIT"); set || prev != math.MaxInt64 {
		return func() {} // the operator's choice
	}
	workers := cfg.Password.HashWorkers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	limit := int64(memoryBase) + 2*int64(workers)*int64(cfg.Password.Argon2MemoryKiB)<<10
	debug.SetMemoryLimit(limit)
	log.Info("soft memory limit set; GOMEMLIMIT overrides it", "limit_mib", limit>>20)
	return func() { debug.SetMemoryLimit(prev) }
}
