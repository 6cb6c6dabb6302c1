package session_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/session"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// countingStore counts the calls a Manager makes, by kind.
type countingStore struct {
	session.Store
	reads, writes atomic.Int32
}

func (c *countingStore) FindSessionByToken(ctx context.Context, h []byte) (*auth.Session, *auth.User, error) {
	c.reads.Add(1)
	return c.Store.FindSessionByToken(ctx, h)
}
func (c *countingStore) TouchSession(ctx context.Context, id string, t time.Time) error {
	c.writes.Add(1)
	return c.Store.TouchSession(ctx, id, t)
}
func (c *countingStore) RotateSession(ctx context.Context, id string, h []byte) error {
	c.writes.Add(1)
	return c.Store.RotateSession(ctx, id, h)
}
func (c *countingStore) RevokeSession(ctx context.Context, id string, until time.Time) error {
	c.writes.Add(1)
	return c.Store.RevokeSession(ctx, id, until)
}

// Checking a session is one indexed read per request and no write; the
// last-seen time is written at most once a minute, off the request path.
func TestCheckDoesOneReadAndNoWrites(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	u := &auth.User{Username: "pat", Email: "pat@example.com", Active: true}
	st.CreateUser(ctx, u)
	cs := &countingStore{Store: st}
	clk := &clock{now: time.Now()}
	m, err := session.New(session.Config{Store: cs, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	secret, _, _ := m.Start(ctx, u, session.Options{})
	for i := 0; i < 100; i++ {
		if _, _, _, err := m.Check(ctx, secret); err != nil {
			t.Fatal(err)
		}
		clk.Add(100 * time.Millisecond) // 10 s in all
	}
	m.Flush()
	if r, w := cs.reads.Load(), cs.writes.Load(); r != 100 || w != 0 {
		t.Errorf("100 checks within 10 s: %d reads, %d writes; want 100 and 0", r, w)
	}
	// After a minute, the next checks queue one touch between them.
	clk.Add(time.Minute)
	for i := 0; i < 20; i++ {
		m.Check(ctx, secret)
	}
	m.Flush()
	if w := cs.writes.Load(); w != 1 {
		t.Errorf("20 checks a minute later: %d writes, want exactly 1 touch", w)
	}
}
