package client

import (
	"crypto"
	"fmt"
	"slices"
	"sync"
)

// verifiedCacheSize bounds how many verified tokens a Verifier remembers.
// A user's access token is presented many times in its 15 minutes, so a few
// thousand entries cover the active users of a busy backend; an entry holds
// the token (well under 2 KiB) and its claims.
const verifiedCacheSize = 4096

// verifiedCache remembers tokens that passed every check of Verify, so that
// the next time the same token is presented the signature check (most of
// Verify's cost) is skipped. Only tokens that verified are stored, keyed by
// the whole token, so an attacker can neither add entries nor make one
// token hit another's. A hit still checks everything that can change:
//
//   - the key that verified the token must still be in the key set under its
//     ID, unchanged, so a key dropped from Gatehouse's JWKS stops its tokens
//     at once, cached or not;
//   - exp, nbf and iat are checked against the clock again, with the leeway.
//
// Revocation is the caller's (Client.Verify checks the feed on every call),
// as for a token verified in full.
type verifiedCache struct {
	mu      sync.RWMutex
	entries map[string]*verifiedEntry
}

type verifiedEntry struct {
	claims Claims
	key    PublicKey
}

// cached returns the claims of raw if it verified before with a key that keys
// still holds, after checking its times; ok is false when raw must be
// verified in full. A cached token that has expired is dropped and reported
// with the error a full check gives.
func (v *Verifier) cached(raw string) (c *Claims, ok bool, err error) {
	v.cache.mu.RLock()
	e := v.cache.entries[raw]
	v.cache.mu.RUnlock()
	if e == nil {
		return nil, false, nil
	}
	cur, found := v.keys.Key(e.key.ID)
	if !found || cur.Algorithm != e.key.Algorithm || !sameKey(cur.Key, e.key.Key) {
		v.forget(raw)
		return nil, false, nil
	}
	// The checks of jwt.Claims.ValidateWithLeeway, which a full Verify runs.
	now := v.now()
	switch {
	case now.Add(-v.leeway).After(e.claims.ExpiresAt):
		v.forget(raw)
		return nil, true, ErrExpired
	case !e.claims.NotBefore.IsZero() && now.Add(v.leeway).Before(e.claims.NotBefore):
		return nil, true, fmt.Errorf("%w: nbf in the future", ErrNotYetValid)
	case now.Add(v.leeway).Before(e.claims.IssuedAt):
		return nil, true, fmt.Errorf("%w: iat in the future", ErrNotYetValid)
	}
	out := e.claims
	out.Audience = slices.Clone(out.Audience)
	out.Roles = slices.Clone(out.Roles)
	out.Permissions = slices.Clone(out.Permissions)
	return &out, true, nil
}

// remember stores a token that has just passed every check, with the key
// that verified it. When the cache is full, entries whose tokens have
// expired go first, then an arbitrary one (map order is random).
func (v *Verifier) remember(raw string, c *Claims, key PublicKey) {
	e := &verifiedEntry{claims: *c, key: key}
	e.claims.Audience = slices.Clone(c.Audience)
	e.claims.Roles = slices.Clone(c.Roles)
	e.claims.Permissions = slices.Clone(c.Permissions)
	v.cache.mu.Lock()
	defer v.cache.mu.Unlock()
	if v.cache.entries == nil {
		v.cache.entries = make(map[string]*verifiedEntry)
	}
	if len(v.cache.entries) >= verifiedCacheSize {
		cutoff := v.now().Add(-v.leeway)
		dropped := 0
		for k, old := range v.cache.entries {
			if cutoff.After(old.claims.ExpiresAt) || dropped == 0 {
				delete(v.cache.entries, k)
				dropped++
			}
			if dropped >= 64 {
				break
			}
		}
	}
	v.cache.entries[raw] = e
}

func (v *Verifier) forget(raw string) {
	v.cache.mu.Lock()
	delete(v.cache.entries, raw)
	v.cache.mu.Unlock()
}

// sameKey reports whether two public keys are equal; the standard library's
// key types all have an Equal method.
func sameKey(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}
