package passkey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
)

// ChallengeStore keeps the state of ceremonies between Begin and Finish.
// Implementations must be safe for concurrent use.
type ChallengeStore interface {
	// Put stores data under key until ttl has passed.
	Put(ctx context.Context, key string, data []byte, ttl time.Duration) error
	// Take returns the data under key and deletes it, atomically: of
	// concurrent calls with one key, at most one finds it. A key that is
	// missing or past its ttl is found=false with err=nil; err is for system
	// failures only.
	Take(ctx context.Context, key string) (data []byte, found bool, err error)
}

// MemoryChallengeStore is a ChallengeStore in the process's memory, for a
// single Gatehouse node; several nodes behind a load balancer need a shared
// store instead. It holds at most MaxCeremonies at a time.
type MemoryChallengeStore struct {
	now func() time.Time

	mu        sync.Mutex
	entries   map[string]memoryEntry
	lastSweep time.Time
}

type memoryEntry struct {
	data    []byte
	expires time.Time
}

// MaxCeremonies bounds the MemoryChallengeStore, so that a flood of Begin
// requests costs a bounded amount of memory: when it is full of unexpired
// ceremonies, Put fails until some finish or expire.
const MaxCeremonies = 100_000

// NewMemoryChallengeStore returns an empty store that tells time by now
// (time.Now when nil).
func NewMemoryChallengeStore(now func() time.Time) *MemoryChallengeStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryChallengeStore{now: now, entries: map[string]memoryEntry{}}
}

var errTooManyCeremonies = errors.New("passkey: too many ceremonies in progress")

// Put implements ChallengeStore.
func (s *MemoryChallengeStore) Put(_ context.Context, key string, data []byte, ttl time.Duration) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Sweep expired entries at most once a minute, or when full.
	if now.Sub(s.lastSweep) > time.Minute || len(s.entries) >= MaxCeremonies {
		for k, e := range s.entries {
			if !now.Before(e.expires) {
				delete(s.entries, k)
			}
		}
		s.lastSweep = now
	}
	if len(s.entries) >= MaxCeremonies {
		return errTooManyCeremonies
	}
	s.entries[key] = memoryEntry{data: data, expires: now.Add(ttl)}
	return nil
}

// Take implements ChallengeStore.
func (s *MemoryChallengeStore) Take(_ context.Context, key string) ([]byte, bool, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	if !ok {
		return nil, false, nil
	}
	delete(s.entries, key)
	if !now.Before(e.expires) {
		return nil, false, nil
	}
	return e.data, true, nil
}

// Len returns how many ceremonies the store holds, expired ones included
// until they are swept.
func (s *MemoryChallengeStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Ceremony kinds.
const (
	kindRegister = "register"
	kindLogin    = "login"
	kindSignUp   = "signup"
)

// ceremony is what Begin leaves for Finish.
type ceremony struct {
	Kind string `json:"kind"`
	// UserID is the Gatehouse user the ceremony is for; empty for a
	// discoverable login.
	UserID  string               `json:"user_id,omitempty"`
	Expires time.Time            `json:"expires"`
	Session webauthn.SessionData `json:"session"`
	// Account is the account a sign-up will create, which does not exist
	// until FinishSignUp; nil for the other kinds.
	Account *signUpAccount `json:"account,omitempty"`
}

// ceremonyIDLen is the length of a ceremony ID: 32 random bytes, base64url.
const ceremonyIDLen = 43

// storeKey is the ChallengeStore key of a ceremony: a hash of its ID, so
// that the store (perhaps a database or Redis) holds nothing a client could
// present, and keys have one length whatever a client sends.
func storeKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return "passkey:" + hex.EncodeToString(h[:])
}

// start stores c and returns its new ID.
func (rp *RelyingParty) start(ctx context.Context, c *ceremony) (string, error) {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand: "Read ... never returns an error")
	id := base64.RawURLEncoding.EncodeToString(b[:])
	c.Expires = rp.cfg.Now().Add(rp.cfg.Timeout)
	data, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("passkey: encode ceremony: %w", err)
	}
	if err := rp.cfg.Challenges.Put(ctx, storeKey(id), data, rp.cfg.Timeout); err != nil {
		return "", fmt.Errorf("passkey: store ceremony: %w", err)
	}
	return id, nil
}

// take spends the ceremony with this ID and returns it if it is of kind and
// has not expired. A ceremony is spent by any attempt to finish it, right or
// wrong, so that each challenge is answered at most once (L3 §13.4.3).
func (rp *RelyingParty) take(ctx context.Context, id, kind string) (*ceremony, error) {
	if len(id) != ceremonyIDLen {
		return nil, fmt.Errorf("%w: malformed ceremony ID", ErrCeremony)
	}
	data, found, err := rp.cfg.Challenges.Take(ctx, storeKey(id))
	if err != nil {
		return nil, fmt.Errorf("passkey: take ceremony: %w", err)
	}
	if !found {
		return nil, fmt.Errorf("%w: no such ceremony in progress", ErrCeremony)
	}
	var c ceremony
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("passkey: decode ceremony: %w", err)
	}
	if c.Kind != kind {
		return nil, fmt.Errorf("%w: a %s ceremony finished as %s", ErrCeremony, c.Kind, kind)
	}
	if !rp.cfg.Now().Before(c.Expires) {
		return nil, fmt.Errorf("%w: ceremony expired at %v", ErrCeremony, c.Expires)
	}
	return &c, nil
}
