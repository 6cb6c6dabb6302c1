package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
)

// Email verification modes (EmailConfig.Verification).
const (
	// VerifyOptional lets users with an unconfirmed address sign in; the
	// hosted pages show them a banner asking them to confirm it.
	VerifyOptional = "optional"
	// VerifyRequired refuses sign-in with a password (EEmailNotVerified,
	// after a correct password) until the address is confirmed.
	VerifyRequired = "required"
)

// Secret prefixes of the links in mails. Each names what the link does, so a
// leaked one is recognisable, and so that /verify-email/{token} can tell an
// address confirmation from an email change without a lookup.
const (
	VerifyPrefix = "ghverify_" // confirm the address of a new account
	ChangePrefix = "ghemail_"  // confirm a new address
	ResetPrefix  = "ghreset_"  // set a new password
	LoginPrefix  = "ghlogin_"  // sign in without a password
)

// maxCodeAttempts is how many guesses one emailed code survives: the fifth
// wrong code kills it, whatever the rate limits allow.
const maxCodeAttempts = 5

// EmailConfig configures the mails of the account lifecycle: address
// verification, password reset, passwordless sign-in and address changes.
type EmailConfig struct {
	// Outbox renders mails and queues them for delivery, in the same
	// transaction as the change that causes them. Default: nil, which
	// turns the mail features off (their methods return ENotFound) and
	// sends no verification mail on registration.
	Outbox *mail.Outbox
	// Verification is VerifyOptional or VerifyRequired. Default:
	// VerifyOptional.
	Verification string
	// VerifyTTL is how long a link that confirms an address, on sign-up or
	// on a change of address, works. Default: 24h.
	VerifyTTL time.Duration
	// ResetTTL is how long a password reset link works. Default: 1h.
	ResetTTL time.Duration
	// LoginTTL is how long the link and the code of a sign-in mail work.
	// Default: 15m.
	LoginTTL time.Duration
	// Login turns passwordless sign-in by email on. Default: false.
	Login bool
	// LoginSignUp lets passwordless sign-in create an account, without a
	// password, for an address that has none. Default: false.
	LoginSignUp bool
	// Limits applies the rate limits on mails (per address and per client
	// address) and on wrong codes (per account). Default: nil, no limits
	// beyond the five guesses each emailed code survives.
	Limits *ratelimit.Policy
	// QueueSize bounds the requests waiting for a mail to be prepared (see
	// RequestPasswordReset). Default: 1024.
	QueueSize int
	// Workers is how many requests are prepared at once. Default: 2.
	Workers int
}

func (c *EmailConfig) defaults() error {
	switch c.Verification {
	case "":
		c.Verification = VerifyOptional
	case VerifyOptional, VerifyRequired:
	default:
		return fmt.Errorf("accounts: email verification must be %q or %q, not %q", VerifyOptional, VerifyRequired, c.Verification)
	}
	if c.Verification == VerifyRequired && c.Outbox == nil {
		return errors.New("accounts: required email verification needs an Outbox to send the links")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.VerifyTTL, 24*time.Hour)
	def(&c.ResetTTL, time.Hour)
	def(&c.LoginTTL, 15*time.Minute)
	if c.QueueSize <= 0 {
		c.QueueSize = 1024
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	return nil
}

// VerificationRequired reports whether an address must be confirmed before
// its account may sign in with a password.
func (s *Service) VerificationRequired() bool { return s.cfg.Email.Verification == VerifyRequired }

// MailEnabled reports whether the service sends mail (an Outbox is set).
func (s *Service) MailEnabled() bool { return s.cfg.Email.Outbox != nil }

// EmailLoginEnabled reports whether passwordless sign-in by email is on.
func (s *Service) EmailLoginEnabled() bool { return s.cfg.Email.Outbox != nil && s.cfg.Email.Login }

// ResetTTL returns how long a password reset link works.
func (s *Service) ResetTTL() time.Duration { return s.cfg.Email.ResetTTL }

// LoginTTL returns how long the link and code of a sign-in mail work.
func (s *Service) LoginTTL() time.Duration { return s.cfg.Email.LoginTTL }

var errMailOff = auth.Errorf(auth.ENotFound, "Email is not set up on this server.")

// checkMailLimit applies the per-client and per-address mail limits. It runs
// before anything is looked up, so it answers the same for every address.
// With no client address (the command line, tests) only the per-address
// limit would apply, and ratelimit needs an address, so nothing is counted.
func (s *Service) checkMailLimit(ctx context.Context, address string, ip netip.Addr) error {
	if s.cfg.Email.Limits == nil || !ip.IsValid() {
		return nil
	}
	res, err := s.cfg.Email.Limits.Mail(ctx, address, ip)
	if err != nil {
		// Fail closed: a limiter outage must not become unlimited mail.
		return limiterDown(fmt.Errorf("mail rate limit: %w", err))
	}
	if !res.Allowed {
		return rateLimited(res)
	}
	return nil
}

// RateLimitError is the ERateLimited error of a refused request, with how
// long to wait, for the Retry-After header.
type RateLimitError struct {
	Err        *auth.Error // code ERateLimited
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string { return e.Err.Error() }

// Unwrap returns the *auth.Error, so that auth.ErrorCode sees ERateLimited.
func (e *RateLimitError) Unwrap() error { return e.Err }

// RetryAfterSeconds returns RetryAfter in whole seconds, rounded up, at
// least 1 (RFC 9110 §10.2.3).
func (e *RateLimitError) RetryAfterSeconds() int {
	return max(int((e.RetryAfter+time.Second-1)/time.Second), 1)
}

func rateLimited(res ratelimit.Result) error {
	return &RateLimitError{Err: auth.Errorf(auth.ERateLimited, "Too many requests. Try again in %s.", waitText(res.RetryAfter)),
		RetryAfter: res.RetryAfter}
}

// waitText says how long to wait, roughly, as a person would.
func waitText(d time.Duration) string {
	switch {
	case d <= time.Minute:
		return "a minute"
	case d < time.Hour:
		return strconv.Itoa(int((d+time.Minute-1)/time.Minute)) + " minutes"
	default:
		return "an hour"
	}
}

// enqueue renders a mail and adds it to the outbox of st, which should be the
// store of the transaction that makes the mail's token, so that the two are
// committed together.
func (s *Service) enqueue(ctx context.Context, st auth.OutboxStore, kind, to string, d mail.Data) error {
	return s.cfg.Email.Outbox.Enqueue(ctx, st, kind, to, d)
}

// inTxWithMail runs fn in a transaction and wakes the mail worker after the
// commit: Outbox.Enqueue wakes it too, but inside a transaction the worker
// may look before the mail is visible.
func (s *Service) inTxWithMail(ctx context.Context, fn func(tx auth.Store) error) error {
	if err := s.cfg.Store.InTx(ctx, fn); err != nil {
		return err
	}
	s.cfg.Email.Outbox.Notify()
	return nil
}

// newLink makes a one-time secret with prefix for a user (or none), stores
// its hash with st, and returns the secret.
func (s *Service) newLink(ctx context.Context, st auth.TokenStore, prefix, purpose, userID, data string, ttl time.Duration) (string, error) {
	secret, hash := auth.NewSecret(prefix)
	now := s.cfg.Now()
	err := st.CreateToken(ctx, &auth.OneTimeToken{Hash: hash, Purpose: purpose, UserID: userID, Data: data,
		CreatedAt: now, ExpiresAt: now.Add(ttl)})
	return secret, err
}

// secretLen is the length of a link secret without its prefix: 256 bits in
// base64url.
const secretLen = 43

// wellFormed reports whether secret looks like one made with prefix, so that
// junk never reaches the store.
func wellFormed(secret, prefix string) bool {
	rest, ok := strings.CutPrefix(secret, prefix)
	if !ok || len(rest) != secretLen {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// queue prepares mail requests after the answer has gone back: see
// RequestPasswordReset. Its workers start with the first request.
type queue struct {
	mu      sync.Mutex
	idle    sync.Cond // signalled when pending drops to zero
	jobs    chan func()
	stop    chan struct{}
	workers sync.WaitGroup
	pending int // queued or running
	closed  bool
}

// later queues fn to run after the caller has answered. It never blocks: when
// the queue is full, the request is dropped and logged, and the caller's
// answer stays the same (the user may ask again). fn gets ctx without its
// cancellation, so the values that say who asked (for the audit log) stay.
func (s *Service) later(ctx context.Context, what string, fn func(ctx context.Context) error) {
	q := &s.queue
	detached := context.WithoutCancel(ctx)
	job := func() {
		ctx, cancel := context.WithTimeout(detached, time.Minute)
		defer cancel()
		if err := fn(ctx); err != nil {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "preparing a mail failed", slog.String("request", what), slog.String("error", err.Error()))
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "mail request dropped: shutting down", slog.String("request", what))
		return
	}
	if q.jobs == nil {
		q.idle.L = &q.mu
		q.jobs = make(chan func(), s.cfg.Email.QueueSize)
		q.stop = make(chan struct{})
		for range s.cfg.Email.Workers {
			q.workers.Add(1)
			go s.work()
		}
	}
	select {
	case q.jobs <- job:
		q.pending++
	default:
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "mail request dropped: the queue is full", slog.String("request", what))
	}
}

func (s *Service) work() {
	q := &s.queue
	defer q.workers.Done()
	for {
		select {
		case job := <-q.jobs:
			job()
			q.mu.Lock()
			if q.pending--; q.pending == 0 {
				q.idle.Broadcast()
			}
			q.mu.Unlock()
		case <-q.stop:
			return
		}
	}
}

// Flush waits until every queued mail request has been prepared, and its
// mail is in the outbox.
func (s *Service) Flush() {
	q := &s.queue
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.pending > 0 {
		q.idle.Wait()
	}
}

// Close prepares the mail requests still queued, then stops the workers.
// Requests made after Close are dropped. It is safe to call more than once.
func (s *Service) Close() {
	q := &s.queue
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	for q.pending > 0 {
		q.idle.Wait()
	}
	stop := q.stop
	q.mu.Unlock()
	if stop != nil {
		close(stop)
		q.workers.Wait()
	}
}
