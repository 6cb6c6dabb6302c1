package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

var (
	errTOTPNotFound     = auth.Errorf(auth.ENotFound, "Two-step verification is not set up.")
	errTOTPPending      = auth.Errorf(auth.ENotFound, "There is no two-step verification set-up to confirm.")
	errTOTPConfirmed    = auth.Errorf(auth.EConflict, "Two-step verification is already on. Turn it off before setting up a new authenticator app.")
	errTOTPStepUsed     = auth.Errorf(auth.EInvalidCredentials, "That code was used already.")
	errRecoveryCodeUsed = auth.Errorf(auth.EInvalidCredentials, "That recovery code is not valid.")
)

// SaveTOTP implements auth.MFAStore. One statement inserts the enrolment or
// replaces an unconfirmed one; the WHERE of the upsert leaves a confirmed
// secret alone, which shows as no row changed.
func (db *DB) SaveTOTP(ctx context.Context, s *auth.TOTPSecret) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = time.Now()
	}
	s.CreatedAt = fromMicros(micros(s.CreatedAt))
	res, err := db.w.ExecContext(ctx, db.q(`INSERT INTO totp_secrets (user_id, sealed, confirmed, created_at, confirmed_at, last_used_step)
		VALUES (?, ?, ?, ?, NULL, 0)
		ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, created_at = excluded.created_at,
			confirmed_at = NULL, last_used_step = 0
		WHERE NOT totp_secrets.confirmed`), s.UserID, s.Sealed, false, micros(s.CreatedAt))
	if err != nil {
		return fmt.Errorf("save totp: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errTOTPConfirmed
	}
	s.Confirmed, s.ConfirmedAt, s.LastUsedStep = false, nil, 0
	return nil
}

// ConfirmTOTP implements auth.MFAStore.
func (db *DB) ConfirmTOTP(ctx context.Context, userID string, step int64, recoveryHashes [][]byte, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE totp_secrets SET confirmed = ?, confirmed_at = ?, last_used_step = ?
			WHERE user_id = ? AND NOT confirmed`), true, micros(at), step, userID)
		if err != nil {
			return fmt.Errorf("confirm totp: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errTOTPPending
		}
		return db.replaceRecoveryCodes(ctx, tx, userID, recoveryHashes, at)
	})
}

// FindTOTP implements auth.MFAStore.
func (db *DB) FindTOTP(ctx context.Context, userID string) (*auth.TOTPSecret, error) {
	row, err := db.readRow(ctx, `SELECT user_id, sealed, confirmed, created_at, confirmed_at, last_used_step
		FROM totp_secrets WHERE user_id = ?`, userID)
	if err != nil {
		return nil, fmt.Errorf("find totp: %w", err)
	}
	var (
		s         auth.TOTPSecret
		created   int64
		confirmed sql.NullInt64
	)
	err = row.Scan(&s.UserID, &s.Sealed, &s.Confirmed, &created, &confirmed, &s.LastUsedStep)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errTOTPNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find totp: %w", err)
	}
	s.CreatedAt = fromMicros(created)
	s.ConfirmedAt = fromNullMicros(confirmed)
	return &s, nil
}

// DeleteTOTP implements auth.MFAStore.
func (db *DB) DeleteTOTP(ctx context.Context, userID string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`DELETE FROM totp_secrets WHERE user_id = ?`), userID)
		if err != nil {
			return fmt.Errorf("delete totp: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errTOTPNotFound
		}
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM recovery_codes WHERE user_id = ?`), userID); err != nil {
			return fmt.Errorf("delete recovery codes: %w", err)
		}
		return nil
	})
}

// UseTOTPStep implements auth.MFAStore. The compare and the write are one
// UPDATE, so two nodes checking the same code at once cannot both win.
func (db *DB) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE totp_secrets SET last_used_step = ?
		WHERE user_id = ? AND last_used_step < ?`), step, userID, step)
	if err != nil {
		return fmt.Errorf("use totp step: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	// Nothing changed: a replayed step, or no secret at all.
	var one int
	err = db.w.QueryRowContext(ctx, db.q(`SELECT 1 FROM totp_secrets WHERE user_id = ?`), userID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errTOTPNotFound
	case err != nil:
		return fmt.Errorf("use totp step: %w", err)
	}
	return errTOTPStepUsed
}

// SaveRecoveryCodes implements auth.MFAStore.
func (db *DB) SaveRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		return db.replaceRecoveryCodes(ctx, tx, userID, hashes, time.Now())
	})
}

func (db *DB) replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, userID string, hashes [][]byte, at time.Time) error {
	if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM recovery_codes WHERE user_id = ?`), userID); err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	}
	seen := map[string]bool{}
	for _, h := range hashes {
		if len(h) == 0 {
			return auth.Errorf(auth.EValidation, "Empty recovery code hash.")
		}
		if seen[string(h)] {
			continue
		}
		seen[string(h)] = true
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO recovery_codes (user_id, hash, created_at) VALUES (?, ?, ?)`),
			userID, h, micros(at)); err != nil {
			return fmt.Errorf("save recovery code: %w", err)
		}
	}
	return nil
}

// UseRecoveryCode implements auth.MFAStore. Spending is deleting: the row
// that one DELETE removes is gone for every other caller.
func (db *DB) UseRecoveryCode(ctx context.Context, userID string, hash []byte) error {
	res, err := db.w.ExecContext(ctx, db.q(`DELETE FROM recovery_codes WHERE user_id = ? AND hash = ?`), userID, hash)
	if err != nil {
		return fmt.Errorf("use recovery code: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errRecoveryCodeUsed
	}
	return nil
}

// CountRecoveryCodes implements auth.MFAStore.
func (db *DB) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?`), userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", err)
	}
	return n, nil
}
