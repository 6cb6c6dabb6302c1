// Package sqlstore implements auth.Store once, in SQL that SQLite and
// PostgreSQL both understand, so that the two adapters (store/sqlite and
// store/postgres) differ only in how they connect, their migrations and the
// few places where the dialects part ways.
//
// Times are stored as BIGINT microseconds since the Unix epoch in both
// databases: one representation that compares, indexes and scans the same way
// everywhere, with no time-zone or text-format surprises.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// Dialect is what differs between the databases.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Numbered placeholders ($1, $2…) instead of '?'.
	Numbered bool
	// UniqueViolation reports whether err is a unique-constraint violation,
	// and names the violated column or constraint as best it can.
	UniqueViolation func(err error) (what string, ok bool)
	// RolesAgg aggregates user_roles.role_name for one user into a
	// comma-separated string ordered by name (role names never hold commas).
	RolesAgg string
	// MigrationLock is run first inside the migration transaction to keep two
	// processes from migrating at once ("" when the transaction itself locks).
	MigrationLock string
	// TableExists counts the tables named by its one parameter.
	TableExists string
	// Lock takes a transaction-scoped lock named by its one parameter; ""
	// where every write transaction is exclusive already (SQLite with
	// BEGIN IMMEDIATE).
	Lock string
}

// DB is the shared store. Writes go to w; reads go to r. For PostgreSQL both
// are the same pool; SQLite has one writer connection and a pool of readers,
// because SQLite allows one writer at a time and WAL readers never block it.
type DB struct {
	wdb, rdb *sql.DB // the pools
	w, r     querier // where writes and reads go: the pools, or one transaction
	inTx     *sql.Tx // set on the copy that InTx hands out
	d        Dialect
	stmts    *sync.Map // query → *sql.Stmt on the reader pool
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// New wraps open connections. Close closes both.
func New(w, r *sql.DB, d Dialect) *DB {
	return &DB{wdb: w, rdb: r, w: w, r: r, d: d, stmts: &sync.Map{}}
}

// InTx runs fn with a store whose every call is part of one transaction,
// committed when fn returns nil and rolled back otherwise: for actions whose
// effects must happen together or not at all, such as a reset token and the
// mail that carries it.
func (db *DB) InTx(ctx context.Context, fn func(tx auth.Store) error) error {
	if db.inTx != nil {
		return fn(db)
	}
	tx, err := db.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	scoped := &DB{wdb: db.wdb, rdb: db.rdb, w: tx, r: tx, inTx: tx, d: db.d, stmts: db.stmts}
	if err := fn(scoped); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Lock implements auth.Store.
func (db *DB) Lock(ctx context.Context, name string) error {
	if db.inTx == nil {
		return errors.New("sqlstore: Lock outside a transaction")
	}
	if db.d.Lock == "" {
		return nil
	}
	_, err := db.inTx.ExecContext(ctx, db.q(db.d.Lock), name)
	return err
}

// readRow runs a hot single-row read through a prepared statement (or
// straight on the transaction, inside InTx).
func (db *DB) readRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	if db.inTx != nil {
		return db.inTx.QueryRowContext(ctx, db.q(query), args...), nil
	}
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
}

// readStmt returns a prepared statement for a hot read query on the reader
// pool, preparing it once. Parsing SQL is most of the cost of a small
// indexed read, so the queries on every request's path go through here.
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := db.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.rdb.PrepareContext(ctx, db.q(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// Dialect returns the dialect the store speaks.
func (db *DB) Dialect() Dialect { return db.d }

// Writer returns the connection pool for writes, for adapters and tests.
func (db *DB) Writer() *sql.DB { return db.wdb }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.wdb.PingContext(ctx); err != nil {
		return err
	}
	if db.rdb != db.wdb {
		return db.rdb.PingContext(ctx)
	}
	return nil
}

// Close closes the prepared statements and the connection pools.
func (db *DB) Close() error {
	db.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		db.stmts.Delete(k)
		return true
	})
	if db.inTx != nil {
		return errors.New("sqlstore: Close inside a transaction")
	}
	err := db.wdb.Close()
	if db.rdb != db.wdb {
		err = errors.Join(err, db.rdb.Close())
	}
	return err
}

// q rewrites a query written with '?' placeholders for the dialect.
func (db *DB) q(query string) string {
	if !db.d.Numbered {
		return query
	}
	return Rebind(query)
}

// Rebind turns '?' placeholders into $1, $2… outside quoted strings.
func Rebind(query string) string {
	var b strings.Builder
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// micros converts a time to the stored representation.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts back, in UTC.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil || t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(*t), Valid: true}
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// tx runs fn in a write transaction, committing when fn returns nil. Inside
// InTx it joins the transaction already open.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if db.inTx != nil {
		return fn(db.inTx)
	}
	tx, err := db.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
