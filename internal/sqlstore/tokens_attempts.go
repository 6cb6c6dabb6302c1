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
