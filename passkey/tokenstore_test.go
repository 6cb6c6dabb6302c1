package passkey_test

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/passkey"
	"github.com/gatehouse-dev/gatehouse/store"
)

func TestTokenChallengeStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) store.Store) {
		st := open(t)
		clk := &clock{now: time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)}
		cs := passkey.NewTokenChallengeStore(st, clk.Now)

		if err := cs.Put(ctx, "k1", []byte(`{"kind":"login"}`), time.Minute); err != nil {
			t.Fatalf("Put() = %v", err)
		}
		if data, found, err := cs.Take(ctx, "k1"); err != nil || !found || string(data) != `{"kind":"login"}` {
			t.Errorf("Take() = %q, %v, %v; want the data, found", data, found, err)
		}
		if data, found, err := cs.Take(ctx, "k1"); err != nil || found || data != nil {
			t.Errorf("Take() a second time = %q, %v, %v; want not found", data, found, err)
		}
		if _, found, err := cs.Take(ctx, "never-put"); err != nil || found {
			t.Errorf("Take(unknown key) = %v, %v; want not found", found, err)
		}

		cs.Put(ctx, "k2", []byte("x"), time.Minute)
		clk.Add(time.Minute)
		if _, found, err := cs.Take(ctx, "k2"); err != nil || found {
			t.Errorf("Take() at the ttl = %v, %v; want not found", found, err)
		}

		// Of concurrent Takes of one key, exactly one finds it.
		cs.Put(ctx, "k3", bytes.Repeat([]byte{0xff}, 2000), time.Minute)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				data, found, err := cs.Take(ctx, "k3")
				if err != nil {
					t.Errorf("concurrent Take() = %v", err)
				}
				if found {
					wins.Add(1)
					if len(data) != 2000 {
						t.Errorf("concurrent Take() = %d bytes, want 2000", len(data))
					}
				}
			}()
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Errorf("%d concurrent Takes found the ceremony, want exactly 1", n)
		}
	})
}

// The relying party on the database store: the same ceremonies work, and
// a ceremony begun on one node finishes on another.
func TestCeremoniesInDatabase(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) store.Store) {
		var st store.Store
		shared := func(tb testing.TB) store.Store { st = open(tb); return st }
		e := newEnv(t, shared, func(c *passkey.Config) { c.Challenges = passkey.NewTokenChallengeStore(st, c.Now) })
		other, err := passkey.New(passkey.Config{RPID: rpID, Origins: []string{origin}, Store: st, Now: e.clock.Now,
			Challenges: passkey.NewTokenChallengeStore(st, e.clock.Now)})
		if err != nil {
			t.Fatal(err)
		}
		alice := e.user("alice")
		a := synced()
		e.register(alice, a)

		options, id, err := e.rp.BeginLogin(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := a.Get(options)
		if u, _, err := other.FinishLogin(ctx, id, body, passkey.StoreLookup(ctx, st)); err != nil || u.ID != alice.ID {
			t.Fatalf("FinishLogin() on another node = %v, %v; want alice", u, err)
		}
		if _, _, err := e.finishLogin(id, body); !errors.Is(err, passkey.ErrCeremony) {
			t.Errorf("FinishLogin() replayed = %v, want ErrCeremony", err)
		}

		id, body = e.beginLogin(nil, a)
		e.clock.Add(passkey.MaxTimeout)
		if _, _, err := e.finishLogin(id, body); !errors.Is(err, passkey.ErrCeremony) {
			t.Errorf("FinishLogin() after %v = %v, want ErrCeremony", passkey.MaxTimeout, err)
		}
	})
}
