package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

const passkeyColumns = `p.id, p.user_id, p.credential_id, p.public_key, p.algorithm, p.sign_count, p.aaguid, p.transports,
	p.backup_eligible, p.backup_state, p.user_verified, p.attestation_format, p.name, p.created_at, p.last_used_at, p.clone_warning`

func scanPasskey(s scanner) (*auth.Passkey, error) {
	var (
		p          auth.Passkey
		signCount  int64
		transports string
		created    int64
		used       sql.NullInt64
	)
	if err := s.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &p.Algorithm, &signCount, &p.AAGUID, &transports,
		&p.BackupEligible, &p.BackupState, &p.UserVerified, &p.AttestationFormat, &p.Name, &created, &used, &p.CloneWarning); err != nil {
		return nil, err
	}
	p.SignCount = uint32(signCount)
	if len(p.AAGUID) == 0 {
		p.AAGUID = nil // the same on both databases: SQLite scans an empty BLOB as nil
	}
	p.Transports = []string{}
	if transports != "" {
		p.Transports = strings.Split(transports, ",")
	}
	p.CreatedAt = fromMicros(created)
	p.LastUsedAt = fromNullMicros(used)
	return &p, nil
}

var (
	errPasskeyNotFound    = auth.Errorf(auth.ENotFound, "Passkey not found.")
	errUserHandleNotFound = auth.Errorf(auth.ENotFound, "No passkey user handle.")
)

// CreatePasskey implements auth.PasskeyStore.
func (db *DB) CreatePasskey(ctx context.Context, p *auth.Passkey) error {
	if problem := auth.ValidatePasskeyName(p.Name); problem != "" {
		return auth.ValidationError(map[string]string{"name": problem})
	}
	for _, t := range p.Transports {
		// Transports are stored comma-separated.
		if t == "" || strings.ContainsRune(t, ',') {
			return auth.Errorf(auth.EValidation, "Invalid passkey transport %q.", t)
		}
	}
	if p.ID == "" {
		p.ID = auth.NewID()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = time.Now()
	}
	p.CreatedAt = fromMicros(micros(p.CreatedAt))
	aaguid := p.AAGUID
	if aaguid == nil {
		aaguid = []byte{}
	}
	_, err := db.w.ExecContext(ctx, db.q(`INSERT INTO passkeys (id, user_id, credential_id, public_key, algorithm, sign_count,
		aaguid, transports, backup_eligible, backup_state, user_verified, attestation_format, name, created_at, last_used_at, clone_warning)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		p.ID, p.UserID, p.CredentialID, p.PublicKey, p.Algorithm, int64(p.SignCount), aaguid, strings.Join(p.Transports, ","),
		p.BackupEligible, p.BackupState, p.UserVerified, p.AttestationFormat, p.Name, micros(p.CreatedAt), nullMicros(p.LastUsedAt),
		p.CloneWarning)
	if err != nil {
		if _, ok := db.d.UniqueViolation(err); ok {
			return &auth.Error{Code: auth.EConflict, Message: "This passkey is already registered.", Err: err}
		}
		return fmt.Errorf("create passkey: %w", err)
	}
	return nil
}

// FindPasskeysByUser implements auth.PasskeyStore.
func (db *DB) FindPasskeysByUser(ctx context.Context, userID string) ([]*auth.Passkey, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+passkeyColumns+` FROM passkeys p
		WHERE p.user_id = ? ORDER BY p.created_at, p.id`), userID)
	if err != nil {
		return nil, fmt.Errorf("find passkeys: %w", err)
	}
	defer rows.Close()
	out := []*auth.Passkey{}
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, fmt.Errorf("find passkeys: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find passkeys: %w", err)
	}
	return out, nil
}

// FindPasskeyByCredentialID implements auth.PasskeyStore.
func (db *DB) FindPasskeyByCredentialID(ctx context.Context, credentialID []byte) (*auth.Passkey, error) {
	row, err := db.readRow(ctx, `SELECT `+passkeyColumns+` FROM passkeys p WHERE p.credential_id = ?`, credentialID)
	if err != nil {
		return nil, fmt.Errorf("find passkey: %w", err)
	}
	p, err := scanPasskey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errPasskeyNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find passkey: %w", err)
	}
	return p, nil
}

// UpdatePasskeyUse implements auth.PasskeyStore. The counter and the
// last-used time only move forwards, so that two sign-ins finishing out of
// order cannot lower the counter a clone would have to beat.
func (db *DB) UpdatePasskeyUse(ctx context.Context, id string, signCount uint32, backupState, cloneWarning bool, usedAt time.Time) error {
	n, used := int64(signCount), micros(usedAt)
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE passkeys SET
		sign_count = CASE WHEN sign_count < ? THEN ? ELSE sign_count END,
		backup_state = ?,
		clone_warning = (clone_warning OR ?),
		last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_at END
		WHERE id = ?`), n, n, backupState, cloneWarning, used, used, id)
	if err != nil {
		return fmt.Errorf("update passkey use: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errPasskeyNotFound
	}
	return nil
}

// RenamePasskey implements auth.PasskeyStore.
func (db *DB) RenamePasskey(ctx context.Context, userID, id, name string) error {
	if problem := auth.ValidatePasskeyName(name); problem != "" {
		return auth.ValidationError(map[string]string{"name": problem})
	}
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?`), name, id, userID)
	if err != nil {
		return fmt.Errorf("rename passkey: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errPasskeyNotFound
	}
	return nil
}

// DeletePasskey implements auth.PasskeyStore.
func (db *DB) DeletePasskey(ctx context.Context, userID, id string) error {
	res, err := db.w.ExecContext(ctx, db.q(`DELETE FROM passkeys WHERE id = ? AND user_id = ?`), id, userID)
	if err != nil {
		return fmt.Errorf("delete passkey: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errPasskeyNotFound
	}
	return nil
}

// UserHandle implements auth.PasskeyStore. The handle is made at most once
// per user: of concurrent first calls, the insert of one wins and the others
// read its handle.
func (db *DB) UserHandle(ctx context.Context, userID string, create bool) ([]byte, error) {
	var handle []byte
	err := db.w.QueryRowContext(ctx, db.q(`SELECT handle FROM webauthn_users WHERE user_id = ?`), userID).Scan(&handle)
	if err == nil {
		return handle, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find user handle: %w", err)
	}
	if !create {
		return nil, errUserHandleNotFound
	}
	err = db.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, db.q(`SELECT 1 FROM users WHERE id = ?`), userID).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errUserNotFound
			}
			return err
		}
		fresh := make([]byte, auth.UserHandleLen)
		rand.Read(fresh) // never fails (crypto/rand: "Read ... never returns an error")
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO webauthn_users (user_id, handle, created_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO NOTHING`), userID, fresh, micros(time.Now())); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, db.q(`SELECT handle FROM webauthn_users WHERE user_id = ?`), userID).Scan(&handle)
	})
	if err != nil {
		if auth.IsNotFound(err) {
			return nil, err
		}
		return nil, fmt.Errorf("create user handle: %w", err)
	}
	return handle, nil
}

// FindUserByHandle implements auth.PasskeyStore.
func (db *DB) FindUserByHandle(ctx context.Context, handle []byte) (string, error) {
	row, err := db.readRow(ctx, `SELECT user_id FROM webauthn_users WHERE handle = ?`, handle)
	if err != nil {
		return "", fmt.Errorf("find user by handle: %w", err)
	}
	var userID string
	if err := row.Scan(&userID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", errUserHandleNotFound
		}
		return "", fmt.Errorf("find user by handle: %w", err)
	}
	return userID, nil
}

// CreateUserHandle implements auth.PasskeyStore.
func (db *DB) CreateUserHandle(ctx context.Context, userID string, handle []byte) error {
	if len(handle) != auth.UserHandleLen {
		return auth.Errorf(auth.EValidation, "A user handle has %d bytes, not %d.", auth.UserHandleLen, len(handle))
	}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, db.q(`SELECT 1 FROM users WHERE id = ?`), userID).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errUserNotFound
			}
			return err
		}
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO webauthn_users (user_id, handle, created_at) VALUES (?, ?, ?)`),
			userID, handle, micros(time.Now()))
		return err
	})
	switch {
	case err == nil:
		return nil
	case auth.IsNotFound(err):
		return err
	}
	if _, ok := db.d.UniqueViolation(err); ok {
		return &auth.Error{Code: auth.EConflict, Message: "The user has a passkey user handle already, or the handle is taken.", Err: err}
	}
	return fmt.Errorf("create user handle: %w", err)
}
