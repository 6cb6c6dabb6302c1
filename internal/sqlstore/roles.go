package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// FindRoles implements auth.RoleStore.
func (db *DB) FindRoles(ctx context.Context) ([]*auth.Role, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT name, description, created_at FROM roles ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("find roles: %w", err)
	}
	defer rows.Close()
	roles := []*auth.Role{}
	for rows.Next() {
		var r auth.Role
		var created int64
		if err := rows.Scan(&r.Name, &r.Description, &created); err != nil {
			return nil, fmt.Errorf("find roles: %w", err)
		}
		r.CreatedAt = fromMicros(created)
		roles = append(roles, &r)
	}
	return roles, rows.Err()
}

// CreateRole implements auth.RoleStore.
func (db *DB) CreateRole(ctx context.Context, r *auth.Role) error {
	if msg := auth.ValidateRoleName(r.Name); msg != "" {
		return &auth.Error{Code: auth.EValidation, Message: msg, Fields: map[string]string{"name": msg}}
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	r.CreatedAt = fromMicros(micros(r.CreatedAt))
	_, err := db.w.ExecContext(ctx, db.q(`INSERT INTO roles (name, description, created_at) VALUES (?, ?, ?)`),
		r.Name, r.Description, micros(r.CreatedAt))
	if err != nil {
		return db.conflict(err)
	}
	return nil
}

// DeleteRole implements auth.RoleStore.
func (db *DB) DeleteRole(ctx context.Context, name string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM user_roles WHERE role_name = ?`), name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, db.q(`DELETE FROM roles WHERE name = ?`), name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return auth.Errorf(auth.ENotFound, "Role not found.")
		}
		return nil
	})
}
