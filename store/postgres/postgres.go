// Package postgres is Gatehouse's PostgreSQL store, through pgx and its
// connection pool. Use it when one node is not enough: any number of Gatehouse
// processes can share one database.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-dev/gatehouse/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded, versioned schema migrations.
func Migrations() ([]sqlstore.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return sqlstore.LoadMigrations(sub)
}

// DB is the PostgreSQL store. It implements auth.Store.
type DB struct {
	*sqlstore.DB
}

var dialect = sqlstore.Dialect{
	Name:     "postgres",
	Numbered: true,
	UniqueViolation: func(err error) (string, bool) {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return pe.ConstraintName, true
		}
		return "", false
	},
	RolesAgg: `string_agg(ur.role_name, ',' ORDER BY ur.role_name)`,
	// A transaction-scoped advisory lock: two nodes starting together migrate
	// one after the other, and the second finds nothing left to do.
	MigrationLock: `SELECT pg_advisory_xact_lock(4242424242)`,
	TableExists:   `SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?`,
	Lock:          `SELECT pg_advisory_xact_lock(hashtext(?))`,
}

// Open connects to the database at a postgres:// URL. It does not migrate;
// call Migrate.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: bad database URL: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return &DB{DB: sqlstore.New(db, db, dialect)}, nil
}

// Migrate applies the pending embedded migrations.
func (db *DB) Migrate(ctx context.Context) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	return db.DB.Migrate(ctx, ms)
}
