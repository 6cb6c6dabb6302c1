package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// Both databases take a few thousand bound parameters in one statement
// (SQLite 32766, PostgreSQL 65535); these keep every statement well below.
const (
	lookupChunk = 500 // values in one IN (…)
	insertChunk = 500 // rows in one multi-row INSERT
)

// FindUsersByEmail implements auth.UserImportStore.
func (db *DB) FindUsersByEmail(ctx context.Context, emails []string) (map[string]*auth.User, error) {
	keys := make([]string, len(emails))
	for i, e := range emails {
		keys[i] = auth.NormalizeEmail(e)
	}
	out := map[string]*auth.User{}
	err := db.findUsersIn(ctx, "u.email", keys, func(u *auth.User) { out[u.Email] = u })
	return out, err
}

// FindUsersByUsername implements auth.UserImportStore.
func (db *DB) FindUsersByUsername(ctx context.Context, usernames []string) (map[string]*auth.User, error) {
	keys := make([]string, len(usernames))
	for i, n := range usernames {
		keys[i] = strings.ToLower(n)
	}
	out := map[string]*auth.User{}
	err := db.findUsersIn(ctx, "u.username_key", keys, func(u *auth.User) { out[strings.ToLower(u.Username)] = u })
	return out, err
}

// findUsersIn reads the users whose column is one of keys, a chunk at a time.
// Inside InTx it reads through the transaction, so that it sees the rows the
// transaction wrote.
func (db *DB) findUsersIn(ctx context.Context, column string, keys []string, fn func(*auth.User)) error {
	for len(keys) > 0 {
		n := min(len(keys), lookupChunk)
		chunk := keys[:n]
		keys = keys[n:]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+db.userColumns()+` FROM users u WHERE `+column+
			` IN (`+placeholders(len(chunk))+`)`), args...)
		if err != nil {
			return fmt.Errorf("find users: %w", err)
		}
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("find users: %w", err)
			}
			fn(u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find users: %w", err)
		}
	}
	return nil
}

// CreateUsers implements auth.UserImportStore. PostgreSQL gets multi-row
// INSERTs, which cost one round trip and one parse per few hundred users
// instead of per user. SQLite, in process, has no round trips to save; there
// one prepared single-row INSERT is faster, since a statement that inserts
// many rows inside a transaction also writes a statement journal so that it
// can be undone alone.
func (db *DB) CreateUsers(ctx context.Context, users []*auth.User) error {
	now := time.Now()
	for _, u := range users {
		if u.ID == "" {
			u.ID = auth.NewID()
		}
		if u.CreatedAt.IsZero() {
			u.CreatedAt = now
		}
		u.CreatedAt = fromMicros(micros(u.CreatedAt))
		u.Email = auth.NormalizeEmail(u.Email)
		u.Roles = dedupe(u.Roles)
	}
	if !db.d.Numbered {
		return db.createUsersPrepared(ctx, users)
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(users); start += insertChunk {
			chunk := users[start:min(start+insertChunk, len(users))]
			args := make([]any, 0, len(chunk)*9)
			for _, u := range chunk {
				args = append(args, u.ID, u.Username, strings.ToLower(u.Username), u.Email, u.EmailVerified,
					u.PasswordHash, u.Active, micros(u.CreatedAt), nullMicros(u.LastLoginAt))
			}
			_, err := tx.ExecContext(ctx, db.q(`INSERT INTO users
				(id, username, username_key, email, email_verified, password_hash, active, created_at, last_login_at)
				VALUES `+rowsOf(len(chunk), 9)), args...)
			if err != nil {
				return db.conflict(err)
			}
			var roleArgs []any
			for _, u := range chunk {
				for _, r := range u.Roles {
					roleArgs = append(roleArgs, u.ID, r)
				}
			}
			for len(roleArgs) > 0 {
				n := min(len(roleArgs), 2*insertChunk)
				part := roleArgs[:n]
				roleArgs = roleArgs[n:]
				// Each role must exist: the INSERT … SELECT drops pairs whose
				// role is missing, and the count shows it.
				res, err := tx.ExecContext(ctx, db.q(`INSERT INTO user_roles (user_id, role_name)
					SELECT v.column1, r.name FROM (VALUES `+rowsOf(n/2, 2)+`) AS v
					JOIN roles r ON r.name = v.column2`), part...)
				if err != nil {
					return fmt.Errorf("create users: roles: %w", err)
				}
				if got, _ := res.RowsAffected(); got != int64(n/2) {
					msg := "An imported user has a role that does not exist."
					return &auth.Error{Code: auth.EValidation, Message: msg, Fields: map[string]string{"roles": msg}}
				}
			}
		}
		return nil
	})
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// rowsOf returns "(?, ?), (?, ?), …": rows tuples of cols marks.
func rowsOf(rows, cols int) string {
	tuple := "(" + placeholders(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(tuple+", ", rows), ", ")
}

// createUsersPrepared inserts users one row at a time through statements
// prepared once (SQLite).
func (db *DB) createUsersPrepared(ctx context.Context, users []*auth.User) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		insUser, err := tx.PrepareContext(ctx, db.q(`INSERT INTO users
			(id, username, username_key, email, email_verified, password_hash, active, created_at, last_login_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`))
		if err != nil {
			return fmt.Errorf("create users: %w", err)
		}
		defer insUser.Close()
		insRole, err := tx.PrepareContext(ctx, db.q(`INSERT INTO user_roles (user_id, role_name)
			SELECT ?, name FROM roles WHERE name = ?`))
		if err != nil {
			return fmt.Errorf("create users: %w", err)
		}
		defer insRole.Close()
		for _, u := range users {
			_, err := insUser.ExecContext(ctx, u.ID, u.Username, strings.ToLower(u.Username), u.Email, u.EmailVerified,
				u.PasswordHash, u.Active, micros(u.CreatedAt), nullMicros(u.LastLoginAt))
			if err != nil {
				return db.conflict(err)
			}
			for _, r := range u.Roles {
				res, err := insRole.ExecContext(ctx, u.ID, r)
				if err != nil {
					return fmt.Errorf("create users: roles: %w", err)
				}
				if n, _ := res.RowsAffected(); n != 1 {
					msg := fmt.Sprintf("There is no role %q.", r)
					return &auth.Error{Code: auth.EValidation, Message: msg, Fields: map[string]string{"roles": msg}}
				}
			}
		}
		return nil
	})
}
