package hashpool

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/benchratio"
)

// spin keeps a core busy for d: a stand-in for an argon2id hash that keeps
// the benchmark short.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// BenchmarkDo measures what running a hash-sized task through the pool costs
// over calling it directly, one caller at a time and with as many callers as
// workers.
func BenchmarkDo(b *testing.B) {
	p := New(0, 0)
	defer p.Close()
	ctx := context.Background()
	task := func() { spin(time.Millisecond) }

	benchratio.Compare(b, "hashpool Do, 1 ms task",
		func(b *testing.B) {
			for range b.N {
				task()
			}
		},
		func(b *testing.B) {
			for range b.N {
				if err := p.Do(ctx, task); err != nil {
					b.Fatal(err)
				}
			}
		})

	benchratio.Compare(b, "hashpool Do, 1 ms task, parallel",
		func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					task()
				}
			})
		},
		func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.Do(ctx, task); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
}
