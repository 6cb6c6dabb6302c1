// Package store opens Gatehouse's storage from a database URL: sqlite:// for
// the embedded store (store/sqlite) or postgres:// for PostgreSQL
// (store/postgres). Both implement auth.Store and pass the same conformance
// suite (store/storetest).
package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store/postgres"
	"github.com/gatehouse-dev/gatehouse/store/sqlite"
)

// Store is an auth.Store that can also migrate its schema.
type Store interface {
	auth.Store
	// Migrate applies the pending schema migrations in one transaction and
	// returns the versions applied.
	Migrate(ctx context.Context) ([]int, error)
	// SchemaVersion returns the newest applied migration.
	SchemaVersion(ctx context.Context) (int, error)
}

// Open opens the store a database URL names. It does not migrate.
func Open(ctx context.Context, databaseURL string) (Store, error) {
	switch {
	case strings.HasPrefix(databaseURL, "sqlite://"):
		path, err := sqlite.PathFromURL(databaseURL)
		if err != nil {
			return nil, err
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return postgres.Open(ctx, databaseURL)
	}
	return nil, fmt.Errorf("database URL must start with sqlite:// or postgres://")
}
