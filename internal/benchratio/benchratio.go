// Package benchratio measures a benchmark against a reference measured in the
// same run, because the machines these figures come from are noisy and
// absolute times drift: the ratio between two figures taken side by side is
// what stays comparable from one run to the next.
package benchratio

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"testing"
)

// Rounds is how many times each side is measured; the median is reported.
const Rounds = 3

// Result holds the medians of both sides.
type Result struct {
	RefNsPerOp, SubjectNsPerOp         float64
	RefAllocsPerOp, SubjectAllocsPerOp int64
}

// Ratio is subject time over reference time: 1.0 means no overhead.
func (r Result) Ratio() float64 {
	if r.RefNsPerOp == 0 {
		return 0
	}
	return r.SubjectNsPerOp / r.RefNsPerOp
}

// Compare runs ref and subject in alternation as sub-benchmarks of b, Rounds
// times each, and prints one readable line with the medians and their ratio:
//
//	ratio argon2id Hash: subject 18050281 ns/op (33 allocs), reference 18747421 ns/op (23 allocs), ratio 0.963
//
// Each side runs as a sub-benchmark rather than through testing.Benchmark,
// which deadlocks when called from a running benchmark (golang/go#29727).
func Compare(b *testing.B, name string, ref, subject func(*testing.B)) Result {
	b.Helper()
	var refs, subs []measurement
	for range Rounds {
		refs = append(refs, measure(b, name+" reference", ref))
		subs = append(subs, measure(b, name, subject))
	}
	r := Result{
		RefNsPerOp:         median(refs, func(m measurement) float64 { return m.nsPerOp }),
		SubjectNsPerOp:     median(subs, func(m measurement) float64 { return m.nsPerOp }),
		RefAllocsPerOp:     int64(median(refs, func(m measurement) float64 { return float64(m.allocsPerOp) })),
		SubjectAllocsPerOp: int64(median(subs, func(m measurement) float64 { return float64(m.allocsPerOp) })),
	}
	fmt.Fprintf(os.Stdout, "ratio %s: subject %.0f ns/op (%d allocs), reference %.0f ns/op (%d allocs), ratio %.3f\n",
		name, r.SubjectNsPerOp, r.SubjectAllocsPerOp, r.RefNsPerOp, r.RefAllocsPerOp, r.Ratio())
	return r
}

type measurement struct {
	nsPerOp     float64
	allocsPerOp int64
}

// measure runs f as a sub-benchmark of b and returns its figures.
func measure(b *testing.B, name string, f func(*testing.B)) measurement {
	var m measurement
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		// Outside f's loop, so neither read is timed.
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f(b)
		runtime.ReadMemStats(&after)
		// go test calls this with a growing b.N until the run is long
		// enough; the last call, the one it reports, is the one kept.
		if b.N > 0 {
			m = measurement{
				nsPerOp:     float64(b.Elapsed().Nanoseconds()) / float64(b.N),
				allocsPerOp: int64(after.Mallocs-before.Mallocs) / int64(b.N),
			}
		}
	})
	return m
}

func median(ms []measurement, f func(measurement) float64) float64 {
	v := make([]float64, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	sort.Float64s(v)
	return v[len(v)/2]
}
