package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store"
)

// testStats checks the dashboard's aggregate queries: active sessions by
// absolute expiry, and events counted per type and hour inside [from, to).
func testStats(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC) // on the hour
	u := mustCreate(t, s, "stat", "stat@example.com")
	newSession(t, s, u, "secret-1", t0)                    // expires t0+24h
	newSession(t, s, u, "secret-2", t0.Add(-23*time.Hour)) // expires t0+1h
	newSession(t, s, u, "secret-3", t0.Add(-25*time.Hour)) // expired at t0-1h
	for _, tc := range []struct {
		now  time.Time
		want int
	}{
		{t0, 2},
		{t0.Add(time.Hour), 1}, // expiry is exclusive: a session ends at its ExpiresAt
		{t0.Add(2 * time.Hour), 1},
		{t0.Add(25 * time.Hour), 0},
	} {
		if got, err := s.CountActiveSessions(ctx, tc.now); err != nil || got != tc.want {
			t.Errorf("CountActiveSessions(%v) = %d, %v; want %d", tc.now, got, err, tc.want)
		}
	}

	for _, e := range []struct {
		typ string
		at  time.Duration
	}{
		{auth.EventLoginSucceeded, -time.Minute},                    // before from
		{auth.EventLoginSucceeded, 0},                               // hour 9
		{auth.EventLoginSucceeded, 59*time.Minute + 59*time.Second}, // still hour 9
		{auth.EventLoginFailed, 30 * time.Minute},                   // hour 9
		{auth.EventLogout, 31 * time.Minute},                        // another type
		{auth.EventLoginFailed, 2*time.Hour + time.Second},          // hour 11
		{auth.EventLoginFailed, 2*time.Hour + 2*time.Second},        // hour 11
		{auth.EventLoginSucceeded, 3 * time.Hour},                   // at to: excluded
	} {
		if err := s.AppendEvent(ctx, &auth.Event{Type: e.typ, CreatedAt: t0.Add(e.at)}); err != nil {
			t.Fatalf("AppendEvent() = %v", err)
		}
	}
	types := []string{auth.EventLoginSucceeded, auth.EventLoginFailed}
	got, err := s.CountEventsByHour(ctx, types, t0, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatalf("CountEventsByHour() = %v", err)
	}
	want := []auth.HourCount{
		{Hour: t0, Type: auth.EventLoginFailed, Count: 1},
		{Hour: t0, Type: auth.EventLoginSucceeded, Count: 2},
		{Hour: t0.Add(2 * time.Hour), Type: auth.EventLoginFailed, Count: 2},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("CountEventsByHour() mismatch (-want +got):\n%s", d)
	}
	// A window that starts inside an hour counts only what falls inside it.
	got, _ = s.CountEventsByHour(ctx, []string{auth.EventLoginSucceeded}, t0.Add(time.Minute), t0.Add(time.Hour))
	if d := cmp.Diff([]auth.HourCount{{Hour: t0, Type: auth.EventLoginSucceeded, Count: 1}}, got); d != "" {
		t.Errorf("CountEventsByHour(part of an hour) mismatch (-want +got):\n%s", d)
	}
	for _, empty := range [][]string{nil, {"no.such.type"}} {
		if got, err := s.CountEventsByHour(ctx, empty, t0, t0.Add(time.Hour)); err != nil || len(got) != 0 {
			t.Errorf("CountEventsByHour(%q) = %v, %v; want none", empty, got, err)
		}
	}
}
