package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// microsPerHour turns a stored time into its hour number since the epoch by
// integer division, which SQLite and PostgreSQL both do on BIGINT operands
// (and both truncate towards zero, which is flooring for times after 1970).
const microsPerHour = int64(time.Hour / time.Microsecond)

// CountActiveSessions implements auth.StatsStore. The sessions_expires index
// serves it.
func (db *DB) CountActiveSessions(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM sessions WHERE expires_at > ?`), micros(now)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}

// CountEventsByHour implements auth.StatsStore. The range on created_at is
// served by the audit_events_created index; the grouping happens in the
// database, so only one row per type and hour comes back.
func (db *DB) CountEventsByHour(ctx context.Context, types []string, from, to time.Time) ([]auth.HourCount, error) {
	out := []auth.HourCount{}
	if len(types) == 0 || !from.Before(to) {
		return out, nil
	}
	args := []any{micros(from), micros(to)}
	for _, t := range types {
		args = append(args, t)
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(types)), ", ")
	hour := fmt.Sprintf("created_at / %d", microsPerHour)
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+hour+`, type, COUNT(*) FROM audit_events
		WHERE created_at >= ? AND created_at < ? AND type IN (`+in+`)
		GROUP BY `+hour+`, type ORDER BY 1, 2`), args...)
	if err != nil {
		return nil, fmt.Errorf("count events by hour: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h int64
		var c auth.HourCount
		if err := rows.Scan(&h, &c.Type, &c.Count); err != nil {
			return nil, fmt.Errorf("count events by hour: %w", err)
		}
		c.Hour = time.Unix(h*3600, 0).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count events by hour: %w", err)
	}
	return out, nil
}
