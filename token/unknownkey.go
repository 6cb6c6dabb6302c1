package token

import (
	"context"
	"sync"
	"time"
)

// UnknownKeyReloadEvery is how often, at most, a token naming a key the
// keyring does not hold makes it re-read the store.
//
// Each node re-reads its keys every minute, so for up to a minute after one
// node rotates, the others have not seen the new key; a token signed by it
// and presented to another node would be refused. Re-reading the store on
// an unknown "kid" closes that gap. The pace bounds what a stream of tokens
// with made-up key IDs can cost: one read of the signing keys a second.
const UnknownKeyReloadEvery = time.Second

// unknownKeyReload paces the reloads that unknown key IDs trigger.
type unknownKeyReload struct {
	mu   sync.Mutex
	last time.Time
}

// reloadForUnknownKey re-reads the store unless that was done less than
// UnknownKeyReloadEvery ago. Callers that arrive while a reload runs wait
// for it, so they retry with its result.
func (k *Keyring) reloadForUnknownKey() {
	u := &k.unknownKey
	u.mu.Lock()
	defer u.mu.Unlock()
	now := k.cfg.Now()
	if !u.last.IsZero() && now.Sub(u.last) < UnknownKeyReloadEvery && now.Sub(u.last) >= 0 {
		return
	}
	u.last = now
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := k.Reload(ctx); err != nil {
		k.log.Warn("token: reloading signing keys for an unknown key ID failed", "err", err)
	}
}
