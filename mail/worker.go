package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// WorkerOptions configures a Worker. The zero value is ready to use.
type WorkerOptions struct {
	// Logger receives one line per delivery, failure and abandoned mail,
	// never a mail's body. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// PollInterval is how often the worker looks for due mails when nothing
	// wakes it (Notify). Default 2 seconds.
	PollInterval time.Duration
	// Lease is how long a claimed mail belongs to this worker before another
	// may take it. Default 1 minute; it must exceed SendTimeout.
	Lease time.Duration
	// SendTimeout bounds one call of the Sender. Default 30 seconds.
	SendTimeout time.Duration
	// BatchSize is how many mails one claim takes. Default 10.
	BatchSize int
	// Backoff is the wait after a mail's first failure; it doubles with each
	// failure after that, up to MaxBackoff. Default 30 seconds.
	Backoff time.Duration
	// MaxBackoff caps the wait between attempts. Default 1 hour.
	MaxBackoff time.Duration
	// GiveUpAfter is how long after it was enqueued a failing mail is
	// abandoned; the links in it have expired by then. Default 24 hours.
	GiveUpAfter time.Duration
	// MaxAttempts abandons a mail taken this many times, however young: a
	// mail that crashes its worker, or that the server keeps refusing.
	// Default 30, about what GiveUpAfter's default allows with the default
	// back-off.
	MaxAttempts int
	// Retention is how long sent and abandoned mails stay in the outbox
	// (for the development outbox page and for support) before the worker
	// deletes them, and the secrets in them. Default 24 hours.
	Retention time.Duration
}

// Worker delivers the mails of an outbox: it claims the due ones in batches,
// hands each to a Sender, and records the result, retrying failures with
// exponential back-off. Any number of workers, on any number of Gatehouse
// nodes, can share one outbox: the store leases each mail to one of them.
//
// A mail is sent at least once, and in practice once: only a worker that
// stops between the server's acceptance and recording it sends the mail a
// second time, after the lease ends.
type Worker struct {
	store  auth.OutboxStore
	sender Sender
	o      WorkerOptions
	wake   chan struct{}
}

// NewWorker checks opts, fills in the defaults, and returns a worker. Call Run
// to start it.
func NewWorker(store auth.OutboxStore, sender Sender, opts WorkerOptions) (*Worker, error) {
	if store == nil || sender == nil {
		return nil, errors.New("mail: a worker needs a store and a sender")
	}
	for _, d := range []time.Duration{opts.PollInterval, opts.Lease, opts.SendTimeout, opts.Backoff,
		opts.MaxBackoff, opts.GiveUpAfter, opts.Retention} {
		if d < 0 {
			return nil, errors.New("mail: negative worker duration")
		}
	}
	if opts.BatchSize < 0 || opts.MaxAttempts < 0 {
		return nil, errors.New("mail: negative worker count")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&opts.PollInterval, 2*time.Second)
	def(&opts.Lease, time.Minute)
	def(&opts.SendTimeout, 30*time.Second)
	def(&opts.Backoff, 30*time.Second)
	def(&opts.MaxBackoff, time.Hour)
	def(&opts.GiveUpAfter, 24*time.Hour)
	def(&opts.Retention, 24*time.Hour)
	if opts.BatchSize == 0 {
		opts.BatchSize = 10
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = 30
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SendTimeout >= opts.Lease {
		// Otherwise the lease could end while the mail is still being sent,
		// and another worker would send it too.
		return nil, fmt.Errorf("mail: the lease (%v) must be longer than the send timeout (%v)", opts.Lease, opts.SendTimeout)
	}
	return &Worker{store: store, sender: sender, o: opts, wake: make(chan struct{}, 1)}, nil
}

// Notify wakes the worker to look for due mails now, rather than at its next
// poll. It never blocks; call it after enqueueing a mail (after the commit,
// when the mail was enqueued in a transaction).
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// retentionEvery is how often Run deletes old mails.
const retentionEvery = 10 * time.Minute

// Run delivers mails until ctx is done. It does not return on errors: it logs
// them and tries again at the next poll, since a database or mail server
// that is down now is usually back soon.
//
// When ctx is done, Run lets the mail being sent finish (within SendTimeout)
// and records its result, so that it is not sent again; the other mails of
// the batch go back to the outbox when their lease ends.
func (w *Worker) Run(ctx context.Context) {
	timer := time.NewTimer(0) // look at once
	defer timer.Stop()
	var lastCleanup time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-w.wake:
		}
		if now := w.o.Now(); now.Sub(lastCleanup) >= retentionEvery {
			lastCleanup = now
			w.cleanup(ctx, now)
		}
		// Keep claiming while batches come back full: a backlog drains at
		// once instead of one batch per poll.
		for ctx.Err() == nil {
			n, err := w.batch(ctx)
			if err != nil && ctx.Err() == nil { // an error from stopping is no failure
				w.o.Logger.ErrorContext(ctx, "mail outbox: claim failed", "error", err)
			}
			if err != nil || n < w.o.BatchSize {
				break
			}
		}
		timer.Reset(w.o.PollInterval) // no stale tick survives Reset since Go 1.23
	}
}

// Flush sends the mails due now, batch after batch, until none is due, and
// returns how many it tried. Mails that fail are due again only after their
// back-off, so Flush ends even when the mail server is down. It suits a
// command that delivers the outbox once, and tests.
func (w *Worker) Flush(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := w.batch(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// batch claims one batch and works through it; it returns how many mails it
// claimed.
func (w *Worker) batch(ctx context.Context) (int, error) {
	claimed := w.o.Now()
	mails, err := w.store.ClaimMails(ctx, claimed, w.o.Lease, w.o.BatchSize)
	if err != nil {
		return 0, err
	}
	// A mail may be started only while its whole send fits in what is left
	// of the lease; the rest wait for the lease to end and are claimed again.
	startBy := claimed.Add(w.o.Lease - w.o.SendTimeout)
	for _, m := range mails {
		if ctx.Err() != nil || w.o.Now().After(startBy) {
			break
		}
		w.deliver(ctx, m)
	}
	return len(mails), nil
}

// deliver sends one claimed mail and records the result. The send and the
// record run on a context that ctx's end does not cut short, bounded by
// SendTimeout, so a mail the server took is also marked sent.
func (w *Worker) deliver(ctx context.Context, m *auth.OutboxMail) {
	log := w.o.Logger.With("mail_id", m.ID, "kind", m.Kind, "attempt", m.Attempts)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.o.SendTimeout)
	defer cancel()
	if m.Attempts > w.o.MaxAttempts {
		// Taken more often than it can have failed: it must have stopped
		// its workers mid-send, and would again.
		w.giveUp(dctx, log, m, fmt.Sprintf("taken %d times without a result", m.Attempts))
		return
	}
	err := w.sender.Send(dctx, m.To, m.Subject, m.Text, m.HTML)
	now := w.o.Now()
	if err == nil {
		if err := w.store.MarkMailSent(dctx, m.ID, now); err != nil {
			// Delivered but not recorded: it will be sent again after the lease.
			log.ErrorContext(ctx, "mail outbox: mail sent, but recording it failed; it will be sent again", "error", err)
			return
		}
		log.InfoContext(ctx, "mail sent")
		return
	}
	msg := err.Error()
	switch {
	case errors.Is(err, ErrRejected):
		w.giveUp(dctx, log, m, msg)
		return
	case now.Sub(m.CreatedAt) >= w.o.GiveUpAfter || m.Attempts >= w.o.MaxAttempts:
		w.giveUp(dctx, log, m, msg)
		return
	}
	next := now.Add(w.backoff(m.Attempts))
	if err := w.store.MarkMailFailed(dctx, m.ID, msg, next, false); err != nil {
		log.ErrorContext(ctx, "mail outbox: recording a failure failed", "error", err)
		return
	}
	log.WarnContext(ctx, "mail outbox: sending failed; will retry", "error", msg, "next_attempt_at", next)
}

// giveUp abandons a mail, loudly: someone did not get a mail they were
// promised, and an operator should know.
func (w *Worker) giveUp(ctx context.Context, log *slog.Logger, m *auth.OutboxMail, reason string) {
	if err := w.store.MarkMailFailed(ctx, m.ID, reason, w.o.Now(), true); err != nil {
		log.ErrorContext(ctx, "mail outbox: recording an abandoned mail failed", "error", err)
		return
	}
	log.ErrorContext(ctx, "mail outbox: GIVING UP on a mail; it will not be delivered",
		"error", reason, "enqueued_at", m.CreatedAt)
}

// backoff is the wait after the nth failed attempt: Backoff·2^(n-1), capped
// at MaxBackoff.
func (w *Worker) backoff(n int) time.Duration {
	d := w.o.Backoff
	for i := 1; i < n && d < w.o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, w.o.MaxBackoff)
}

func (w *Worker) cleanup(ctx context.Context, now time.Time) {
	n, err := w.store.DeleteSentMailsBefore(ctx, now.Add(-w.o.Retention))
	if err != nil {
		if ctx.Err() == nil {
			w.o.Logger.ErrorContext(ctx, "mail outbox: deleting old mails failed", "error", err)
		}
		return
	}
	if n > 0 {
		w.o.Logger.DebugContext(ctx, "mail outbox: deleted old mails", "count", n)
	}
}
