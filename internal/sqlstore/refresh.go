package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// CreateRefreshToken implements auth.RefreshStore.
func (db *DB) CreateRefreshToken(ctx context.Context, t *auth.RefreshToken) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	_, err := db.w.ExecContext(ctx, db.q(`INSERT INTO refresh_tokens (hash, session_id, user_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`), t.Hash, t.SessionID, t.UserID, micros(t.CreatedAt), micros(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	return nil
}

var (
	errRefreshInvalid = auth.Errorf(auth.EInvalidToken, "The refresh token is invalid or has expired.")
	errRefreshReused  = auth.Errorf(auth.ETokenReused, "The refresh token was already used; the session has been ended.")
)

// RotateRefreshToken implements auth.RefreshStore. The conditional UPDATE is
// the arbiter: it spends the token only if no one has, so of concurrent
// rotations exactly one sees a row.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash []byte, next *auth.RefreshToken, now, revokeUntil time.Time) (*auth.Session, error) {
	var sess *auth.Session
	reused := false
	var reusedSession, reusedUser string
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var sessionID, userID string
		err := tx.QueryRowContext(ctx, db.q(`UPDATE refresh_tokens SET used_at = ?
			WHERE hash = ? AND used_at IS NULL AND expires_at > ? RETURNING session_id, user_id`),
			micros(now), oldHash, micros(now)).Scan(&sessionID, &userID)
		if errors.Is(err, sql.ErrNoRows) {
			var used sql.NullInt64
			err := tx.QueryRowContext(ctx, db.q(`SELECT session_id, user_id, used_at FROM refresh_tokens WHERE hash = ?`), oldHash).Scan(&sessionID, &userID, &used)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && !used.Valid) {
				return errRefreshInvalid // unknown, or unused but expired
			}
			if err != nil {
				return err
			}
			// Reuse: end the family and its session.
			reused, reusedSession, reusedUser = true, sessionID, userID
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM refresh_tokens WHERE session_id = ? AND used_at IS NULL`), sessionID); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, db.q(`DELETE FROM sessions WHERE id = ?`), sessionID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				return db.recordRevocations(ctx, tx, []string{sessionID}, revokeUntil)
			}
			return nil
		}
		if err != nil {
			return err
		}
		sess, err = scanSession(tx.QueryRowContext(ctx, db.q(`SELECT `+sessionColumns+` FROM sessions s WHERE s.id = ?`), sessionID))
		if errors.Is(err, sql.ErrNoRows) {
			return errRefreshInvalid // the session ended; its tokens die with it
		}
		if err != nil {
			return err
		}
		next.SessionID, next.UserID = sessionID, userID
		if next.ExpiresAt.IsZero() || next.ExpiresAt.After(sess.ExpiresAt) {
			next.ExpiresAt = sess.ExpiresAt // no token outlives its session
		}
		if next.CreatedAt.IsZero() {
			next.CreatedAt = now
		}
		_, err = tx.ExecContext(ctx, db.q(`INSERT INTO refresh_tokens (hash, session_id, user_id, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`), next.Hash, sessionID, userID, micros(next.CreatedAt), micros(next.ExpiresAt))
		return err
	})
	if reused {
		// The revocation committed; report the reuse.
		if err == nil {
			return &auth.Session{ID: reusedSession, UserID: reusedUser}, errRefreshReused
		}
	}
	if err != nil {
		var e *auth.Error
		if errors.As(err, &e) {
			return nil, err
		}
		return nil, fmt.Errorf("rotate refresh token: %w", err)
	}
	return sess, nil
}
