package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/sqlstore"
	"github.com/gatehouse-dev/gatehouse/store/postgres"
	"github.com/gatehouse-dev/gatehouse/store/sqlite"
)

// A failing migration must leave the database exactly as it was: no table
// from the migrations that ran before it in the same batch, no version recorded.
func TestMigrationFailureLeavesDatabaseAsItWas(t *testing.T) {
	ctx := context.Background()
	open := map[string]func(t *testing.T) *sqlstore.DB{
		"sqlite": func(t *testing.T) *sqlstore.DB {
			db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db.DB
		},
		"postgres": func(t *testing.T) *sqlstore.DB {
			db, err := postgres.Open(ctx, PostgresURL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db.DB
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			db := open[name](t)
			good := []sqlstore.Migration{{Version: 1, Name: "one", SQL: `CREATE TABLE one (x INTEGER)`}}
			if _, err := db.Migrate(ctx, good); err != nil {
				t.Fatalf("Migrate(good) = %v", err)
			}
			bad := append(good,
				sqlstore.Migration{Version: 2, Name: "two", SQL: `CREATE TABLE two (x INTEGER); INSERT INTO one (x) VALUES (1)`},
				sqlstore.Migration{Version: 3, Name: "broken", SQL: `CREATE TABLE three (x INTEGER); THIS IS NOT SQL`},
			)
			if _, err := db.Migrate(ctx, bad); err == nil {
				t.Fatal("Migrate(broken) succeeded, want an error")
			}
			if v, err := db.SchemaVersion(ctx); err != nil || v != 1 {
				t.Errorf("SchemaVersion() after failed migration = %d, %v; want 1", v, err)
			}
			var n int
			if err := db.Writer().QueryRowContext(ctx, `SELECT COUNT(*) FROM one`).Scan(&n); err != nil || n != 0 {
				t.Errorf("rows in one = %d, %v; want 0", n, err)
			}
			for _, table := range []string{"two", "three"} {
				if _, err := db.Writer().ExecContext(ctx, `SELECT * FROM `+table); err == nil {
					t.Errorf("table %s exists after a failed migration", table)
				}
			}
		})
	}
}

func TestLoadMigrationsOfBothAdapters(t *testing.T) {
	s, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	p, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != len(p) {
		t.Fatalf("sqlite has %d migrations, postgres %d; each version needs both", len(s), len(p))
	}
	for i := range s {
		if s[i].Version != p[i].Version || s[i].Name != p[i].Name {
			t.Errorf("migration %d: sqlite %04d_%s, postgres %04d_%s", i, s[i].Version, s[i].Name, p[i].Version, p[i].Name)
		}
	}
}
