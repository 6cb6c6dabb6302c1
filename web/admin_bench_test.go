package web

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// seedPostgres fills a PostgreSQL store with users like seed's (one in a
// thousand disabled and unverified, as the SQLite run makes them), in
// set-based statements, then lets PostgreSQL gather statistics the way
// autovacuum would on a live server.
func seedPostgres(b *testing.B, w *sql.DB, users int) {
	b.Helper()
	start := time.Now()
	now := time.Now().UnixMicro()
	if _, err := w.Exec(`INSERT INTO users (id, username, username_key, email, email_verified, password_hash, active, created_at)
		SELECT md5(i::text), 'seed' || i, 'seed' || i, 'seed' || i || '@example.com', TRUE, '', TRUE, $2
		FROM generate_series(0, $1 - 1) AS i`, users, now); err != nil {
		b.Fatal(err)
	}
	if _, err := w.Exec(`INSERT INTO user_roles (user_id, role_name) SELECT id, 'user' FROM users`); err != nil {
		b.Fatal(err)
	}
	if _, err := w.Exec(`UPDATE users SET active = FALSE, email_verified = FALSE WHERE username_key LIKE '%000'`); err != nil {
		b.Fatal(err)
	}
	if _, err := w.Exec(`VACUUM ANALYZE users, user_roles`); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "seeded %d users in %v\n", users, time.Since(start).Round(time.Second))
}

// BenchmarkAdminUsers times the store queries behind the admin users table
// and dashboard with 1,000,000 users: a search by username prefix, the
// first page and a deep page (1000) in the default order, and a few more
// shapes the table offers. It runs on SQLite and, with
// GATEHOUSE_TEST_POSTGRES_URL set, on PostgreSQL, and prints milliseconds
// per operation for each (the target is under 100 ms). It asserts nothing
// about time. Set GATEHOUSE_BENCH_SMALL=1 for a quick run on 10,000 users.
func BenchmarkAdminUsers(b *testing.B) {
	users := 1_000_000
	if os.Getenv("GATEHOUSE_BENCH_SMALL") != "" {
		users = 10_000
	}
	yes, no := true, false
	cases := []struct {
		name string
		f    auth.UserFilter
	}{
		{"search username prefix", auth.UserFilter{Query: "seed1234", Limit: 20}},
		{"search email prefix", auth.UserFilter{Query: "seed98765@", Limit: 20}},
		{"page 1, default sort", auth.UserFilter{Limit: 20}},
		{"page 1000, default sort", auth.UserFilter{Offset: 999 * 20, Limit: 20}},
		{"page 1, by username", auth.UserFilter{Sort: "username", Limit: 20}},
		{"page 1, role admin", auth.UserFilter{Role: auth.RoleAdmin, Limit: 20}},
		{"page 1, role user", auth.UserFilter{Role: auth.RoleUser, Limit: 20}},
		{"page 1, disabled", auth.UserFilter{Active: &no, Limit: 20}},
		{"page 1, disabled, by username", auth.UserFilter{Active: &no, Sort: "username", Limit: 20}},
		{"page 1, unverified editors", auth.UserFilter{Role: auth.RoleEditor, EmailVerified: &no, Limit: 20}},
		{"page 1, active and verified", auth.UserFilter{Active: &yes, EmailVerified: &yes, Limit: 20}},
		{"page 1, by last sign-in", auth.UserFilter{Sort: "-last_login_at", Limit: 20}},
		{"search broad prefix", auth.UserFilter{Query: "seed", Limit: 20}},
		{"page 1000, search broad prefix", auth.UserFilter{Query: "seed", Offset: 999 * 20, Limit: 20}},
	}
	backends := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store {
			st := storetest.OpenSQLite(b)
			seed(b, st.Writer(), users, 0)
			// One in a thousand disabled and unverified, so that those
			// filters find a few.
			if _, err := st.Writer().Exec(`UPDATE users SET active = 0, email_verified = 0 WHERE username_key LIKE '%000'`); err != nil {
				b.Fatal(err)
			}
			return st
		}},
		{"postgres", func(b *testing.B) store.Store {
			st := storetest.OpenPostgres(b)
			seedPostgres(b, st.Writer(), users)
			return st
		}},
	}
	ctx := context.Background()
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			st := be.open(b)
			// One admin, created last, so that the role filter has to find it.
			if err := st.CreateUser(ctx, &auth.User{Username: "boss", Email: "boss@example.com", Active: true, Roles: []string{"admin"}}); err != nil {
				b.Fatal(err)
			}
			for _, tc := range cases {
				b.Run(tc.name, func(b *testing.B) {
					var total int
					for b.Loop() {
						var err error
						if _, total, err = st.FindUsers(ctx, tc.f); err != nil {
							b.Fatal(err)
						}
					}
					ms := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
					b.ReportMetric(ms, "ms/op")
					fmt.Fprintf(os.Stdout, "%-8s %-28s %8.2f ms/op  (total %d)\n", be.name, tc.name, ms, total)
				})
			}
			b.Run("dashboard user count", func(b *testing.B) {
				for b.Loop() {
					if _, err := st.CountUsers(ctx, auth.UserFilter{}); err != nil {
						b.Fatal(err)
					}
				}
				ms := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
				b.ReportMetric(ms, "ms/op")
				fmt.Fprintf(os.Stdout, "%-8s %-28s %8.2f ms/op\n", be.name, "dashboard user count", ms)
			})
		})
	}
}
