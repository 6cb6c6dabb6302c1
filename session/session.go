// Package session manages server-side sessions: the opaque secret a browser
// holds in its cookie, the record the server keeps under the secret's hash,
// and the rules that end a session.
//
// Threat model: a session secret is 256 random bits, so it cannot be guessed;
// only its SHA-256 is stored, so a copy of the database cannot be replayed as
// a cookie; every sign-in starts a new session with a new secret, so a secret
// planted in a browser before sign-in (session fixation) is worth nothing; a
// privilege change moves the session to a new secret on its next request.
// Sessions end at an absolute deadline and after an idle period (remember-me
// sessions use their longer lifetime instead of the idle period), on logout,
// and when revoked; every end is recorded for the revocation feed so that
// tokens issued from the session stop working elsewhere too.
//
// Checking a session costs one indexed read and never writes on the request
// path: the last-seen time is written at most once a minute per session, by a
// background worker. With Config.CacheTTL, repeated checks of one session are
// answered from memory for that long, and sessions ended through the Manager
// are dropped from the caches of every node at once (cache.go).
package session

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// SecretLen is the length of a session secret as it appears in the cookie:
// 32 random bytes, base64url-encoded.
const SecretLen = 43

// touchEvery is how stale LastSeenAt may get before a request refreshes it.
const touchEvery = time.Minute

// Config configures a Manager.
type Config struct {
	// Store keeps sessions and the users they belong to.
	Store Store
	// IdleTimeout ends a session (without remember-me) after this long with
	// no request. Default: 2h.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session (without remember-me) this long after
	// sign-in. Default: 24h.
	AbsoluteTimeout time.Duration
	// RememberFor is the lifetime of a remember-me session. Default: 336h.
	RememberFor time.Duration
	// TokenTTL is the lifetime of access tokens issued from sessions: a
	// revocation stays in the feed that long. Default: 15m.
	TokenTTL time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger receives session events. Default: slog.Default().
	Logger *slog.Logger
	// CacheTTL, when positive, lets the Manager answer a check from what it
	// read for the same session at most this long ago (cache.go). Default:
	// 0, every check reads the store.
	CacheTTL time.Duration
	// Bus tells the other nodes sharing the store to drop a session from
	// their caches when this node ends it. Default: nil, for a single node;
	// with a Bus, the cache answers only while CacheValidUntil allows.
	Bus Bus
}

// Store is what the manager needs of the store.
type Store interface {
	auth.SessionStore
	FindUserByID(ctx context.Context, id string) (*auth.User, error)
}

// Manager starts, checks and ends sessions. It is safe for concurrent use.
type Manager struct {
	cfg     Config
	touches chan touch
	touched sync.Map     // session ID → time.Time of its last queued touch
	queued  atomic.Int64 // touches queued or being written
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	cache   *sessionCache // nil when Config.CacheTTL is 0
}

type touch struct {
	id   string
	seen time.Time
}

// New validates cfg and starts the background worker; Close stops it.
func New(cfg Config) (*Manager, error) {
	if cfg.Store == nil {
		return nil, errors.New("session: Store is required")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Hour
	}
	if cfg.AbsoluteTimeout <= 0 {
		cfg.AbsoluteTimeout = 24 * time.Hour
	}
	if cfg.RememberFor <= 0 {
		cfg.RememberFor = 14 * 24 * time.Hour
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Manager{cfg: cfg, touches: make(chan touch, 4096), stop: make(chan struct{}), done: make(chan struct{})}
	if cfg.CacheTTL > 0 {
		m.cache = newSessionCache(cfg.CacheTTL, cfg.Bus != nil)
	}
	go m.work()
	return m, nil
}

// Close stops the background worker after writing the touches it holds.
func (m *Manager) Close() {
	m.once.Do(func() { close(m.stop); <-m.done })
}

// work writes last-seen times and sweeps expired sessions.
func (m *Manager) work() {
	defer close(m.done)
	sweep := time.NewTicker(10 * time.Minute)
	defer sweep.Stop()
	for {
		select {
		case t := <-m.touches:
			m.write(t)
		case <-sweep.C:
			// Forget touch times old enough not to matter any more.
			cutoff := m.cfg.Now().Add(-2 * touchEvery)
			m.touched.Range(func(k, v any) bool {
				if v.(time.Time).Before(cutoff) {
					m.touched.Delete(k)
				}
				return true
			})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if n, err := m.cfg.Store.DeleteExpiredSessions(ctx, m.cfg.Now()); err != nil {
				m.cfg.Logger.Warn("sweeping expired sessions failed", "error", err)
			} else if n > 0 {
				m.cfg.Logger.Debug("swept expired sessions", "count", n)
			}
			cancel()
		case <-m.stop:
			for {
				select {
				case t := <-m.touches:
					m.write(t)
				default:
					return
				}
			}
		}
	}
}

func (m *Manager) write(t touch) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.cfg.Store.TouchSession(ctx, t.id, t.seen); err != nil {
		m.cfg.Logger.Warn("recording session activity failed", "error", err)
	}
	m.queued.Add(-1)
}

// Flush returns once every last-seen time queued so far is written; tests
// use it.
func (m *Manager) Flush() {
	for {
		select {
		case t := <-m.touches:
			m.write(t)
			continue
		default:
		}
		if m.queued.Load() == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// Options describe a new session.
type Options struct {
	// Remember makes a remember-me session: a persistent cookie, and the
	// RememberFor lifetime with no idle timeout.
	Remember bool
	// Lifetime, when set, replaces the default lifetime; sessions behind
	// refresh tokens use the refresh-token lifetime. It implies Remember.
	Lifetime  time.Duration
	IP        string
	UserAgent string
	Method    string
}

// Start begins a new session for u and returns the secret for the cookie.
// Call it on every sign-in, never reusing a session the browser already had.
func (m *Manager) Start(ctx context.Context, u *auth.User, o Options) (string, *auth.Session, error) {
	secret, hash := auth.NewSecret("")
	now := m.cfg.Now()
	life := m.cfg.AbsoluteTimeout
	if o.Remember {
		life = m.cfg.RememberFor
	}
	if o.Lifetime > 0 {
		life, o.Remember = o.Lifetime, true
	}
	s := &auth.Session{
		TokenHash: hash, UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(life),
		Remember: o.Remember, IP: o.IP, UserAgent: truncate(o.UserAgent, 512), Method: o.Method,
	}
	if err := m.cfg.Store.CreateSession(ctx, s); err != nil {
		return "", nil, err
	}
	m.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "session started", slog.String("user_id", u.ID),
		slog.String("session_id", s.ID), slog.String("method", o.Method), slog.Bool("remember", o.Remember), slog.String("ip", o.IP))
	return secret, s, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// ErrNoSession is returned by Check for a missing, unknown, expired or
// revoked session, or one whose user can no longer sign in.
var ErrNoSession = auth.Errorf(auth.EUnauthorized, "Please sign in.")

// Check returns the live session for a cookie secret and its user. When the
// session must move to a new secret (after a privilege change) it does so and
// returns the new secret, which the caller must set in the cookie; otherwise
// newSecret is "". Check never writes on the request path except for that
// rare rotation; activity is recorded in the background.
func (m *Manager) Check(ctx context.Context, secret string) (s *auth.Session, u *auth.User, newSecret string, err error) {
	if len(secret) != SecretLen {
		return nil, nil, "", ErrNoSession
	}
	hash := auth.HashSecret(secret)
	s, u, hit := m.cache.get(hash, "")
	if !hit {
		gen := m.cache.generation()
		s, u, err = m.cfg.Store.FindSessionByToken(ctx, hash)
		if auth.IsNotFound(err) {
			return nil, nil, "", ErrNoSession
		}
		if err != nil {
			// Fail closed: a session that cannot be checked grants nothing.
			return nil, nil, "", err
		}
		if !s.Rotate {
			defer func() {
				if err == nil {
					m.cache.put(gen, s, u)
				}
			}()
		}
	}
	now := m.cfg.Now()
	if reason := m.expired(s, now); reason != "" {
		m.end(ctx, s, reason)
		return nil, nil, "", ErrNoSession
	}
	if !u.Active {
		m.end(ctx, s, "account disabled")
		return nil, nil, "", ErrNoSession
	}
	if s.Rotate {
		fresh, hash := auth.NewSecret("")
		if err := m.cfg.Store.RotateSession(ctx, s.ID, hash); err != nil {
			return nil, nil, "", err
		}
		s.TokenHash, s.Rotate, newSecret = hash, false, fresh
		m.invalidate(ctx, Invalidation{SessionIDs: []string{s.ID}})
		m.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "session moved to a new secret after a privilege change", slog.String("session_id", s.ID))
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		m.touch(s.ID, now)
	}
	return s, u, newSecret, nil
}

// touch queues a last-seen write for a session, at most once per touchEvery
// per session on this node, however many requests race here.
func (m *Manager) touch(id string, now time.Time) {
	if prev, loaded := m.touched.LoadOrStore(id, now); loaded {
		if now.Sub(prev.(time.Time)) < touchEvery || !m.touched.CompareAndSwap(id, prev, now) {
			return
		}
	}
	m.queued.Add(1)
	select {
	case m.touches <- touch{id, now}:
	default:
		// The queue is full: skip this touch; a later request retries.
		m.queued.Add(-1)
		m.touched.Delete(id)
	}
}

// CheckID returns the live session with a public ID and its user: for access
// tokens, which name their session by ID. It applies the same expiry and
// account rules as Check, but never rotates (tokens carry no secret to move).
func (m *Manager) CheckID(ctx context.Context, id string) (*auth.Session, *auth.User, error) {
	if id == "" || len(id) > 64 {
		return nil, nil, ErrNoSession
	}
	if s, u, hit := m.cache.get(nil, id); hit {
		return m.checkedID(ctx, s, u)
	}
	gen := m.cache.generation()
	s, err := m.cfg.Store.FindSessionByID(ctx, id)
	if auth.IsNotFound(err) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	now := m.cfg.Now()
	if reason := m.expired(s, now); reason != "" {
		m.end(ctx, s, reason)
		return nil, nil, ErrNoSession
	}
	u, err := m.cfg.Store.FindUserByID(ctx, s.UserID)
	if auth.IsNotFound(err) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	s, u, err = m.checkedID(ctx, s, u)
	if err == nil {
		m.cache.put(gen, s, u)
	}
	return s, u, err
}

// checkedID applies CheckID's rules to a session and its user.
func (m *Manager) checkedID(ctx context.Context, s *auth.Session, u *auth.User) (*auth.Session, *auth.User, error) {
	now := m.cfg.Now()
	if reason := m.expired(s, now); reason != "" {
		m.end(ctx, s, reason)
		return nil, nil, ErrNoSession
	}
	if !u.Active {
		m.end(ctx, s, "account disabled")
		return nil, nil, ErrNoSession
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		m.touch(s.ID, now)
	}
	return s, u, nil
}

// expired returns why s has ended at now, or "".
func (m *Manager) expired(s *auth.Session, now time.Time) string {
	if !now.Before(s.ExpiresAt) {
		return "absolute timeout"
	}
	// A remember-me (or API) session lives to its absolute end; the idle
	// timeout is for browser sessions that nobody asked to remember.
	if s.Remember {
		return ""
	}
	// LastSeenAt lags real activity by up to touchEvery; allow for that.
	if now.Sub(s.LastSeenAt) > m.cfg.IdleTimeout+touchEvery {
		return "idle timeout"
	}
	return ""
}

// TokenTTL is how long access tokens issued from sessions live: a revocation
// stays in the feed that long.
func (m *Manager) TokenTTL() time.Duration { return m.cfg.TokenTTL }

// Expires returns when a session's cookie should expire: its absolute end for
// remember-me sessions, or zero for a browser-session cookie.
func (m *Manager) Expires(s *auth.Session) time.Time {
	if s.Remember {
		return s.ExpiresAt
	}
	return time.Time{}
}

func (m *Manager) end(ctx context.Context, s *auth.Session, reason string) {
	if err := m.cfg.Store.RevokeSession(ctx, s.ID, m.cfg.Now().Add(m.cfg.TokenTTL)); err != nil && !auth.IsNotFound(err) {
		m.cfg.Logger.Warn("ending session failed", "session_id", s.ID, "error", err)
		return
	}
	m.invalidate(ctx, Invalidation{SessionIDs: []string{s.ID}})
	m.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "session ended", slog.String("session_id", s.ID),
		slog.String("user_id", s.UserID), slog.String("reason", reason))
}

// Ended tells the session caches, this node's and through the Bus the
// others', that the store has already ended session id (as a refresh
// token's reuse does, in the same transaction that detects it), so that no
// cache goes on answering for it.
func (m *Manager) Ended(ctx context.Context, id, reason string) {
	m.invalidate(ctx, Invalidation{SessionIDs: []string{id}})
	m.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "session ended", slog.String("session_id", id), slog.String("reason", reason))
}

// Revoke ends one session (logout, or the user revoking a device).
func (m *Manager) Revoke(ctx context.Context, id, reason string) error {
	if err := m.cfg.Store.RevokeSession(ctx, id, m.cfg.Now().Add(m.cfg.TokenTTL)); err != nil {
		return err
	}
	m.invalidate(ctx, Invalidation{SessionIDs: []string{id}})
	m.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "session ended", slog.String("session_id", id), slog.String("reason", reason))
	return nil
}

// RevokeUser ends every session of a user except one ("" for none): logout
// everywhere, a password change, disabling the account.
func (m *Manager) RevokeUser(ctx context.Context, userID, except, reason string) ([]string, error) {
	ids, err := m.cfg.Store.RevokeUserSessions(ctx, userID, except, m.cfg.Now().Add(m.cfg.TokenTTL))
	if err != nil {
		return nil, err
	}
	m.invalidate(ctx, Invalidation{UserID: userID})
	m.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "sessions ended", slog.String("user_id", userID),
		slog.Int("count", len(ids)), slog.String("reason", reason))
	return ids, nil
}
