// Package audit records security events (sign-ins, sign-outs, password and
// role changes, revocations…) in the append-only audit log, with who acted,
// on whose account, and from which address and browser.
//
// The client's address and user agent travel in the request context
// (WithClient), set once by the HTTP layer, so that the services that record
// events need not know about HTTP. Events never hold secrets: no passwords,
// tokens, cookies or keys, only identifiers and reasons.
package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

type clientKey struct{}

type client struct{ ip, userAgent string }

// WithClient returns a context that carries the client's IP address and user
// agent for the events recorded under it.
func WithClient(ctx context.Context, ip, userAgent string) context.Context {
	if len(userAgent) > 512 {
		userAgent = userAgent[:512]
	}
	return context.WithValue(ctx, clientKey{}, client{ip, userAgent})
}

// Recorder writes events to the audit log. A nil *Recorder records nothing,
// so components work without one. It is safe for concurrent use.
type Recorder struct {
	store auth.AuditStore
	log   *slog.Logger
	now   func() time.Time
}

// New returns a Recorder over store. now and log may be nil for the defaults.
func New(store auth.AuditStore, now func() time.Time, log *slog.Logger) *Recorder {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Recorder{store: store, log: log, now: now}
}

// Record appends an event. It writes synchronously, so that an event is in
// the log before the action it records is reported done; a failure to write
// is logged (with the event) rather than failing the action.
func (r *Recorder) Record(ctx context.Context, typ, actorID, targetID string, data map[string]string) {
	if r == nil {
		return
	}
	e := &auth.Event{Type: typ, ActorID: actorID, TargetID: targetID, Data: data, CreatedAt: r.now()}
	if c, ok := ctx.Value(clientKey{}).(client); ok {
		e.IP, e.UserAgent = c.ip, c.userAgent
	}
	// Detach from the request's cancellation: the event is worth writing even
	// if the client has gone.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.store.AppendEvent(wctx, e); err != nil {
		r.log.LogAttrs(ctx, slog.LevelError, "audit event not recorded", slog.String("type", typ),
			slog.String("actor_id", actorID), slog.String("target_id", targetID), slog.Any("data", data), slog.String("error", err.Error()))
	}
}

// Purge deletes events older than the retention period.
func (r *Recorder) Purge(ctx context.Context, retention time.Duration) (int, error) {
	if r == nil || retention <= 0 {
		return 0, nil
	}
	return r.store.DeleteEventsBefore(ctx, r.now().Add(-retention))
}
