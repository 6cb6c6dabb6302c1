package auth

import (
	"context"
	"time"
)

// RefreshToken is a single-use secret that trades for a new access token and
// a new refresh token (rotation). Every refresh token belongs to a session,
// and the tokens of one session form a family: presenting a token that was
// already used is taken as theft and ends the whole family with its session
// (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
type RefreshToken struct {
	Hash      []byte
	SessionID string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// RefreshStore keeps refresh tokens.
type RefreshStore interface {
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// RotateRefreshToken spends the unused, unexpired token with hash oldHash
	// and stores next in the same session, atomically: of concurrent calls
	// with one token, at most one succeeds. It returns the session the token
	// belongs to. A token that was already used gets ETokenReused, and its
	// session and every token of it are revoked (recorded until revokeUntil),
	// and the returned session names the ended session and its user (ID and
	// UserID only), for the audit log; an unknown or expired token gets
	// EInvalidToken. next.SessionID and
	// next.UserID are filled in from the spent token.
	RotateRefreshToken(ctx context.Context, oldHash []byte, next *RefreshToken, now, revokeUntil time.Time) (*Session, error)
}

// APIKey lets another service call Gatehouse's admin API and introspection
// endpoint. The secret is shown once; only its hash is stored.
type APIKey struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Prefix string   `json:"prefix"` // the first characters of the secret, to recognise it
	Hash   []byte   `json:"-"`
	Scopes []string `json:"scopes"`
	// CreatedBy is the user who made the key; the key stops working when that
	// user is disabled or deleted.
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// API key scopes.
const (
	ScopeAdmin       = "admin"       // the whole admin API
	ScopeIntrospect  = "introspect"  // POST /api/introspect
	ScopeRevocations = "revocations" // the revocation feed
)

// APIKeyStore keeps API keys.
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// FindAPIKeyByHash returns the key and its creator. A missing key is
	// ENotFound; expiry and the creator's state are the caller's to check.
	FindAPIKeyByHash(ctx context.Context, hash []byte) (*APIKey, *User, error)
	FindAPIKeys(ctx context.Context) ([]*APIKey, error)
	// DeleteAPIKey revokes a key. A missing key is ENotFound.
	DeleteAPIKey(ctx context.Context, id string) error
	// TouchAPIKey records use; it never moves LastUsedAt backwards.
	TouchAPIKey(ctx context.Context, id string, used time.Time) error
}
