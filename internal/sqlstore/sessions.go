package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

const sessionColumns = `s.id, s.token_hash, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.remember, s.ip, s.user_agent, s.method, s.rotate`

var errSessionNotFound = auth.Errorf(auth.ENotFound, "Session not found.")

func scanSession(s scanner, extra ...any) (*auth.Session, error) {
	var ss auth.Session
	var created, seen, expires int64
	dest := append([]any{&ss.ID, &ss.TokenHash, &ss.UserID, &created, &seen, &expires, &ss.Remember, &ss.IP, &ss.UserAgent, &ss.Method, &ss.Rotate}, extra...)
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	return &ss, nil
}

// CreateSession implements auth.SessionStore.
func (db *DB) CreateSession(ctx context.Context, s *auth.Session) error {
	if s.ID == "" {
		s.ID = auth.NewID()
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = time.Now()
	}
	if s.LastSeenAt.IsZero() {
		s.LastSeenAt = s.CreatedAt
	}
	_, err := db.w.ExecContext(ctx, db.q(`INSERT INTO sessions
		(id, token_hash, user_id, created_at, last_seen_at, expires_at, remember, ip, user_agent, method, rotate)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		s.ID, s.TokenHash, s.UserID, micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt), s.Remember,
		s.IP, s.UserAgent, s.Method, s.Rotate)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// FindSessionByToken implements auth.SessionStore: one query on the unique
// token_hash index, joined to the user and their roles.
func (db *DB) FindSessionByToken(ctx context.Context, hash []byte) (*auth.Session, *auth.User, error) {
	row, err := db.readRow(ctx, `SELECT `+sessionColumns+`, `+db.userColumns()+`
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, hash)
	if err != nil {
		return nil, nil, fmt.Errorf("find session: %w", err)
	}
	var (
		u         auth.User
		created   int64
		lastLogin sql.NullInt64
		roles     string
	)
	s, err := scanSession(row, &u.ID, &u.Username, &u.Email, &u.EmailVerified, &u.PasswordHash, &u.Active, &created, &lastLogin, &roles)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errSessionNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("find session: %w", err)
	}
	u.CreatedAt = fromMicros(created)
	u.LastLoginAt = fromNullMicros(lastLogin)
	u.Roles = splitRoles(roles)
	return s, &u, nil
}

// FindSessionByID implements auth.SessionStore.
func (db *DB) FindSessionByID(ctx context.Context, id string) (*auth.Session, error) {
	s, err := scanSession(db.w.QueryRowContext(ctx, db.q(`SELECT `+sessionColumns+` FROM sessions s WHERE s.id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errSessionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	return s, nil
}

// FindUserSessions implements auth.SessionStore.
func (db *DB) FindUserSessions(ctx context.Context, userID string) ([]*auth.Session, error) {
	rows, err := db.w.QueryContext(ctx, db.q(`SELECT `+sessionColumns+` FROM sessions s
		WHERE s.user_id = ? ORDER BY s.created_at DESC, s.id DESC`), userID)
	if err != nil {
		return nil, fmt.Errorf("find sessions: %w", err)
	}
	defer rows.Close()
	out := []*auth.Session{}
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("find sessions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// TouchSession implements auth.SessionStore.
func (db *DB) TouchSession(ctx context.Context, id string, seen time.Time) error {
	_, err := db.w.ExecContext(ctx, db.q(`UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`),
		micros(seen), id, micros(seen))
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// RotateSession implements auth.SessionStore.
func (db *DB) RotateSession(ctx context.Context, id string, newHash []byte) error {
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE sessions SET token_hash = ?, rotate = ? WHERE id = ?`), newHash, false, id)
	if err != nil {
		return fmt.Errorf("rotate session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errSessionNotFound
	}
	return nil
}

// RevokeSession implements auth.SessionStore.
func (db *DB) RevokeSession(ctx context.Context, id string, until time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`DELETE FROM sessions WHERE id = ?`), id)
		if err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errSessionNotFound
		}
		return db.recordRevocations(ctx, tx, []string{id}, until)
	})
}

// recordRevocations adds ended sessions to the revocation feed and drops
// their unused refresh tokens. Used ones stay until they expire, so that
// presenting one again is still recognised as reuse.
func (db *DB) recordRevocations(ctx context.Context, tx *sql.Tx, ids []string, until time.Time) error {
	now := micros(time.Now())
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM refresh_tokens WHERE session_id = ? AND used_at IS NULL`), id); err != nil {
			return fmt.Errorf("drop refresh tokens: %w", err)
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO session_revocations (session_id, revoked_at, until) VALUES (?, ?, ?)`),
			id, now, micros(until)); err != nil {
			return fmt.Errorf("record revocation: %w", err)
		}
	}
	return nil
}

// RevokeUserSessions implements auth.SessionStore.
func (db *DB) RevokeUserSessions(ctx context.Context, userID, except string, until time.Time) ([]string, error) {
	var ids []string
	err := db.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, db.q(`SELECT id FROM sessions WHERE user_id = ? AND id <> ?`), userID, except)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM sessions WHERE user_id = ? AND id <> ?`), userID, except); err != nil {
			return err
		}
		return db.recordRevocations(ctx, tx, ids, until)
	})
	if err != nil {
		return nil, fmt.Errorf("revoke sessions: %w", err)
	}
	return ids, nil
}

// DeleteExpiredSessions implements auth.SessionStore.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`DELETE FROM sessions WHERE expires_at <= ?`), micros(now))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if _, err = tx.ExecContext(ctx, db.q(`DELETE FROM refresh_tokens WHERE expires_at <= ?`), micros(now)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, db.q(`DELETE FROM session_revocations WHERE until <= ?`), micros(now))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(n), nil
}

// FindRevocations implements auth.SessionStore.
func (db *DB) FindRevocations(ctx context.Context, after int64, now time.Time, limit int) ([]auth.Revocation, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	rows, err := db.w.QueryContext(ctx, db.q(`SELECT seq, session_id, revoked_at, until FROM session_revocations
		WHERE seq > ? AND until > ? ORDER BY seq LIMIT ?`), after, micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("find revocations: %w", err)
	}
	defer rows.Close()
	out := []auth.Revocation{}
	for rows.Next() {
		var r auth.Revocation
		var revoked, until int64
		if err := rows.Scan(&r.Seq, &r.SessionID, &revoked, &until); err != nil {
			return nil, fmt.Errorf("find revocations: %w", err)
		}
		r.RevokedAt, r.Until = fromMicros(revoked), fromMicros(until)
		out = append(out, r)
	}
	return out, rows.Err()
}

// splitRoles parses the aggregated role list, sorted by name (SQLite's
// group_concat promises no order).
func splitRoles(roles string) []string {
	if roles == "" {
		return []string{}
	}
	out := strings.Split(roles, ",")
	sort.Strings(out)
	return out
}
