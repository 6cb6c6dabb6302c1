package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/audit"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

func TestRecordCarriesTheClientAndPurgeKeepsTheRetention(t *testing.T) {
	for _, b := range storetest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			rec := audit.New(st, clock, nil)
			ctx := audit.WithClient(context.Background(), "192.0.2.7", "curl/8")
			rec.Record(ctx, auth.EventLoginFailed, "", "u1", map[string]string{"reason": "wrong password"})
			now = now.Add(100 * 24 * time.Hour)
			rec.Record(ctx, auth.EventLoginSucceeded, "u1", "u1", nil)

			events, total, err := st.FindEvents(context.Background(), auth.EventFilter{})
			if err != nil || total != 2 {
				t.Fatalf("FindEvents() = %d, %v", total, err)
			}
			if e := events[1]; e.IP != "192.0.2.7" || e.UserAgent != "curl/8" || e.Data["reason"] != "wrong password" {
				t.Errorf("recorded event = %+v", e)
			}
			n, err := rec.Purge(context.Background(), 90*24*time.Hour)
			if err != nil || n != 1 {
				t.Errorf("Purge(90 days) = %d, %v; want the 100-day-old event gone", n, err)
			}
			if n, _ := rec.Purge(context.Background(), 0); n != 0 {
				t.Errorf("Purge(0) deleted %d, want nothing (keep forever)", n)
			}
			var none *audit.Recorder
			none.Record(ctx, "x", "", "", nil) // a nil recorder records nothing and does not panic
		})
	}
}
