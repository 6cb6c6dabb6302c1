// Package sqlite is Gatehouse's embedded store: a single SQLite file, through a
// pure-Go driver (no cgo), in WAL mode with one writer connection and a pool
// of readers. It needs no server, so `gatehouse serve` works with nothing to
// configure; for several Gatehouse nodes use store/postgres instead.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

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

// DB is the SQLite store. It implements auth.Store.
type DB struct {
	*sqlstore.DB
	Path string
}

var dialect = sqlstore.Dialect{
	Name:     "sqlite",
	Numbered: false,
	UniqueViolation: func(err error) (string, bool) {
		var se *sqlite.Error
		if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
			return se.Error(), true
		}
		return "", false
	},
	RolesAgg:    `group_concat(ur.role_name, ',')`,
	TableExists: `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`,
}

// pragmas apply to every connection. WAL lets readers run beside the writer;
// the busy timeout makes a second process wait for the lock instead of failing
// at once; NORMAL synchronous is durable across application crashes in WAL
// mode and loses at most the last transactions on power loss.
const pragmas = "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"

// Open opens (creating when missing) the database file at path. It does not
// migrate; call Migrate.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: create directory: %w", err)
		}
	}
	// The file holds password hashes: create it readable by its owner only.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	// _txlock=immediate takes the write lock at BEGIN, so a transaction that
	// reads and then writes never fails half-way with SQLITE_BUSY.
	// The one writer gets a larger page cache (64 MiB, against SQLite's
	// default 2 MiB) and keeps statement journals in memory: bulk writes,
	// such as an import of a million users, touch index pages all over the
	// file, and with the default cache they spill and re-read pages all the
	// time (about three times slower).
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	return &DB{DB: sqlstore.New(w, r, dialect), Path: path}, nil
}

// Migrate applies the pending embedded migrations.
func (db *DB) Migrate(ctx context.Context) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	return db.DB.Migrate(ctx, ms)
}

// PathFromURL returns the file path of a sqlite:// database URL:
// sqlite://./gatehouse.db is relative to the working directory, and
// sqlite:///var/lib/gatehouse/gatehouse.db is absolute.
func PathFromURL(raw string) (string, error) {
	rest, ok := strings.CutPrefix(raw, "sqlite://")
	if !ok {
		return "", fmt.Errorf("%q is not a sqlite:// URL", raw)
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	if rest == "" {
		return "", fmt.Errorf("%q names no file", raw)
	}
	return rest, nil
}
