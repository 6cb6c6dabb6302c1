package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// CreateToken implements auth.TokenStore.
func (db *DB) CreateToken(ctx context.Context, t *auth.OneTimeToken) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	var userID sql.NullString
	if t.UserID != "" {
		userID = sql.NullString{String: t.UserID, Valid: true}
	}
	_, err := db.w.ExecContext(ctx, db.q(`INSERT INTO one_time_tokens
		(hash, purpose, user_id, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
		t.Hash, t.Purpose, userID, t.Data, micros(t.CreatedAt), micros(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

var errTokenInvalid = auth.Errorf(auth.EInvalidToken, "This link or code is invalid or has expired.")

// ConsumeToken implements auth.TokenStore. One UPDATE both checks and spends
// the token, so two concurrent callers cannot both succeed.
func (db *DB) ConsumeToken(ctx context.Context, purpose string, hash []byte, now time.Time) (*auth.OneTimeToken, error) {
	t := auth.OneTimeToken{Hash: hash}
	var userID sql.NullString
	var created, expires int64
	err := db.w.QueryRowContext(ctx, db.q(`UPDATE one_time_tokens SET used_at = ?
		WHERE hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
		RETURNING purpose, user_id, data, created_at, expires_at`),
		micros(now), hash, purpose, micros(now)).Scan(&t.Purpose, &userID, &t.Data, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("consume token: %w", err)
	}
	t.UserID = userID.String
	t.CreatedAt, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &t, nil
}

// FindToken implements auth.TokenStore.
func (db *DB) FindToken(ctx context.Context, purpose string, hash []byte, now time.Time) (*auth.OneTimeToken, error) {
	t := auth.OneTimeToken{Hash: hash}
	var userID sql.NullString
	var created, expires int64
	err := db.w.QueryRowContext(ctx, db.q(`SELECT purpose, user_id, data, created_at, expires_at FROM one_time_tokens
		WHERE hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`),
		hash, purpose, micros(now)).Scan(&t.Purpose, &userID, &t.Data, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	t.UserID = userID.String
	t.CreatedAt, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &t, nil
}

// DeleteTokens implements auth.TokenStore.
func (db *DB) DeleteTokens(ctx context.Context, purpose, userID string) error {
	var err error
	if userID == "" {
		_, err = db.w.ExecContext(ctx, db.q(`DELETE FROM one_time_tokens WHERE purpose = ? AND user_id IS NULL`), purpose)
	} else {
		_, err = db.w.ExecContext(ctx, db.q(`DELETE FROM one_time_tokens WHERE purpose = ? AND user_id = ?`), purpose, userID)
	}
	if err != nil {
		return fmt.Errorf("delete tokens: %w", err)
	}
	return nil
}
