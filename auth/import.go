package auth

import "context"

// UserImportStore is what a bulk import of users from another system needs
// beyond UserStore: lookups and inserts a batch at a time, so that a million
// users take minutes rather than hours.
type UserImportStore interface {
	// FindUsersByEmail returns the users with these normalised addresses,
	// keyed by address; addresses without a user are left out.
	FindUsersByEmail(ctx context.Context, emails []string) (map[string]*User, error)
	// FindUsersByUsername returns the users with these usernames, compared
	// case-insensitively, keyed by the lowercase username.
	FindUsersByUsername(ctx context.Context, usernames []string) (map[string]*User, error)
	// CreateUsers inserts users and their roles, all or none, filling in IDs
	// (when empty) and CreatedAt (when zero). A taken username or email is
	// EConflict and an unknown role EValidation, for the whole batch: check
	// first with the lookups above.
	CreateUsers(ctx context.Context, users []*User) error
}
