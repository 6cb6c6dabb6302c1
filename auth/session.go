package auth

import (
	"context"
	"time"
)

// Session is a signed-in device: a browser with the session cookie, or an
// API client holding tokens issued from it. The cookie (or refresh token)
// carries a random secret; only its hash is stored, so a copy of the database
// cannot be replayed as a session.
type Session struct {
	// ID is the session's public identifier: it appears in URLs, in the `sid`
	// claim of access tokens and in the revocation feed. It grants nothing.
	ID        string    `json:"id"`
	TokenHash []byte    `json:"-"`
	UserID    string    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	// LastSeenAt is updated at most once a minute, off the request path.
	LastSeenAt time.Time `json:"last_seen_at"`
	// ExpiresAt is the absolute end of the session, however active.
	ExpiresAt time.Time `json:"expires_at"`
	// Remember marks a remember-me sign-in: a persistent cookie, and the
	// longer remember-me lifetime instead of the idle timeout.
	Remember  bool   `json:"remember"`
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	// Method is how the user signed in: "password", "setup", later
	// "passkey", "email", "oauth:<provider>".
	Method string `json:"method"`
	// Rotate asks the next request to move the session to a new secret,
	// because the user's privileges changed since it was issued.
	Rotate bool `json:"-"`
}

// Revocation records that a session ended before its tokens expired, so that
// backends verifying tokens offline learn of it (the revocation feed).
type Revocation struct {
	Seq       int64     // position in the feed; increases
	SessionID string    // the `sid` of the tokens that stop working
	RevokedAt time.Time // when it ended
	// Until is when the entry can be forgotten: every access token issued
	// from the session has expired by then.
	Until time.Time
}

// SessionStore keeps sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	// FindSessionByToken returns the session whose secret hashes to hash,
	// together with its user, in one indexed read. Expiry is the caller's
	// to check. A missing session is ENotFound.
	FindSessionByToken(ctx context.Context, hash []byte) (*Session, *User, error)
	FindSessionByID(ctx context.Context, id string) (*Session, error)
	// FindUserSessions lists a user's sessions, newest first.
	FindUserSessions(ctx context.Context, userID string) ([]*Session, error)
	// TouchSession records activity; it never moves LastSeenAt backwards.
	TouchSession(ctx context.Context, id string, seen time.Time) error
	// RotateSession gives a session a new secret and clears Rotate.
	RotateSession(ctx context.Context, id string, newHash []byte) error
	// RevokeSession deletes a session and records the revocation until the
	// given time. A missing session is ENotFound.
	RevokeSession(ctx context.Context, id string, until time.Time) error
	// RevokeUserSessions deletes every session of a user except the one with
	// ID except ("" for none), records their revocations, and returns their IDs.
	RevokeUserSessions(ctx context.Context, userID, except string, until time.Time) ([]string, error)
	// DeleteExpiredSessions removes sessions past their absolute expiry and
	// revocations past their Until, and returns how many sessions went.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
	// FindRevocations returns up to limit revocations with Seq > after that
	// are still relevant at now (Until > now), in Seq order.
	FindRevocations(ctx context.Context, after int64, now time.Time, limit int) ([]Revocation, error)
}
