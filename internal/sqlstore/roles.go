package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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
	byName := map[string]*auth.Role{}
	for rows.Next() {
		r := &auth.Role{Permissions: []string{}}
		var created int64
		if err := rows.Scan(&r.Name, &r.Description, &created); err != nil {
			return nil, fmt.Errorf("find roles: %w", err)
		}
		r.CreatedAt = fromMicros(created)
		roles = append(roles, r)
		byName[r.Name] = r
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	prow, err := db.r.QueryContext(ctx, `SELECT role_name, permission FROM role_permissions ORDER BY role_name, permission`)
	if err != nil {
		return nil, fmt.Errorf("find role permissions: %w", err)
	}
	defer prow.Close()
	for prow.Next() {
		var name, perm string
		if err := prow.Scan(&name, &perm); err != nil {
			return nil, err
		}
		if r := byName[name]; r != nil {
			r.Permissions = append(r.Permissions, perm)
		}
	}
	return roles, prow.Err()
}

func validPermissions(perms []string) ([]string, error) {
	out := dedupe(perms)
	for _, p := range out {
		if msg := auth.ValidatePermission(p); msg != "" {
			return nil, &auth.Error{Code: auth.EValidation, Message: msg, Fields: map[string]string{"permissions": msg}}
		}
	}
	return out, nil
}

func (db *DB) insertPermissions(ctx context.Context, tx *sql.Tx, role string, perms []string) error {
	for _, p := range perms {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO role_permissions (role_name, permission) VALUES (?, ?)`), role, p); err != nil {
			return err
		}
	}
	return nil
}

// SetRolePermissions implements auth.RoleStore.
func (db *DB) SetRolePermissions(ctx context.Context, name string, permissions []string) error {
	perms, err := validPermissions(permissions)
	if err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, db.q(`SELECT 1 FROM roles WHERE name = ?`), name).Scan(&one); err != nil {
			return auth.Errorf(auth.ENotFound, "Role not found.")
		}
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM role_permissions WHERE role_name = ?`), name); err != nil {
			return err
		}
		return db.insertPermissions(ctx, tx, name, perms)
	})
}

// FindPermissions implements auth.RoleStore.
func (db *DB) FindPermissions(ctx context.Context, roles []string) ([]string, error) {
	if len(roles) == 0 {
		return []string{}, nil
	}
	args := make([]any, len(roles))
	marks := make([]string, len(roles))
	for i, r := range roles {
		args[i], marks[i] = r, "?"
	}
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT DISTINCT permission FROM role_permissions
		WHERE role_name IN (`+strings.Join(marks, ",")+`) ORDER BY permission`), args...)
	if err != nil {
		return nil, fmt.Errorf("find permissions: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
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
	perms, err := validPermissions(r.Permissions)
	if err != nil {
		return err
	}
	err = db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO roles (name, description, created_at) VALUES (?, ?, ?)`),
			r.Name, r.Description, micros(r.CreatedAt)); err != nil {
			return db.conflict(err)
		}
		return db.insertPermissions(ctx, tx, r.Name, perms)
	})
	if err != nil {
		return err
	}
	r.Permissions = perms
	return nil
}

// DeleteRole implements auth.RoleStore.
func (db *DB) DeleteRole(ctx context.Context, name string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		for _, stmt := range []string{`DELETE FROM user_roles WHERE role_name = ?`, `DELETE FROM role_permissions WHERE role_name = ?`} {
			if _, err := tx.ExecContext(ctx, db.q(stmt), name); err != nil {
				return err
			}
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
