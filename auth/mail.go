package auth

import (
	"context"
	"time"
)

// OutboxMail is one email in the outbox: written in the same transaction as
// the action that causes it (a reset request, a password change), then
// delivered by a worker that retries until the mail server takes it. A mail is
// never lost because the server stopped between the action and the delivery,
// and an action that rolls back sends nothing.
//
// Mails carry secrets (reset links, sign-in codes), so the rows are deleted
// some time after they are sent or abandoned (DeleteSentMailsBefore, run by
// the worker), and their bodies are never written to the log.
type OutboxMail struct {
	ID      int64
	To      string
	Subject string
	Text    string // the plain-text part
	HTML    string // the HTML alternative; may be empty
	// Kind names the template the mail was made from, such as
	// "password_reset"; for logs and metrics, which never see the body.
	Kind      string
	CreatedAt time.Time
	// NextAttemptAt is when a worker may next take the mail: the time it was
	// enqueued, the end of a worker's lease while it is being sent, or the end
	// of the back-off after a failure.
	NextAttemptAt time.Time
	// Attempts counts the times a worker has taken the mail, so a mail that
	// crashes its worker is given up like one that keeps failing.
	Attempts  int
	LastError string // the latest failure; "" once sent
	// SentAt is when the mail server accepted the mail; nil until then.
	SentAt *time.Time
	// GaveUpAt is when delivery was abandoned; such a mail is never taken again.
	GaveUpAt *time.Time
}

// OutboxStore keeps the mail outbox.
//
// Several Gatehouse nodes may run workers against one database: ClaimMails
// leases each mail to one of them, so a mail is sent once unless a worker
// stops after the mail server took the mail but before MarkMailSent
// (delivery is at least once, and in practice once).
type OutboxStore interface {
	// EnqueueMail adds m to the outbox, filling in ID, CreatedAt (when zero)
	// and NextAttemptAt (when zero, CreatedAt). Called on the store that
	// InTx hands out, it commits or rolls back with the rest of the
	// transaction. A mail without To is refused with EValidation.
	EnqueueMail(ctx context.Context, m *OutboxMail) error
	// ClaimMails atomically takes up to limit mails that are due at now
	// (unsent, not given up, NextAttemptAt not after now), oldest due first,
	// leases them to the caller by moving NextAttemptAt to now+lease, and
	// counts an attempt on each. A mail is not claimed again until its lease
	// ends, by this caller or any other, on any node.
	ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*OutboxMail, error)
	// MarkMailSent records that the mail server accepted the mail at at.
	// A missing mail is ENotFound.
	MarkMailSent(ctx context.Context, id int64, at time.Time) error
	// MarkMailFailed records a failed delivery and ends the lease: the mail
	// is due again at next. With giveUp, the mail is abandoned instead and
	// next is recorded as GaveUpAt. A missing or already sent mail is
	// ENotFound.
	MarkMailFailed(ctx context.Context, id int64, errMsg string, next time.Time, giveUp bool) error
	// FindMails returns the latest limit mails, newest first, sent or not
	// (for the development outbox page). Limit 0 means 50, capped at 500.
	FindMails(ctx context.Context, limit int) ([]*OutboxMail, error)
	// CountPendingMails counts the mails neither sent nor given up: the
	// depth of the outbox.
	CountPendingMails(ctx context.Context) (int, error)
	// DeleteSentMailsBefore removes the mails sent, or given up, before t,
	// and returns how many it removed: the outbox's retention, which keeps
	// the secrets in old mails from lingering in the database.
	DeleteSentMailsBefore(ctx context.Context, t time.Time) (int, error)
}
