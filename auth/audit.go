package auth

import (
	"context"
	"time"
)

// Event is one entry of the audit log: a security-relevant thing that
// happened, who did it, to whom, and from where. The log is append-only.
type Event struct {
	ID        int64             `json:"id"`
	Type      string            `json:"type"`
	ActorID   string            `json:"actor_id"`  // who acted; "" when nobody was signed in
	TargetID  string            `json:"target_id"` // whose account it concerns; "" when none is known
	IP        string            `json:"ip"`
	UserAgent string            `json:"user_agent"`
	Data      map[string]string `json:"data"` // details such as "reason" or "method"
	CreatedAt time.Time         `json:"created_at"`
}

// Event types.
const (
	EventUserRegistered      = "user.registered"
	EventLoginSucceeded      = "login.succeeded"
	EventLoginFailed         = "login.failed"
	EventLogout              = "logout"
	EventSessionRevoked      = "session.revoked"
	EventPasswordChanged     = "password.changed"
	EventPasswordUpgraded    = "password.hash_upgraded"
	EventRefreshTokenReused  = "refresh_token.reused"
	EventAdminCreatedBySetup = "setup.admin_created"
	EventAccessDenied        = "access.denied"
	EventRoleChanged         = "role.changed"
	EventAccountDisabled     = "account.disabled"
	EventAccountEnabled      = "account.enabled"
	EventAccountDeleted      = "account.deleted"
	EventEmailVerified       = "email.verified"
	EventSessionsRevoked     = "sessions.revoked" // every session of a user, by an admin
	EventAPIKeyCreated       = "api_key.created"
	EventAPIKeyRevoked       = "api_key.revoked"
	EventRoleCreated         = "role.created"
	EventRoleDeleted         = "role.deleted"
)

// EventFilter selects audit events. Zero fields match everything.
type EventFilter struct {
	UserID string // actor or target
	Type   string
	Since  time.Time
	// Offset and Limit page the result, newest first; Limit 0 means 50, capped at 500.
	Offset int
	Limit  int
}

// AuditStore keeps the audit log.
type AuditStore interface {
	AppendEvent(ctx context.Context, e *Event) error
	// FindEvents returns one page of matching events, newest first, and how
	// many match in all.
	FindEvents(ctx context.Context, f EventFilter) ([]*Event, int, error)
	// DeleteEventsBefore removes events older than t (the retention period).
	DeleteEventsBefore(ctx context.Context, t time.Time) (int, error)
}
