package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// AppendEvent implements auth.AuditStore.
func (db *DB) AppendEvent(ctx context.Context, e *auth.Event) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now()
	}
	data, err := json.Marshal(e.Data)
	if err != nil || e.Data == nil {
		data = []byte("{}")
	}
	err = db.w.QueryRowContext(ctx, db.q(`INSERT INTO audit_events (type, actor_id, target_id, ip, user_agent, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), e.Type, e.ActorID, e.TargetID, e.IP, e.UserAgent, string(data),
		micros(e.CreatedAt)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	return nil
}

// FindEvents implements auth.AuditStore.
func (db *DB) FindEvents(ctx context.Context, f auth.EventFilter) ([]*auth.Event, int, error) {
	var conds []string
	var args []any
	if f.UserID != "" {
		conds = append(conds, `(actor_id = ? OR target_id = ?)`)
		args = append(args, f.UserID, f.UserID)
	}
	if f.Type != "" {
		conds = append(conds, `type = ?`)
		args = append(args, f.Type)
	}
	if !f.Since.IsZero() {
		conds = append(conds, `created_at >= ?`)
		args = append(args, micros(f.Since))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	var total int
	if err := db.w.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM audit_events`+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit events: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	rows, err := db.w.QueryContext(ctx, db.q(`SELECT id, type, actor_id, target_id, ip, user_agent, data, created_at
		FROM audit_events`+where+` ORDER BY id DESC LIMIT ? OFFSET ?`), append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("find audit events: %w", err)
	}
	defer rows.Close()
	out := []*auth.Event{}
	for rows.Next() {
		var e auth.Event
		var data string
		var created int64
		if err := rows.Scan(&e.ID, &e.Type, &e.ActorID, &e.TargetID, &e.IP, &e.UserAgent, &data, &created); err != nil {
			return nil, 0, fmt.Errorf("find audit events: %w", err)
		}
		e.CreatedAt = fromMicros(created)
		e.Data = map[string]string{}
		json.Unmarshal([]byte(data), &e.Data)
		out = append(out, &e)
	}
	return out, total, rows.Err()
}

// DeleteEventsBefore implements auth.AuditStore.
func (db *DB) DeleteEventsBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, db.q(`DELETE FROM audit_events WHERE created_at < ?`), micros(t))
	if err != nil {
		return 0, fmt.Errorf("delete audit events: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
