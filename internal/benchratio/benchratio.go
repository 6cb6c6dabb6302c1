// Package benchratio measures a benchmark against a reference measured in the
// same run, because the machines these figures come from are noisy and
// absolute times drift: the ratio between two figures taken side by side is
// what stays comparable from one run to the next.
package benchratio

import (
	"fmt"
	"os"
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

// Compare runs ref and subject in alternation, Rounds times each, reports the
// medians and their ratio as metrics of b, and prints one readable line:
//
//	ratio argon2id: subject 41234567 ns/op (2 allocs), reference 41000000 ns/op (2 allocs), ratio 1.006
//
// It does its own looping, so it ignores b.N; call it once from a benchmark.
func Compare(b *testing.B, name string, ref, subject func(*testing.B)) Result {
	b.Helper()
	var refs, subs []testing.BenchmarkResult
	for i := 0; i < Rounds; i++ {
		refs = append(refs, testing.Benchmark(ref))
		subs = append(subs, testing.Benchmark(subject))
	}
	r := Result{
		RefNsPerOp:         median(refs, func(x testing.BenchmarkResult) float64 { return float64(x.NsPerOp()) }),
		SubjectNsPerOp:     median(subs, func(x testing.BenchmarkResult) float64 { return float64(x.NsPerOp()) }),
		RefAllocsPerOp:     int64(median(refs, func(x testing.BenchmarkResult) float64 { return float64(x.AllocsPerOp()) })),
		SubjectAllocsPerOp: int64(median(subs, func(x testing.BenchmarkResult) float64 { return float64(x.AllocsPerOp()) })),
	}
	b.ReportMetric(r.SubjectNsPerOp, "ns/op")
	b.ReportMetric(r.RefNsPerOp, "ref-ns/op")
	b.ReportMetric(float64(r.SubjectAllocsPerOp), "allocs/op")
	b.ReportMetric(float64(r.RefAllocsPerOp), "ref-allocs/op")
	b.ReportMetric(r.Ratio(), "ratio")
	fmt.Fprintf(os.Stdout, "ratio %s: subject %.0f ns/op (%d allocs), reference %.0f ns/op (%d allocs), ratio %.3f\n",
		name, r.SubjectNsPerOp, r.SubjectAllocsPerOp, r.RefNsPerOp, r.RefAllocsPerOp, r.Ratio())
	return r
}

func median(rs []testing.BenchmarkResult, f func(testing.BenchmarkResult) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	sort.Float64s(v)
	return v[len(v)/2]
}
