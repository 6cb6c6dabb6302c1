package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/store"
)

// seed fills a freshly migrated store with users (role user, no password)
// and sessions spread over them, generated inside the database in one
// statement per table, so that the measured lookups run against tables of
// a realistic size. The sessions' token hashes are random: nobody presents
// them; they are there to make the index as large as in production.
func seed(ctx context.Context, st store.Store, postgres bool, users, sessions int) (time.Duration, error) {
	w, ok := st.(interface{ Writer() *sql.DB })
	if !ok {
		return 0, fmt.Errorf("store %T does not expose its database", st)
	}
	db := w.Writer()
	start := time.Now()
	now := time.Now().UnixMicro()
	until := time.Now().Add(24 * time.Hour).UnixMicro()
	var stmts []string
	if postgres {
		stmts = []string{
			fmt.Sprintf(`INSERT INTO users (id, username, username_key, email, email_verified, password_hash, active, created_at)
				SELECT 'seed-u' || g, 'seed' || g, 'seed' || g, 'seed' || g || '@example.com', TRUE, '', TRUE, %d
				FROM generate_series(0, %d) AS g`, now, users-1),
			fmt.Sprintf(`INSERT INTO user_roles (user_id, role_name) SELECT 'seed-u' || g, 'user' FROM generate_series(0, %d) AS g`, users-1),
			fmt.Sprintf(`INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, remember, ip, user_agent, method)
				SELECT 'seed-s' || g, sha256(('seed-s' || g)::bytea), 'seed-u' || (g %% %d), %d, %d, %d, FALSE, '127.0.0.1', 'bench', 'password'
				FROM generate_series(0, %d) AS g`, users, now, now, until, sessions-1),
			`ANALYZE users`, `ANALYZE sessions`, `ANALYZE user_roles`,
		}
	} else {
		series := func(n int) string {
			return fmt.Sprintf(`WITH RECURSIVE g(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM g WHERE x < %d) `, n-1)
		}
		stmts = []string{
			series(users) + fmt.Sprintf(`INSERT INTO users (id, username, username_key, email, email_verified, password_hash, active, created_at)
				SELECT 'seed-u' || x, 'seed' || x, 'seed' || x, 'seed' || x || '@example.com', 1, '', 1, %d FROM g`, now),
			series(users) + `INSERT INTO user_roles (user_id, role_name) SELECT 'seed-u' || x, 'user' FROM g`,
			series(sessions) + fmt.Sprintf(`INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, remember, ip, user_agent, method)
				SELECT 'seed-s' || x, randomblob(32), 'seed-u' || (x %% %d), %d, %d, %d, 0, '127.0.0.1', 'bench', 'password' FROM g`,
				users, now, now, until),
			// No ANALYZE: Gatehouse never runs it on SQLite, and with its
			// statistics SQLite re-prepares statements on every new binding.
		}
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return 0, fmt.Errorf("seed: %w", err)
		}
	}
	return time.Since(start), nil
}

// seedSigners adds the accounts bench0 … bench(n-1), with the password
// hashed at cfg's argon2id cost (one hash shared by all: each sign-in still
// verifies it in full).
func seedSigners(ctx context.Context, st store.Store, cfg gatehouse.Config, n int) error {
	h, err := password.New(password.Params{Memory: uint32(cfg.Password.Argon2MemoryKiB),
		Iterations: uint32(cfg.Password.Argon2Iterations), Parallelism: uint8(cfg.Password.Argon2Parallelism)})
	if err != nil {
		return err
	}
	encoded, err := h.Hash(signerPassword)
	if err != nil {
		return err
	}
	for i := range n {
		name := fmt.Sprintf("bench%d", i)
		u := &auth.User{Username: name, Email: name + "@example.com", EmailVerified: true, Active: true,
			PasswordHash: encoded, Roles: []string{auth.RoleUser}, CreatedAt: time.Now()}
		if err := st.CreateUser(ctx, u); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
	}
	return nil
}
