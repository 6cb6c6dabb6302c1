package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/tokentest"
)

// feedClient returns a Client whose feed is only polled when the test calls
// poll (the background interval is an hour).
func feedClient(t *testing.T, g *fakeGatehouse, clk *clock) *Client {
	t.Helper()
	return newTestClient(t, g, WithClock(clk.Now), WithRevocationFeed("gh_test", time.Hour),
		WithRevocationMaxStaleness(2*time.Hour))
}

func TestRevocationFeed(t *testing.T) {
	clk := newClock()
	key := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, key)
	g.revoke("sess-old", t0.Add(10*time.Minute))
	c := feedClient(t, g, clk)
	ctx := context.Background()
	token := func(sid string) string {
		cl := claimsAt(g.URL(), clk.Now())
		cl.SessionID = sid
		return key.Sign(t, cl)
	}

	if _, err := c.Verify(ctx, token("sess-old")); !errors.Is(err, ErrRevoked) {
		t.Errorf("Verify(session revoked before New) = %v, want ErrRevoked", err)
	}
	if _, err := c.Verify(ctx, token("sess-1")); err != nil {
		t.Fatalf("Verify(live session) = %v", err)
	}
	g.revoke("sess-1", clk.Now().Add(15*time.Minute))
	if err := c.poll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(ctx, token("sess-1")); !errors.Is(err, ErrRevoked) {
		t.Errorf("Verify(session revoked since) = %v, want ErrRevoked", err)
	}
	if _, err := c.Verify(ctx, token("sess-2")); err != nil {
		t.Errorf("Verify(other session) = %v, want success", err)
	}

	g.mu.Lock()
	sinces, auths := append([]string(nil), g.sinces...), append([]string(nil), g.auths...)
	g.mu.Unlock()
	if strings.Join(sinces, ",") != "-,1" {
		t.Errorf("since parameters = %q, want none then 1", sinces)
	}
	for _, a := range auths {
		if a != "Bearer gh_test" {
			t.Errorf("Authorization = %q, want Bearer gh_test", a)
		}
	}

	// Entries are forgotten once their tokens have all expired, plus leeway.
	clk.Add(10*time.Minute + DefaultLeeway + time.Second)
	if err := c.poll(ctx); err != nil {
		t.Fatal(err)
	}
	c.rev.mu.RLock()
	_, kept := c.rev.sids["sess-old"]
	_, live := c.rev.sids["sess-1"]
	c.rev.mu.RUnlock()
	if kept || !live {
		t.Errorf("after sess-old's until: kept sess-old = %v, sess-1 = %v; want false, true", kept, live)
	}
}

func TestRevocationFeedIgnoresPastEntries(t *testing.T) {
	clk := newClock()
	key := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, key)
	g.revoke("sess-1", t0.Add(-time.Hour))
	c := feedClient(t, g, clk)
	if n := len(c.rev.sids); n != 0 {
		t.Errorf("entries whose until has passed: kept %d, want 0", n)
	}
}

func TestRevocationFeedLaterUntilWins(t *testing.T) {
	clk := newClock()
	key := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, key)
	g.revoke("sess-1", t0.Add(20*time.Minute))
	g.revoke("sess-1", t0.Add(5*time.Minute))
	c := feedClient(t, g, clk)
	if got := c.rev.sids["sess-1"]; !got.Equal(t0.Add(20 * time.Minute)) {
		t.Errorf("until = %v, want the later one", got)
	}
}

func TestRevocationFeedGone(t *testing.T) {
	clk := newClock()
	key := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, key)
	c := feedClient(t, g, clk)
	g.revoke("sess-1", t0.Add(time.Hour))
	g.set(func(g *fakeGatehouse) { g.forgetAll = true })
	if err := c.poll(context.Background()); err != nil {
		t.Fatalf("poll() after 410 = %v, want a full poll instead", err)
	}
	g.mu.Lock()
	sinces := strings.Join(g.sinces, ",")
	g.mu.Unlock()
	if sinces != "-,0,-" {
		t.Errorf("since parameters = %q, want -,0,- (410, then a full poll)", sinces)
	}
	if _, ok := c.rev.sids["sess-1"]; !ok {
		t.Error("entry from the full poll missing")
	}
}

func TestRevocationFeedBadResponses(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"not JSON", `<html>`},
		{"no cursor", `{"revoked":[]}`},
		{"entry without sid", `{"revoked":[{"until":"2026-06-01T13:00:00Z"}],"cursor":"1"}`},
		{"entry without until", `{"revoked":[{"sid":"s"}],"cursor":"1"}`},
		{"until not RFC 3339", `{"revoked":[{"sid":"s","until":"tomorrow"}],"cursor":"1"}`},
	}
	clk := newClock()
	key := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, key)
	c := feedClient(t, g, clk)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.set(func(g *fakeGatehouse) { g.feedBody = []byte(tt.body) })
			if err := c.poll(context.Background()); err == nil {
				t.Errorf("poll(%s) = nil, want an error", tt.body)
			}
		})
	}
}

func TestRevocationStaleness(t *testing.T) {
	clk := newClock()
	key := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, key)
	c := newTestClient(t, g, WithClock(clk.Now), WithRevocationFeed("gh_test", time.Hour),
		WithRevocationMaxStaleness(2*time.Hour))
	ctx := context.Background()
	tok := func() string { return key.Sign(t, claimsAt(g.URL(), clk.Now())) }

	g.set(func(g *fakeGatehouse) { g.feedStatus = 500 })
	clk.Add(time.Hour)
	if err := c.poll(ctx); err == nil {
		t.Fatal("poll() = nil with the feed failing")
	}
	if _, err := c.Verify(ctx, tok()); err != nil {
		t.Errorf("Verify() within the staleness = %v, want success", err)
	}
	clk.Add(time.Hour + time.Second)
	if _, err := c.Verify(ctx, tok()); !errors.Is(err, ErrRevocationStale) {
		t.Errorf("Verify() past the staleness = %v, want ErrRevocationStale", err)
	}
	g.set(func(g *fakeGatehouse) { g.feedStatus = 0 })
	if err := c.poll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(ctx, tok()); err != nil {
		t.Errorf("Verify() after the feed recovered = %v, want success", err)
	}
}

func TestRevocationBackgroundPolling(t *testing.T) {
	key := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, key)
	c := newTestClient(t, g, WithRevocationFeed("gh_test", 10*time.Millisecond))
	tok := key.Sign(t, claimsAt(g.URL(), time.Now()))
	if _, err := c.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	g.revoke("sess-1", time.Now().Add(time.Hour))
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.Verify(context.Background(), tok)
		if errors.Is(err, ErrRevoked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Verify() = %v 5 s after the revocation, want ErrRevoked", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// After Close, polling stops and the Client fails closed once stale.
	c.Close()
	g.mu.Lock()
	n := len(g.sinces)
	g.mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	g.mu.Lock()
	after := len(g.sinces)
	g.mu.Unlock()
	if after != n {
		t.Errorf("%d polls after Close, want 0", after-n)
	}
}
