// Package storetest is the conformance suite that every Gatehouse store
// passes, and helpers that open real databases for tests: SQLite in a
// temporary directory, and PostgreSQL in a schema of its own when
// GATEHOUSE_TEST_POSTGRES_URL is set.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for schema set-up

	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/postgres"
	"github.com/gatehouse-dev/gatehouse/store/sqlite"
)

// PostgresEnv names the variable that points the tests at a PostgreSQL server.
const PostgresEnv = "GATEHOUSE_TEST_POSTGRES_URL"

// OpenSQLite opens and migrates a new SQLite store in a temporary directory,
// closed when the test ends.
func OpenSQLite(tb testing.TB) *sqlite.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "gatehouse.db"))
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatalf("migrate sqlite: %v", err)
	}
	return db
}

// PostgresURL returns a URL for a new, empty schema of its own on the test
// PostgreSQL server, dropped when the test ends. It skips the test, saying
// so, when GATEHOUSE_TEST_POSTGRES_URL is not set.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		tb.Skipf("skipping the PostgreSQL run: set %s (e.g. postgres://postgres@127.0.0.1:5432/test) to run it", PostgresEnv)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "gh_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		tb.Fatalf("create schema on %s: %v", PostgresEnv, err)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenPostgres opens and migrates a PostgreSQL store in a new schema (see
// PostgresURL), closed when the test ends.
func OpenPostgres(tb testing.TB) *postgres.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, PostgresURL(tb))
	if err != nil {
		tb.Fatalf("open postgres: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatalf("migrate postgres: %v", err)
	}
	return db
}

// Backends lists the stores every storage-dependent test runs against. The
// PostgreSQL one skips itself when the server is not configured.
var Backends = []struct {
	Name string
	Open func(testing.TB) store.Store
}{
	{"sqlite", func(tb testing.TB) store.Store { return OpenSQLite(tb) }},
	{"postgres", func(tb testing.TB) store.Store { return OpenPostgres(tb) }},
}
