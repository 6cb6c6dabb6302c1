package auth

import (
	"context"
	"time"
)

// HourCount is how many events of one type happened in one hour.
type HourCount struct {
	// Hour is the start of the hour, in UTC.
	Hour  time.Time
	Type  string
	Count int
}

// StatsStore answers the admin dashboard's questions with aggregate queries,
// so that each answer costs one query however large the tables grow.
type StatsStore interface {
	// CountActiveSessions counts the sessions whose absolute expiry is after
	// now. Sessions that have idled out but are not yet past their absolute
	// expiry are counted: only the session manager knows the idle timeout.
	CountActiveSessions(ctx context.Context, now time.Time) (int, error)
	// CountEventsByHour counts the audit events of the given types created
	// in [from, to), per type and per hour (UTC). Hours without events are
	// left out; the result is ordered by hour, then type.
	CountEventsByHour(ctx context.Context, types []string, from, to time.Time) ([]HourCount, error)
}

// MaxUserCount is the most matches UserStore.FindUsers counts: a total of
// MaxUserCount+1 means "more than MaxUserCount". Counting every match of a
// broad filter among millions of users costs more than finding the page, so
// the users table shows "10,000+" instead. CountUsers stays exact.
const MaxUserCount = 10_000
