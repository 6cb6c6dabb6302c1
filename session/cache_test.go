package session_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/session"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// recordingBus is a session.Bus that keeps what is published.
type recordingBus struct {
	mu  sync.Mutex
	got []session.Invalidation
}

func (b *recordingBus) Publish(_ context.Context, inv session.Invalidation) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = append(b.got, inv)
	return nil
}

func (b *recordingBus) published() []session.Invalidation {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]session.Invalidation(nil), b.got...)
}

func cachedManager(t *testing.T, bus session.Bus) (*session.Manager, *countingStore, *auth.User) {
	t.Helper()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	u := &auth.User{Username: "cora", Email: "cora@example.com", Active: true, Roles: []string{"user"}}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: st}
	m, err := session.New(session.Config{Store: cs, CacheTTL: time.Minute, Bus: bus})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, cs, u
}

func TestCacheAnswersRepeatedChecks(t *testing.T) {
	ctx := context.Background()
	m, cs, u := cachedManager(t, nil)
	secret, _, err := m.Start(ctx, u, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		s, got, _, err := m.Check(ctx, secret)
		if err != nil || got.ID != u.ID || s.UserID != u.ID {
			t.Fatalf("Check = %v, %v; want the session of %s", got, err, u.ID)
		}
		got.Roles[0] = "changed by the caller" // must not reach the cache
	}
	if r := cs.reads.Load(); r != 1 {
		t.Errorf("50 checks of one session with a cache: %d reads, want 1", r)
	}
	_, got, _, _ := m.Check(ctx, secret)
	if got.Roles[0] != "user" {
		t.Errorf("cached user's roles = %v, want [user]: the cache must hand out copies", got.Roles)
	}
}

// Ending a session through the Manager drops it from the cache at once and
// tells the other nodes; the next check reads the store and refuses it.
func TestCacheDropsEndedSessions(t *testing.T) {
	ctx := context.Background()
	bus := &recordingBus{}
	m, _, u := cachedManager(t, bus)
	m.CacheValidUntil(time.Now().Add(time.Hour)) // the bus is listening

	one, s1, _ := m.Start(ctx, u, session.Options{})
	two, _, _ := m.Start(ctx, u, session.Options{})
	for _, secret := range []string{one, two} {
		if _, _, _, err := m.Check(ctx, secret); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Revoke(ctx, s1.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := m.Check(ctx, one); err != session.ErrNoSession {
		t.Errorf("Check after Revoke = %v, want ErrNoSession", err)
	}
	if _, _, err := m.CheckID(ctx, s1.ID); err != session.ErrNoSession {
		t.Errorf("CheckID after Revoke = %v, want ErrNoSession", err)
	}
	if _, err := m.RevokeUser(ctx, u.ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := m.Check(ctx, two); err != session.ErrNoSession {
		t.Errorf("Check after RevokeUser = %v, want ErrNoSession", err)
	}
	pub := bus.published()
	if len(pub) != 2 || len(pub[0].SessionIDs) != 1 || pub[0].SessionIDs[0] != s1.ID || pub[1].UserID != u.ID {
		t.Errorf("published %+v, want the revoked session, then the user", pub)
	}
}

// A session the store ended by itself (a refresh token's reuse ends its
// session in the same transaction) stays in the cache until Ended says so;
// then it is dropped here and on the other nodes.
func TestCacheDropsSessionsTheStoreEnded(t *testing.T) {
	ctx := context.Background()
	bus := &recordingBus{}
	m, cs, u := cachedManager(t, bus)
	m.CacheValidUntil(time.Now().Add(time.Hour))
	secret, s, _ := m.Start(ctx, u, session.Options{})
	if _, _, _, err := m.Check(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if err := cs.RevokeSession(ctx, s.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	m.Ended(ctx, s.ID, "refresh token reused")
	if _, _, _, err := m.Check(ctx, secret); err != session.ErrNoSession {
		t.Errorf("Check after Ended = %v, want ErrNoSession", err)
	}
	if pub := bus.published(); len(pub) != 1 || len(pub[0].SessionIDs) != 1 || pub[0].SessionIDs[0] != s.ID {
		t.Errorf("published %+v, want the ended session", pub)
	}
}

// What another node publishes (Forget) drops entries here.
func TestCacheForgetsWhatOtherNodesEnd(t *testing.T) {
	ctx := context.Background()
	m, cs, u := cachedManager(t, &recordingBus{})
	m.CacheValidUntil(time.Now().Add(time.Hour))
	secret, s, _ := m.Start(ctx, u, session.Options{})
	m.Check(ctx, secret)
	m.Check(ctx, secret)
	if r := cs.reads.Load(); r != 1 {
		t.Fatalf("reads = %d, want 1", r)
	}
	m.Forget(session.Invalidation{SessionIDs: []string{s.ID}})
	m.Check(ctx, secret)
	if r := cs.reads.Load(); r != 2 {
		t.Errorf("reads after Forget = %d, want 2", r)
	}
	m.Forget(session.Invalidation{UserID: u.ID})
	m.Check(ctx, secret)
	m.Forget(session.Invalidation{All: true})
	m.Check(ctx, secret)
	if r := cs.reads.Load(); r != 4 {
		t.Errorf("reads after forgetting the user, then all = %d, want 4", r)
	}
}

// With a bus, the cache serves only while the bus vouches for delivery: not
// before the first heartbeat, and not after the subscription is lost.
func TestCacheNeedsTheBus(t *testing.T) {
	ctx := context.Background()
	m, cs, u := cachedManager(t, &recordingBus{})
	secret, _, _ := m.Start(ctx, u, session.Options{})
	for range 3 {
		m.Check(ctx, secret)
	}
	if r := cs.reads.Load(); r != 3 {
		t.Errorf("checks before the bus vouches: %d reads, want 3", r)
	}
	m.CacheValidUntil(time.Now().Add(time.Hour))
	for range 3 {
		m.Check(ctx, secret)
	}
	if r := cs.reads.Load(); r != 4 {
		t.Errorf("checks while the bus vouches: %d reads in all, want 4", r)
	}
	m.CacheValidUntil(time.Time{}) // subscription lost
	for range 3 {
		m.Check(ctx, secret)
	}
	if r := cs.reads.Load(); r != 7 {
		t.Errorf("checks after the subscription is lost: %d reads in all, want 7", r)
	}
}

// A revocation that happens while a check is reading the store must not be
// undone when that read's (stale) answer is cached.
func TestCacheRefusesReadsOvertakenByInvalidation(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	u := &auth.User{Username: "race", Email: "race@example.com", Active: true}
	st.CreateUser(ctx, u)
	slow := &slowStore{countingStore: countingStore{Store: st}, reading: make(chan struct{}), proceed: make(chan struct{})}
	m, err := session.New(session.Config{Store: slow, CacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	secret, s, _ := m.Start(ctx, u, session.Options{})
	slow.block.Store(true)
	done := make(chan error, 1)
	go func() { _, _, _, err := m.Check(ctx, secret); done <- err }()
	<-slow.reading // the check has read the live session
	slow.block.Store(false)
	if err := m.Revoke(ctx, s.ID, "test"); err != nil {
		t.Fatal(err)
	}
	close(slow.proceed)
	<-done
	if _, _, _, err := m.Check(ctx, secret); err != session.ErrNoSession {
		t.Errorf("Check after a revocation that overtook a read = %v, want ErrNoSession", err)
	}
}

// slowStore holds a session read, once it has read, until told to go on.
type slowStore struct {
	countingStore
	block   atomic.Bool
	reading chan struct{}
	proceed chan struct{}
}

func (s *slowStore) FindSessionByToken(ctx context.Context, h []byte) (*auth.Session, *auth.User, error) {
	sess, u, err := s.countingStore.FindSessionByToken(ctx, h)
	if s.block.Load() {
		close(s.reading)
		<-s.proceed
	}
	return sess, u, err
}
