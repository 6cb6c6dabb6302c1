package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// maxMailError bounds the stored failure text: a mail server's reply is
// short, but the column should not grow with whatever an error chain holds.
const maxMailError = 1000

const outboxColumns = `id, recipient, subject, text_body, html_body, kind, created_at, next_attempt_at,
	attempts, last_error, sent_at, gave_up_at`

// EnqueueMail implements auth.OutboxStore.
func (db *DB) EnqueueMail(ctx context.Context, m *auth.OutboxMail) error {
	if m.To == "" {
		return auth.ValidationError(map[string]string{"to": "A mail needs a recipient."})
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	if m.NextAttemptAt.IsZero() {
		m.NextAttemptAt = m.CreatedAt
	}
	err := db.w.QueryRowContext(ctx, db.q(`INSERT INTO mail_outbox
		(recipient, subject, text_body, html_body, kind, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		RETURNING id`), m.To, m.Subject, m.Text, m.HTML, m.Kind, micros(m.CreatedAt), micros(m.NextAttemptAt)).Scan(&m.ID)
	if err != nil {
		return fmt.Errorf("enqueue mail: %w", err)
	}
	return nil
}

// ClaimMails implements auth.OutboxStore. One statement both picks the due
// mails and moves them out of reach, so two workers cannot take the same mail.
//
// On SQLite the single writer connection serialises the statement. On
// PostgreSQL the pick locks the rows it takes and skips rows that another
// worker's claim holds (SKIP LOCKED), so concurrent claims neither queue on
// the same rows nor take them twice: a row that another claim committed in
// the meantime is re-read, and fails the conditions the UPDATE repeats. The
// pick is a MATERIALIZED CTE because as a plain IN (sub-select) PostgreSQL
// may run it again while updating, and each run, skipping the rows already
// taken, would add more: LIMIT would not hold.
func (db *DB) ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*auth.OutboxMail, error) {
	if limit <= 0 {
		return []*auth.OutboxMail{}, nil
	}
	lock := ""
	if db.d.Name == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := db.w.QueryContext(ctx, db.q(`WITH due AS MATERIALIZED (
			SELECT id FROM mail_outbox WHERE sent_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?
			ORDER BY next_attempt_at, id LIMIT ?`+lock+`)
		UPDATE mail_outbox SET next_attempt_at = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM due) AND sent_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?
		RETURNING `+outboxColumns),
		micros(now), limit, micros(now.Add(lease)), micros(now))
	if err != nil {
		return nil, fmt.Errorf("claim mails: %w", err)
	}
	out, err := scanMails(rows)
	if err != nil {
		return nil, fmt.Errorf("claim mails: %w", err)
	}
	// RETURNING promises no order; hand the mails out oldest first.
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// MarkMailSent implements auth.OutboxStore.
func (db *DB) MarkMailSent(ctx context.Context, id int64, at time.Time) error {
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE mail_outbox SET sent_at = ?, last_error = '' WHERE id = ?`), micros(at), id)
	if err != nil {
		return fmt.Errorf("mark mail sent: %w", err)
	}
	return mailFound(res, id)
}

// MarkMailFailed implements auth.OutboxStore.
func (db *DB) MarkMailFailed(ctx context.Context, id int64, errMsg string, next time.Time, giveUp bool) error {
	errMsg = strings.ReplaceAll(errMsg, "\x00", "") // PostgreSQL TEXT cannot hold NUL
	if len(errMsg) > maxMailError {
		// Cut on a byte boundary, then drop a split character: PostgreSQL
		// refuses invalid UTF-8 in TEXT.
		errMsg = strings.ToValidUTF8(errMsg[:maxMailError], "")
	}
	var gaveUp sql.NullInt64
	if giveUp {
		gaveUp = sql.NullInt64{Int64: micros(next), Valid: true}
	}
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE mail_outbox SET last_error = ?, next_attempt_at = ?, gave_up_at = ?
		WHERE id = ? AND sent_at IS NULL`), errMsg, micros(next), gaveUp, id)
	if err != nil {
		return fmt.Errorf("mark mail failed: %w", err)
	}
	return mailFound(res, id)
}

func mailFound(res sql.Result, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return auth.Errorf(auth.ENotFound, "No pending mail %d.", id)
	}
	return nil
}

// FindMails implements auth.OutboxStore.
func (db *DB) FindMails(ctx context.Context, limit int) ([]*auth.OutboxMail, error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+outboxColumns+` FROM mail_outbox ORDER BY id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("find mails: %w", err)
	}
	out, err := scanMails(rows)
	if err != nil {
		return nil, fmt.Errorf("find mails: %w", err)
	}
	return out, nil
}

// CountPendingMails implements auth.OutboxStore.
func (db *DB) CountPendingMails(ctx context.Context) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND gave_up_at IS NULL`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pending mails: %w", err)
	}
	return n, nil
}

// DeleteSentMailsBefore implements auth.OutboxStore.
func (db *DB) DeleteSentMailsBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, db.q(`DELETE FROM mail_outbox WHERE sent_at < ? OR gave_up_at < ?`), micros(t), micros(t))
	if err != nil {
		return 0, fmt.Errorf("delete sent mails: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// scanMails reads rows of outboxColumns and closes them.
func scanMails(rows *sql.Rows) ([]*auth.OutboxMail, error) {
	defer rows.Close()
	out := []*auth.OutboxMail{}
	for rows.Next() {
		var m auth.OutboxMail
		var created, next int64
		var sent, gaveUp sql.NullInt64
		if err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.Text, &m.HTML, &m.Kind, &created, &next,
			&m.Attempts, &m.LastError, &sent, &gaveUp); err != nil {
			return nil, err
		}
		m.CreatedAt, m.NextAttemptAt = fromMicros(created), fromMicros(next)
		m.SentAt, m.GaveUpAt = fromNullMicros(sent), fromNullMicros(gaveUp)
		out = append(out, &m)
	}
	return out, rows.Err()
}
