package session

import (
	"context"
	"crypto/sha256"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// The session cache.
//
// Checking a session is one database read. Under load most of those reads
// find what the previous request of the same session found a moment ago, so
// a Manager may keep what it read for a short while (Config.CacheTTL, off by
// default) and answer from memory. What makes that safe:
//
//   - An entry lives at most CacheTTL (Gatehouse uses 500ms), whatever
//     happens: a change nobody announces (an admin changing roles, a
//     refresh token replayed, a command-line tool writing the database) is
//     seen within that time.
//   - Ending a session through the Manager (logout, revoking a device,
//     revoking every session of a user, expiry) drops it from this node's
//     cache at once and tells the other nodes through Config.Bus, so a
//     revocation holds everywhere within the time a message takes.
//   - An entry is stored only if nothing was dropped while it was being
//     read, so a revocation that overtakes a read cannot be undone by it.
//   - With a Bus, the cache is used only while the Bus vouches that it
//     delivers (Manager.CacheValidUntil): when Redis is down, messages may
//     be lost, so every check reads the database again until the
//     subscription is back (and has cleared the cache).
//   - Expiry, idle timeout and the account's state are checked on every
//     request, cached or not, against the clock.

// Invalidation names what the nodes sharing a store must drop from their
// session caches.
type Invalidation struct {
	// SessionIDs are sessions that ended or changed.
	SessionIDs []string `json:"sessions,omitempty"`
	// UserID is a user whose every session ended or changed.
	UserID string `json:"user,omitempty"`
	// All drops everything.
	All bool `json:"all,omitempty"`
}

// Bus carries invalidations to every other node sharing the store (Redis
// pub/sub in Gatehouse). Publish should return quickly; an error is logged,
// and the other nodes then rely on CacheTTL, or on noticing that the Bus is
// down and bypassing their caches.
type Bus interface {
	Publish(ctx context.Context, inv Invalidation) error
}

// maxCached bounds the cache: at about half a kilobyte an entry, a few MiB.
// When full, it is emptied, which costs one database read per session.
const maxCached = 10_000

// sessionCache holds recently read sessions by token hash and by ID.
type sessionCache struct {
	ttl time.Duration

	mu     sync.RWMutex
	byHash map[[sha256.Size]byte]*cachedSession
	byID   map[string]*cachedSession

	// gen counts invalidations; an entry read before one is not stored.
	gen atomic.Uint64
	// until is when the Bus stops vouching for delivery (Unix nanoseconds);
	// the cache answers only before it.
	until atomic.Int64
}

type cachedSession struct {
	hash    [sha256.Size]byte
	session auth.Session
	user    auth.User
	expires time.Time // of the entry, on the monotonic clock
}

func newSessionCache(ttl time.Duration, bus bool) *sessionCache {
	c := &sessionCache{ttl: ttl, byHash: map[[sha256.Size]byte]*cachedSession{}, byID: map[string]*cachedSession{}}
	if !bus {
		c.until.Store(1<<63 - 1) // nothing to vouch for: always usable
	}
	return c
}

func (c *sessionCache) usable() bool {
	return c != nil && time.Now().UnixNano() < c.until.Load()
}

// get returns copies of a live entry found by token hash (id == "") or by
// session ID.
func (c *sessionCache) get(hash []byte, id string) (*auth.Session, *auth.User, bool) {
	if !c.usable() {
		return nil, nil, false
	}
	c.mu.RLock()
	var e *cachedSession
	if id != "" {
		e = c.byID[id]
	} else {
		e = c.byHash[[sha256.Size]byte(hash)]
	}
	c.mu.RUnlock()
	if e == nil || time.Now().After(e.expires) {
		return nil, nil, false
	}
	s, u := e.session, e.user
	u.Roles = slices.Clone(u.Roles)
	s.TokenHash = slices.Clone(s.TokenHash)
	return &s, &u, true
}

// put stores copies of s and u, unless an invalidation has happened since
// gen was read.
func (c *sessionCache) put(gen uint64, s *auth.Session, u *auth.User) {
	if !c.usable() || len(s.TokenHash) != sha256.Size {
		return
	}
	e := &cachedSession{hash: [sha256.Size]byte(s.TokenHash), session: *s, user: *u, expires: time.Now().Add(c.ttl)}
	e.session.TokenHash = slices.Clone(s.TokenHash)
	e.user.Roles = slices.Clone(u.Roles)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if len(c.byID) >= maxCached {
		clear(c.byID)
		clear(c.byHash)
	}
	if old := c.byID[s.ID]; old != nil {
		delete(c.byHash, old.hash)
	}
	c.byID[s.ID] = e
	c.byHash[e.hash] = e
}

// drop removes what inv names.
func (c *sessionCache) drop(inv Invalidation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	if inv.All {
		clear(c.byID)
		clear(c.byHash)
		return
	}
	for _, id := range inv.SessionIDs {
		if e := c.byID[id]; e != nil {
			delete(c.byID, id)
			delete(c.byHash, e.hash)
		}
	}
	if inv.UserID != "" {
		for id, e := range c.byID {
			if e.session.UserID == inv.UserID {
				delete(c.byID, id)
				delete(c.byHash, e.hash)
			}
		}
	}
}

// Forget drops what inv names from this node's session cache, without
// telling other nodes: for the Bus's subscriber to call with what other
// nodes publish. It does nothing when the cache is off.
func (m *Manager) Forget(inv Invalidation) {
	if m.cache != nil {
		m.cache.drop(inv)
	}
}

// CacheValidUntil lets the session cache answer until t: the Bus's
// subscriber calls it each time it has confirmed that it receives what
// other nodes publish (a heartbeat), and a zero t when it has lost the
// subscription. When the subscription comes back, call Forget with All
// first, since messages may have been lost meanwhile. Without a Bus the
// cache needs no such word and this is not called.
func (m *Manager) CacheValidUntil(t time.Time) {
	if m.cache == nil {
		return
	}
	if t.IsZero() {
		m.cache.until.Store(0)
		return
	}
	m.cache.until.Store(t.UnixNano())
}

// invalidate drops what inv names here and tells the other nodes. A failed
// publication is logged: the other nodes see the change within CacheTTL, or
// at once if they have noticed that the Bus is down.
func (m *Manager) invalidate(ctx context.Context, inv Invalidation) {
	if m.cache == nil {
		return
	}
	m.cache.drop(inv)
	if m.cfg.Bus == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := m.cfg.Bus.Publish(ctx, inv); err != nil {
		m.cfg.Logger.WarnContext(ctx, "telling other nodes of a session change failed; they see it within the cache TTL",
			"error", err, "ttl", m.cfg.CacheTTL)
	}
}

// generation returns the invalidation count, to pass to put.
func (c *sessionCache) generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}
