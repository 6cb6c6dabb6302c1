package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

const apiKeyColumns = `k.id, k.name, k.prefix, k.hash, k.scopes, k.created_by, k.created_at, k.expires_at, k.last_used_at`

func scanAPIKey(s scanner, extra ...any) (*auth.APIKey, error) {
	var k auth.APIKey
	var scopes string
	var created int64
	var expires, used sql.NullInt64
	if err := s.Scan(append([]any{&k.ID, &k.Name, &k.Prefix, &k.Hash, &scopes, &k.CreatedBy, &created, &expires, &used}, extra...)...); err != nil {
		return nil, err
	}
	k.Scopes = []string{}
	if scopes != "" {
		k.Scopes = strings.Split(scopes, ",")
	}
	k.CreatedAt = fromMicros(created)
	k.ExpiresAt = fromNullMicros(expires)
	k.LastUsedAt = fromNullMicros(used)
	return &k, nil
}

// CreateAPIKey implements auth.APIKeyStore.
func (db *DB) CreateAPIKey(ctx context.Context, k *auth.APIKey) error {
	if k.ID == "" {
		k.ID = auth.NewID()
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	k.CreatedAt = fromMicros(micros(k.CreatedAt))
	_, err := db.w.ExecContext(ctx, db.q(`INSERT INTO api_keys (id, name, prefix, hash, scopes, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), k.ID, k.Name, k.Prefix, k.Hash, strings.Join(k.Scopes, ","), k.CreatedBy,
		micros(k.CreatedAt), nullMicros(k.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create api key: %w", db.conflict(err))
	}
	return nil
}

var errAPIKeyNotFound = auth.Errorf(auth.ENotFound, "API key not found.")

// FindAPIKeyByHash implements auth.APIKeyStore.
func (db *DB) FindAPIKeyByHash(ctx context.Context, hash []byte) (*auth.APIKey, *auth.User, error) {
	row, err := db.readRow(ctx, `SELECT `+apiKeyColumns+`, `+db.userColumns()+`
		FROM api_keys k JOIN users u ON u.id = k.created_by WHERE k.hash = ?`, hash)
	if err != nil {
		return nil, nil, fmt.Errorf("find api key: %w", err)
	}
	var (
		u         auth.User
		created   int64
		lastLogin sql.NullInt64
		roles     string
	)
	k, err := scanAPIKey(row, &u.ID, &u.Username, &u.Email, &u.EmailVerified, &u.PasswordHash, &u.Active, &created, &lastLogin, &roles)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errAPIKeyNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("find api key: %w", err)
	}
	u.CreatedAt, u.LastLoginAt, u.Roles = fromMicros(created), fromNullMicros(lastLogin), splitRoles(roles)
	return k, &u, nil
}

// FindAPIKeys implements auth.APIKeyStore.
func (db *DB) FindAPIKeys(ctx context.Context) ([]*auth.APIKey, error) {
	rows, err := db.w.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys k ORDER BY k.created_at DESC, k.id`)
	if err != nil {
		return nil, fmt.Errorf("find api keys: %w", err)
	}
	defer rows.Close()
	out := []*auth.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("find api keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// DeleteAPIKey implements auth.APIKeyStore.
func (db *DB) DeleteAPIKey(ctx context.Context, id string) error {
	res, err := db.w.ExecContext(ctx, db.q(`DELETE FROM api_keys WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("delete api key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errAPIKeyNotFound
	}
	return nil
}

// TouchAPIKey implements auth.APIKeyStore.
func (db *DB) TouchAPIKey(ctx context.Context, id string, used time.Time) error {
	_, err := db.w.ExecContext(ctx, db.q(`UPDATE api_keys SET last_used_at = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`), micros(used), id, micros(used))
	if err != nil {
		return fmt.Errorf("touch api key: %w", err)
	}
	return nil
}
