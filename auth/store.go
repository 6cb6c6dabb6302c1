package auth

import (
	"context"
	"time"
)

// UserStore keeps users and their roles.
//
// Lookups of a missing record return an *Error with code ENotFound; a unique
// value that is taken returns EConflict with a message naming the field. Any
// other error is a system failure.
type UserStore interface {
	// CreateUser inserts u, filling in ID (when empty) and CreatedAt (when
	// zero). Roles that do not exist are refused with EValidation.
	CreateUser(ctx context.Context, u *User) error
	FindUserByID(ctx context.Context, id string) (*User, error)
	// FindUserByLogin finds a user by username (case-insensitively) or by
	// normalised email.
	FindUserByLogin(ctx context.Context, login string) (*User, error)
	// FindUsers returns one page of the users that match f, and how many
	// match in all up to MaxUserCount+1 (which means "more").
	FindUsers(ctx context.Context, f UserFilter) ([]*User, int, error)
	UpdateUser(ctx context.Context, id string, upd UserUpdate) (*User, error)
	// SetUserRoles replaces the user's roles, and marks the user's sessions
	// to move to a new secret on their next request (a privilege change).
	// Unknown roles are refused with EValidation.
	SetUserRoles(ctx context.Context, id string, roles []string) error
	DeleteUser(ctx context.Context, id string) error
	// CountUsers counts the users that match f (f's paging is ignored).
	CountUsers(ctx context.Context, f UserFilter) (int, error)
}

// RoleStore keeps the catalogue of roles.
type RoleStore interface {
	FindRoles(ctx context.Context) ([]*Role, error)
	// CreateRole adds a role with its permissions.
	CreateRole(ctx context.Context, r *Role) error
	// SetRolePermissions replaces a role's permissions.
	SetRolePermissions(ctx context.Context, name string, permissions []string) error
	// FindPermissions returns the union of the permissions of the roles, sorted.
	FindPermissions(ctx context.Context, roles []string) ([]string, error)
	// DeleteRole removes the role and takes it from every user who held it.
	DeleteRole(ctx context.Context, name string) error
}

// OneTimeToken is a secret that is good for one use before it expires: a setup
// link, later reset and verification links and email codes. Only the hash of
// the secret is stored.
type OneTimeToken struct {
	Hash      []byte
	Purpose   string
	UserID    string // empty when the token is not bound to a user
	Data      string // purpose-specific payload, e.g. the address being verified
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Token purposes.
const (
	PurposeSetup = "setup" // creates the first admin account
)

// TokenStore keeps one-time tokens.
type TokenStore interface {
	CreateToken(ctx context.Context, t *OneTimeToken) error
	// ConsumeToken atomically marks the unexpired, unused token with this hash
	// and purpose as used and returns it. Of concurrent calls, at most one
	// succeeds; the others, and any later call, get EInvalidToken.
	ConsumeToken(ctx context.Context, purpose string, hash []byte, now time.Time) (*OneTimeToken, error)
	// FindToken returns the unexpired, unused token with this hash and
	// purpose without spending it, or EInvalidToken.
	FindToken(ctx context.Context, purpose string, hash []byte, now time.Time) (*OneTimeToken, error)
	// DeleteTokens removes every token of a purpose for a user ("" for tokens
	// bound to no user), so that a newer token replaces the older ones.
	DeleteTokens(ctx context.Context, purpose, userID string) error
	// AttemptToken counts one attempt at the unexpired, unused token with
	// this hash and purpose and returns it without spending it; the caller
	// then checks the guess against it (a one-time code, whose token is
	// stored under another key). Once a token has had maxAttempts attempts it
	// is dead: that call and every later one get EInvalidToken. Of
	// concurrent calls, at most maxAttempts ever get the token.
	AttemptToken(ctx context.Context, purpose string, hash []byte, maxAttempts int, now time.Time) (*OneTimeToken, error)
	// DeleteToken removes the token with this hash and purpose, used or not.
	// A missing token is not an error.
	DeleteToken(ctx context.Context, purpose string, hash []byte) error
	// DeleteExpiredTokens removes the tokens that expired at or before now
	// and those spent more than UsedTokenRetention before now, of every
	// purpose, and returns how many it removed. It deletes in batches, so a
	// large backlog never holds up sign-ins for long; on an error the count
	// is of the tokens removed before it.
	DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error)
}

// UsedTokenRetention is how long a spent one-time token stays in the store
// before DeleteExpiredTokens removes it (sooner if it expires sooner).
// Nothing reads a spent token: spending or finding it again fails the same
// way whether its row is there or not, and unlike refresh tokens, one-time
// tokens do not detect reuse. The day only leaves recent rows for someone
// looking into the database after an incident.
const UsedTokenRetention = 24 * time.Hour

// Store is everything Gatehouse keeps. The SQLite and PostgreSQL adapters
// implement it, and one conformance suite (store/storetest) checks both.
type Store interface {
	UserStore
	UserImportStore
	RoleStore
	TokenStore
	SigningKeyStore
	SessionStore
	RefreshStore
	APIKeyStore
	AuditStore
	PasskeyStore
	IdentityStore
	MFAStore
	OutboxStore
	StatsStore
	// InTx runs fn with a store whose calls all belong to one transaction:
	// committed when fn returns nil, rolled back otherwise.
	InTx(ctx context.Context, fn func(tx Store) error) error
	// Lock, inside InTx, makes transactions that take the same named lock run
	// one after another (for checks such as "the last admin keeps the role"
	// that a concurrent change could otherwise undo).
	Lock(ctx context.Context, name string) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error
}
