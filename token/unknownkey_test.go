package token_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/client"
	"github.com/gatehouse-dev/gatehouse/token"
)

// countingKeys counts how often a keyring reads its keys.
type countingKeys struct {
	*memStore
	finds atomic.Int32
}

func (c *countingKeys) FindSigningKeys(ctx context.Context, now time.Time) ([]*auth.SigningKey, error) {
	c.finds.Add(1)
	return c.memStore.FindSigningKeys(ctx, now)
}

// Node B verifies a token that node A signed with a key A has just made,
// without waiting for its next scheduled reload.
func TestVerifyReloadsForAKeyAnotherNodeMade(t *testing.T) {
	e := newEnv(token.EdDSA)
	a, b := e.keyring(t), e.keyring(t)
	if err := a.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, _, err := a.Issue(client.Claims{Subject: "u1", SessionID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.Verify(raw)
	if err != nil {
		t.Fatalf("B.Verify(token signed with A's new key) = %v, want it verified after a reload", err)
	}
	if c.Subject != "u1" {
		t.Errorf("Subject = %q, want u1", c.Subject)
	}
	if got, want := activeID(t, b), activeID(t, a); got != want {
		t.Errorf("B's active key after the reload = %s, want A's %s", got, want)
	}
}

// Tokens naming made-up keys make a keyring re-read its store at most once
// per UnknownKeyReloadEvery, and are refused.
func TestUnknownKeyReloadsArePaced(t *testing.T) {
	e := newEnv(token.EdDSA)
	cs := &countingKeys{memStore: e.store}
	k, err := token.NewKeyring(context.Background(), cs, e.sealer, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	other := newEnv(token.EdDSA).keyring(t) // keys k does not hold
	forged, _, err := other.Issue(client.Claims{Subject: "u1", SessionID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	before := cs.finds.Load()
	for range 100 {
		if _, err := k.Verify(forged); !errors.Is(err, client.ErrUnknownKey) {
			t.Fatalf("Verify(token of another keyring) = %v, want ErrUnknownKey", err)
		}
	}
	if n := cs.finds.Load() - before; n != 1 {
		t.Errorf("100 unknown key IDs at one instant: %d store reads, want 1", n)
	}
	e.clock.Add(token.UnknownKeyReloadEvery)
	k.Verify(forged)
	if n := cs.finds.Load() - before; n != 2 {
		t.Errorf("after UnknownKeyReloadEvery: %d store reads in all, want 2", n)
	}
}
