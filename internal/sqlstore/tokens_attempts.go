package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// AttemptToken implements auth.TokenStore. One UPDATE both counts the attempt
// and checks that the token still had attempts left, so concurrent guesses
// cannot get past the limit: each one that succeeds has taken one of the
// maxAttempts slots. PostgreSQL re-checks the WHERE clause on the row it
// locked, and SQLite runs one writer at a time.
func (db *DB) AttemptToken(ctx context.Context, purpose string, hash []byte, maxAttempts int, now time.Time) (*auth.OneTimeToken, error) {
	if maxAttempts <= 0 {
		return nil, errTokenInvalid
	}
	t := auth.OneTimeToken{Hash: hash}
	var userID sql.NullString
	var created, expires int64
	err := db.w.QueryRowContext(ctx, db.q(`UPDATE one_time_tokens SET attempts = attempts + 1
		WHERE hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? AND attempts < ?
		RETURNING purpose, user_id, data, created_at, expires_at`),
		hash, purpose, micros(now), maxAttempts).Scan(&t.Purpose, &userID, &t.Data, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("attempt token: %w", err)
	}
	t.UserID = userID.String
	t.CreatedAt, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &t, nil
}

// DeleteToken implements auth.TokenStore.
func (db *DB) DeleteToken(ctx context.Context, purpose string, hash []byte) error {
	if _, err := db.w.ExecContext(ctx, db.q(`DELETE FROM one_time_tokens WHERE hash = ? AND purpose = ?`), hash, purpose); err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	return nil
}

// tokenPurgeBatch is how many one-time tokens one DELETE removes. Each batch
// is a statement of its own, so a large backlog (every passkey sign-in that
// was begun and never finished leaves a token) holds SQLite's one writer, or
// PostgreSQL's row locks, only briefly at a time.
const tokenPurgeBatch = 1000

// DeleteExpiredTokens implements auth.TokenStore. Both passes select through
// the index on expires_at: the expired tokens, then the spent ones among the
// live tokens (the expired ones are gone by then, so the condition on
// expires_at changes nothing but the plan).
func (db *DB) DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	passes := []struct {
		where string
		args  []any
	}{
		{`expires_at <= ?`, []any{micros(now), tokenPurgeBatch}},
		{`expires_at > ? AND used_at <= ?`, []any{micros(now), micros(now.Add(-auth.UsedTokenRetention)), tokenPurgeBatch}},
	}
	total := 0
	for _, p := range passes {
		query := db.q(`DELETE FROM one_time_tokens WHERE hash IN
			(SELECT hash FROM one_time_tokens WHERE ` + p.where + ` LIMIT ?)`)
		for {
			res, err := db.w.ExecContext(ctx, query, p.args...)
			if err != nil {
				return total, fmt.Errorf("delete expired tokens: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, fmt.Errorf("delete expired tokens: %w", err)
			}
			total += int(n)
			// A short batch is the last one. (Another node purging at the
			// same time can make one short early; the rest waits for the
			// next purge.)
			if n < tokenPurgeBatch {
				break
			}
		}
	}
	return total, nil
}
