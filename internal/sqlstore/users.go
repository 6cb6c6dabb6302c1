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

// userColumns is the select list that scanUser reads.
func (db *DB) userColumns() string {
	return `u.id, u.username, u.email, u.email_verified, u.password_hash, u.active, u.created_at, u.last_login_at,
		COALESCE((SELECT ` + db.d.RolesAgg + ` FROM user_roles ur WHERE ur.user_id = u.id), '')`
}

type scanner interface{ Scan(dest ...any) error }

func scanUser(s scanner) (*auth.User, error) {
	var (
		u         auth.User
		created   int64
		lastLogin sql.NullInt64
		roles     string
	)
	if err := s.Scan(&u.ID, &u.Username, &u.Email, &u.EmailVerified, &u.PasswordHash, &u.Active, &created, &lastLogin, &roles); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(created)
	u.LastLoginAt = fromNullMicros(lastLogin)
	u.Roles = splitRoles(roles)
	return &u, nil
}

var errUserNotFound = auth.Errorf(auth.ENotFound, "User not found.")

// conflict turns a unique violation into an EConflict naming the field.
func (db *DB) conflict(err error) error {
	what, ok := db.d.UniqueViolation(err)
	if !ok {
		return err
	}
	switch {
	case strings.Contains(what, "username"):
		return &auth.Error{Code: auth.EConflict, Message: "Username is already taken.", Fields: map[string]string{"username": "Username is already taken."}, Err: err}
	case strings.Contains(what, "email"):
		return &auth.Error{Code: auth.EConflict, Message: "Email is already registered.", Fields: map[string]string{"email": "Email is already registered."}, Err: err}
	case strings.Contains(what, "roles"):
		return &auth.Error{Code: auth.EConflict, Message: "That role already exists.", Err: err}
	}
	return &auth.Error{Code: auth.EConflict, Message: "That value is already taken.", Err: err}
}

// CreateUser implements auth.UserStore.
func (db *DB) CreateUser(ctx context.Context, u *auth.User) error {
	if u.ID == "" {
		u.ID = auth.NewID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	u.CreatedAt = fromMicros(micros(u.CreatedAt))
	u.Email = auth.NormalizeEmail(u.Email)
	roles := dedupe(u.Roles)
	err := db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO users
			(id, username, username_key, email, email_verified, password_hash, active, created_at, last_login_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			u.ID, u.Username, strings.ToLower(u.Username), u.Email, u.EmailVerified, u.PasswordHash, u.Active,
			micros(u.CreatedAt), nullMicros(u.LastLoginAt))
		if err != nil {
			return db.conflict(err)
		}
		return db.setRoles(ctx, tx, u.ID, roles)
	})
	if err != nil {
		return err
	}
	u.Roles = roles
	return nil
}

func dedupe(roles []string) []string {
	out := make([]string, 0, len(roles))
	seen := map[string]bool{}
	for _, r := range roles {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// setRoles replaces the roles of a user inside tx, refusing unknown roles.
func (db *DB) setRoles(ctx context.Context, tx *sql.Tx, userID string, roles []string) error {
	if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM user_roles WHERE user_id = ?`), userID); err != nil {
		return err
	}
	for _, r := range roles {
		res, err := tx.ExecContext(ctx, db.q(`INSERT INTO user_roles (user_id, role_name)
			SELECT ?, name FROM roles WHERE name = ?`), userID, r)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &auth.Error{Code: auth.EValidation, Message: fmt.Sprintf("There is no role %q.", r),
				Fields: map[string]string{"roles": fmt.Sprintf("There is no role %q.", r)}}
		}
	}
	return nil
}

// FindUserByID implements auth.UserStore.
func (db *DB) FindUserByID(ctx context.Context, id string) (*auth.User, error) {
	return db.findUser(ctx, `u.id = ?`, id)
}

// FindUserByLogin implements auth.UserStore.
func (db *DB) FindUserByLogin(ctx context.Context, login string) (*auth.User, error) {
	login = strings.TrimSpace(login)
	if strings.Contains(login, "@") {
		return db.findUser(ctx, `u.email = ?`, auth.NormalizeEmail(login))
	}
	return db.findUser(ctx, `u.username_key = ?`, strings.ToLower(login))
}

func (db *DB) findUser(ctx context.Context, where string, arg any) (*auth.User, error) {
	row, err := db.readRow(ctx, `SELECT `+db.userColumns()+` FROM users u WHERE `+where, arg)
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// sortColumns maps UserFilter.Sort to an ORDER BY clause; id breaks ties so
// that pages are stable.
var sortColumns = map[string]string{
	"":               "u.created_at DESC, u.id DESC",
	"-created_at":    "u.created_at DESC, u.id DESC",
	"created_at":     "u.created_at ASC, u.id ASC",
	"username":       "u.username_key ASC, u.id ASC",
	"-username":      "u.username_key DESC, u.id DESC",
	"email":          "u.email ASC, u.id ASC",
	"-email":         "u.email DESC, u.id DESC",
	"last_login_at":  "COALESCE(u.last_login_at, 0) ASC, u.id ASC",
	"-last_login_at": "COALESCE(u.last_login_at, 0) DESC, u.id DESC",
}

// selectiveMatches is the most users a filter condition may match and still
// lead a SQLite query (see userWhere).
const selectiveMatches = 20_000

// userCond is one condition of a user filter, spelt two ways: lead, which an
// index serves, so the database can start from the rows that match; and
// check, which no index serves, so the database tests it on rows found
// another way. probe selects the rows lead matches, for counting them.
type userCond struct {
	lead, check, probe string
	args               []any
}

// userWhere builds the WHERE clause for a filter.
//
// PostgreSQL keeps statistics and picks a good plan for any filter. SQLite
// keeps none unless ANALYZE runs, and then guesses that every indexed
// equality is selective: it would fetch all 999,000 active users through an
// index and sort them to show 20. So for SQLite the conditions are probed
// first, each counted through its index up to selectiveMatches+1 (a few
// milliseconds at most), and only the most selective one, if any is, is
// spelt so that an index serves it. The others become checks (a unary + or a
// correlated EXISTS hides a column from the planner), and a filter with no
// selective condition walks the index of the sort order, where matches are
// dense enough that a page fills quickly.
func (db *DB) userWhere(ctx context.Context, f auth.UserFilter) (string, []any, error) {
	var conds []userCond
	if q := strings.ToLower(strings.TrimSpace(f.Query)); q != "" {
		// A prefix match as a range on the lowercase keys, which plain B-tree
		// indexes serve in both databases (the PostgreSQL columns use the "C"
		// collation so that byte order is index order).
		hi := q + "\U0010FFFF"
		conds = append(conds, userCond{
			lead:  `((u.username_key >= ? AND u.username_key < ?) OR (u.email >= ? AND u.email < ?))`,
			check: `((+u.username_key >= ? AND +u.username_key < ?) OR (+u.email >= ? AND +u.email < ?))`,
			probe: `SELECT 1 FROM users WHERE username_key >= ? AND username_key < ? UNION ALL SELECT 1 FROM users WHERE email >= ? AND email < ?`,
			args:  []any{q, hi, q, hi}})
	}
	if f.Role != "" {
		conds = append(conds, userCond{
			lead:  `u.id IN (SELECT ur.user_id FROM user_roles ur WHERE ur.role_name = ?)`,
			check: `EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role_name = ?)`,
			probe: `SELECT 1 FROM user_roles WHERE role_name = ?`,
			args:  []any{f.Role}})
	}
	if f.Active != nil {
		conds = append(conds, userCond{lead: `u.active = ?`, check: `+u.active = ?`,
			probe: `SELECT 1 FROM users WHERE active = ?`, args: []any{*f.Active}})
	}
	if f.EmailVerified != nil {
		conds = append(conds, userCond{lead: `u.email_verified = ?`, check: `+u.email_verified = ?`,
			probe: `SELECT 1 FROM users WHERE email_verified = ?`, args: []any{*f.EmailVerified}})
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	lead := -1 // every condition leads: the planner decides
	if db.d.Name == "sqlite" {
		best := selectiveMatches + 1
		for i, c := range conds {
			var n int
			err := db.r.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM (`+c.probe+` LIMIT ?) p`),
				append(c.args, selectiveMatches+1)...).Scan(&n)
			if err != nil {
				return "", nil, fmt.Errorf("probe user filter: %w", err)
			}
			if n < best {
				lead, best = i, n
			}
		}
		if lead < 0 {
			lead = len(conds) // none is selective: all are checks
		}
	}
	var parts []string
	var args []any
	for i, c := range conds {
		if lead < 0 || i == lead {
			parts = append(parts, c.lead)
		} else {
			parts = append(parts, c.check)
		}
		args = append(args, c.args...)
	}
	return " WHERE " + strings.Join(parts, " AND "), args, nil
}

// FindUsers implements auth.UserStore. The total stops at
// auth.MaxUserCount+1: counting every match of a broad filter among a
// million users costs more than the page.
//
// The page is chosen on IDs alone and the columns are read for its rows
// only; PostgreSQL would otherwise build the roles of every row an OFFSET
// skips.
func (db *DB) FindUsers(ctx context.Context, f auth.UserFilter) ([]*auth.User, int, error) {
	order, ok := sortColumns[f.Sort]
	if !ok {
		return nil, 0, &auth.Error{Code: auth.EInvalidRequest, Message: fmt.Sprintf("Cannot sort by %q.", f.Sort)}
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = 50
	case limit > 500:
		limit = 500
	}
	offset := max(f.Offset, 0)
	where, args, err := db.userWhere(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := db.r.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM (SELECT 1 FROM users u`+where+` LIMIT ?) c`),
		append(args, auth.MaxUserCount+1)...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+db.userColumns()+` FROM users u WHERE u.id IN (
		SELECT u.id FROM users u`+where+` ORDER BY `+order+` LIMIT ? OFFSET ?) ORDER BY `+order),
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("find users: %w", err)
	}
	defer rows.Close()
	users := []*auth.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("find users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find users: %w", err)
	}
	return users, total, nil
}

// CountUsers implements auth.UserStore. Unlike FindUsers' total it is
// exact: the last-admin guard depends on it.
func (db *DB) CountUsers(ctx context.Context, f auth.UserFilter) (int, error) {
	where, args, err := db.userWhere(ctx, f)
	if err != nil {
		return 0, err
	}
	var n int
	if err := db.r.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM users u`+where), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// UpdateUser implements auth.UserStore.
func (db *DB) UpdateUser(ctx context.Context, id string, upd auth.UserUpdate) (*auth.User, error) {
	var sets []string
	var args []any
	if upd.Username != nil {
		sets = append(sets, `username = ?`, `username_key = ?`)
		args = append(args, *upd.Username, strings.ToLower(*upd.Username))
	}
	if upd.Email != nil {
		sets = append(sets, `email = ?`)
		args = append(args, auth.NormalizeEmail(*upd.Email))
	}
	if upd.EmailVerified != nil {
		sets = append(sets, `email_verified = ?`)
		args = append(args, *upd.EmailVerified)
	}
	if upd.PasswordHash != nil {
		sets = append(sets, `password_hash = ?`)
		args = append(args, *upd.PasswordHash)
	}
	if upd.Active != nil {
		sets = append(sets, `active = ?`)
		args = append(args, *upd.Active)
	}
	if upd.LastLoginAt != nil {
		sets = append(sets, `last_login_at = ?`)
		args = append(args, nullMicros(upd.LastLoginAt))
	}
	if len(sets) > 0 {
		res, err := db.w.ExecContext(ctx, db.q(`UPDATE users SET `+strings.Join(sets, ", ")+` WHERE id = ?`), append(args, id)...)
		if err != nil {
			return nil, db.conflict(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, errUserNotFound
		}
	}
	return db.findUserWrite(ctx, id)
}

// findUserWrite reads a user through the writer, so that a read right after a
// write sees it even where readers could lag.
func (db *DB) findUserWrite(ctx context.Context, id string) (*auth.User, error) {
	row := db.w.QueryRowContext(ctx, db.q(`SELECT `+db.userColumns()+` FROM users u WHERE u.id = ?`), id)
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// SetUserRoles implements auth.UserStore.
func (db *DB) SetUserRoles(ctx context.Context, id string, roles []string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, db.q(`SELECT 1 FROM users WHERE id = ?`), id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return errUserNotFound
		}
		if err != nil {
			return err
		}
		if err := db.setRoles(ctx, tx, id, dedupe(roles)); err != nil {
			return err
		}
		// A privilege change: each session moves to a new secret on its next
		// request, so a secret captured before the change is worth less.
		_, err = tx.ExecContext(ctx, db.q(`UPDATE sessions SET rotate = ? WHERE user_id = ?`), true, id)
		return err
	})
}

// DeleteUser implements auth.UserStore.
func (db *DB) DeleteUser(ctx context.Context, id string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		// Dependent rows go first, explicitly, so that deletion does not rely
		// on foreign-key enforcement being switched on for the connection.
		for _, stmt := range []string{
			`DELETE FROM user_roles WHERE user_id = ?`,
			`DELETE FROM one_time_tokens WHERE user_id = ?`,
			`DELETE FROM sessions WHERE user_id = ?`,
			`DELETE FROM refresh_tokens WHERE user_id = ?`,
			`DELETE FROM api_keys WHERE created_by = ?`,
		} {
			if _, err := tx.ExecContext(ctx, db.q(stmt), id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, db.q(`DELETE FROM users WHERE id = ?`), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errUserNotFound
		}
		return nil
	})
}
