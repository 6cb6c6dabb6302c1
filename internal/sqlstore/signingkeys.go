package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// CreateSigningKey implements auth.SigningKeyStore.
func (db *DB) CreateSigningKey(ctx context.Context, k *auth.SigningKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	_, err := db.w.ExecContext(ctx, db.q(`INSERT INTO signing_keys
		(id, algorithm, sealed, public_jwk, created_at, retired_at, publish_until) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		k.ID, k.Algorithm, k.Sealed, string(k.PublicJWK), micros(k.CreatedAt),
		nullMicros(&k.RetiredAt), nullMicros(&k.PublishUntil))
	if err != nil {
		return fmt.Errorf("create signing key: %w", db.conflict(err))
	}
	return nil
}

// FindSigningKeys implements auth.SigningKeyStore.
func (db *DB) FindSigningKeys(ctx context.Context, now time.Time) ([]*auth.SigningKey, error) {
	rows, err := db.w.QueryContext(ctx, db.q(`SELECT id, algorithm, sealed, public_jwk, created_at, retired_at, publish_until
		FROM signing_keys WHERE retired_at IS NULL OR publish_until > ?
		ORDER BY created_at DESC, id DESC`), micros(now))
	if err != nil {
		return nil, fmt.Errorf("find signing keys: %w", err)
	}
	defer rows.Close()
	var keys []*auth.SigningKey
	for rows.Next() {
		var k auth.SigningKey
		var jwk string
		var created int64
		var retired, until sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Sealed, &jwk, &created, &retired, &until); err != nil {
			return nil, fmt.Errorf("find signing keys: %w", err)
		}
		k.PublicJWK = []byte(jwk)
		k.CreatedAt = fromMicros(created)
		if retired.Valid {
			k.RetiredAt = fromMicros(retired.Int64)
		}
		if until.Valid {
			k.PublishUntil = fromMicros(until.Int64)
		}
		keys = append(keys, &k)
	}
	return keys, rows.Err()
}

// RetireSigningKey implements auth.SigningKeyStore. A key already retired
// keeps its first retirement.
func (db *DB) RetireSigningKey(ctx context.Context, id string, retiredAt, publishUntil time.Time) error {
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE signing_keys SET retired_at = ?, publish_until = ?
		WHERE id = ? AND retired_at IS NULL`), micros(retiredAt), micros(publishUntil), id)
	if err != nil {
		return fmt.Errorf("retire signing key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		if err := db.w.QueryRowContext(ctx, db.q(`SELECT 1 FROM signing_keys WHERE id = ?`), id).Scan(&one); err != nil {
			return auth.Errorf(auth.ENotFound, "Signing key not found.")
		}
	}
	return nil
}
