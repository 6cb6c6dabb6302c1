package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

const identityColumns = `i.id, i.user_id, i.provider, i.issuer, i.subject, i.email, i.email_verified, i.created_at, i.last_login_at`

func scanIdentity(s scanner) (*auth.Identity, error) {
	var (
		i              auth.Identity
		created, login int64
	)
	if err := s.Scan(&i.ID, &i.UserID, &i.Provider, &i.Issuer, &i.Subject, &i.Email, &i.EmailVerified, &created, &login); err != nil {
		return nil, err
	}
	i.CreatedAt = fromMicros(created)
	i.LastLoginAt = fromMicros(login)
	return &i, nil
}

var errIdentityNotFound = auth.Errorf(auth.ENotFound, "Linked account not found.")

// CreateIdentity implements auth.IdentityStore.
func (db *DB) CreateIdentity(ctx context.Context, i *auth.Identity) error {
	if problem := auth.ValidateIdentityKey(i.Provider, i.Issuer, i.Subject); problem != "" {
		return auth.Errorf(auth.EValidation, "%s", problem)
	}
	if i.ID == "" {
		i.ID = auth.NewID()
	}
	if i.CreatedAt.IsZero() {
		i.CreatedAt = time.Now()
	}
	if i.LastLoginAt.IsZero() {
		i.LastLoginAt = i.CreatedAt
	}
	i.CreatedAt = fromMicros(micros(i.CreatedAt))
	i.LastLoginAt = fromMicros(micros(i.LastLoginAt))
	i.Email = auth.NormalizeEmail(i.Email)
	_, err := db.w.ExecContext(ctx, db.q(`INSERT INTO identities
		(id, user_id, provider, issuer, subject, email, email_verified, created_at, last_login_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		i.ID, i.UserID, i.Provider, i.Issuer, i.Subject, i.Email, i.EmailVerified, micros(i.CreatedAt), micros(i.LastLoginAt))
	if err != nil {
		if _, ok := db.d.UniqueViolation(err); ok {
			return &auth.Error{Code: auth.EConflict, Message: "This account at the sign-in provider is already linked to a user.", Err: err}
		}
		return fmt.Errorf("create identity: %w", err)
	}
	return nil
}

// FindIdentity implements auth.IdentityStore.
func (db *DB) FindIdentity(ctx context.Context, provider, issuer, subject string) (*auth.Identity, error) {
	row, err := db.readRow(ctx, `SELECT `+identityColumns+` FROM identities i
		WHERE i.provider = ? AND i.issuer = ? AND i.subject = ?`, provider, issuer, subject)
	if err != nil {
		return nil, fmt.Errorf("find identity: %w", err)
	}
	i, err := scanIdentity(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errIdentityNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find identity: %w", err)
	}
	return i, nil
}

// FindUserIdentities implements auth.IdentityStore.
func (db *DB) FindUserIdentities(ctx context.Context, userID string) ([]*auth.Identity, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+identityColumns+` FROM identities i
		WHERE i.user_id = ? ORDER BY i.created_at, i.id`), userID)
	if err != nil {
		return nil, fmt.Errorf("find identities: %w", err)
	}
	defer rows.Close()
	out := []*auth.Identity{}
	for rows.Next() {
		i, err := scanIdentity(rows)
		if err != nil {
			return nil, fmt.Errorf("find identities: %w", err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find identities: %w", err)
	}
	return out, nil
}

// DeleteIdentity implements auth.IdentityStore.
func (db *DB) DeleteIdentity(ctx context.Context, userID, id string) error {
	res, err := db.w.ExecContext(ctx, db.q(`DELETE FROM identities WHERE id = ? AND user_id = ?`), id, userID)
	if err != nil {
		return fmt.Errorf("delete identity: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errIdentityNotFound
	}
	return nil
}

// TouchIdentity implements auth.IdentityStore. The email columns change
// together with the time, so that two sign-ins finishing out of order leave
// what the provider said at the later one.
func (db *DB) TouchIdentity(ctx context.Context, id, email string, emailVerified bool, at time.Time) error {
	t, email := micros(at), auth.NormalizeEmail(email)
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE identities SET
		email = CASE WHEN last_login_at <= ? THEN ? ELSE email END,
		email_verified = CASE WHEN last_login_at <= ? THEN ? ELSE email_verified END,
		last_login_at = CASE WHEN last_login_at <= ? THEN ? ELSE last_login_at END
		WHERE id = ?`), t, email, t, emailVerified, t, t, id)
	if err != nil {
		return fmt.Errorf("touch identity: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errIdentityNotFound
	}
	return nil
}
