package client

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/tokentest"
)

func TestNewRefuses(t *testing.T) {
	key := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, key)
	tests := []struct {
		name   string
		issuer string
		setup  func(*fakeGatehouse)
		opts   []Option
	}{
		{"relative URL", "/auth", nil, nil},
		{"ftp URL", "ftp://auth.example.com", nil, nil},
		{"URL with query", g.URL() + "?x=1", nil, nil},
		{"URL with user", "https://u:p@auth.example.com", nil, nil},
		{"JWKS unavailable", "", func(g *fakeGatehouse) { g.jwksStatus = 503 }, nil},
		{"JWKS without usable keys", "", func(g *fakeGatehouse) { g.jwks = []byte(`{"keys":[]}`) }, nil},
		{"JWKS with a private key", "", func(g *fakeGatehouse) {
			g.jwks = []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`)
		}, nil},
		{"feed refuses the API key", "", nil, []Option{WithRevocationFeed("wrong", 0)}},
		{"feed without API key", "", nil, []Option{WithRevocationFeed("", 0)}},
		{"feed failing", "", func(g *fakeGatehouse) { g.feedStatus = 500 }, []Option{WithRevocationFeed("gh_test", 0)}},
		{"staleness not above interval", "", nil, []Option{WithRevocationFeed("gh_test", time.Minute)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.set(func(g *fakeGatehouse) {
				g.jwks, g.jwksStatus, g.feedStatus = tokentest.JWKS(t, key), 0, 0
			})
			if tt.setup != nil {
				g.set(tt.setup)
			}
			issuer := tt.issuer
			if issuer == "" {
				issuer = g.URL()
			}
			c, err := New(context.Background(), issuer, tt.opts...)
			if err == nil {
				c.Close()
				t.Fatalf("New(%q) = nil error, want one", issuer)
			}
		})
	}
}

func TestClientVerify(t *testing.T) {
	key := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, key)
	c := newTestClient(t, g)
	claims, err := c.Verify(context.Background(), key.Sign(t, claimsAt(g.URL(), time.Now())))
	if err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if claims.Subject != "user-1" || claims.SessionID != "sess-1" {
		t.Errorf("Verify() = %+v, want user-1 in sess-1", claims)
	}
	// The issuer URL is compared exactly.
	if _, err := c.Verify(context.Background(), key.Sign(t, claimsAt(g.URL()+"/", time.Now()))); !errors.Is(err, ErrIssuer) {
		t.Errorf("Verify(iss with a trailing slash) = %v, want ErrIssuer", err)
	}
}

func TestClientAudience(t *testing.T) {
	key := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, key)
	c := newTestClient(t, g, WithAudience("https://api.example.com"))
	cl := claimsAt(g.URL(), time.Now())
	if _, err := c.Verify(context.Background(), key.Sign(t, cl)); !errors.Is(err, ErrAudience) {
		t.Errorf("Verify(aud = issuer) = %v, want ErrAudience", err)
	}
	cl.Audience = []string{"https://api.example.com"}
	if _, err := c.Verify(context.Background(), key.Sign(t, cl)); err != nil {
		t.Errorf("Verify(aud = api) = %v, want success", err)
	}
}

func TestClientFollowsRotation(t *testing.T) {
	clk := newClock()
	old := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, old)
	c := newTestClient(t, g, WithClock(clk.Now))
	next := tokentest.NewKey(t, ES256)
	tok := next.Sign(t, claimsAt(g.URL(), clk.Now()))
	if _, err := c.Verify(context.Background(), tok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify(token of an unpublished key) = %v, want ErrUnknownKey", err)
	}

	// Gatehouse rotates: the new key appears, but the last refetch was
	// just now, so the Client waits before fetching again.
	g.setKeys(next, old)
	if _, err := c.Verify(context.Background(), tok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify() within 30 s of the last refetch = %v, want ErrUnknownKey", err)
	}
	clk.Add(31 * time.Second)
	tok = next.Sign(t, claimsAt(g.URL(), clk.Now()))
	if _, err := c.Verify(context.Background(), tok); err != nil {
		t.Fatalf("Verify() after rotation = %v", err)
	}
	if _, err := c.Verify(context.Background(), old.Sign(t, claimsAt(g.URL(), clk.Now()))); err != nil {
		t.Fatalf("Verify(token of the old key) = %v", err)
	}
}

func TestClientRefetchIsRateLimited(t *testing.T) {
	clk := newClock()
	key := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, key)
	c := newTestClient(t, g, WithClock(clk.Now))
	before := g.fetches()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			stranger := tokentest.NewKey(t, EdDSA)
			if _, err := c.Verify(context.Background(), stranger.Sign(t, claimsAt(g.URL(), clk.Now()))); !errors.Is(err, ErrUnknownKey) {
				t.Errorf("Verify(unknown kid) = %v, want ErrUnknownKey", err)
			}
		})
	}
	wg.Wait()
	if n := g.fetches() - before; n != 1 {
		t.Errorf("50 tokens with unknown kids caused %d JWKS fetches, want 1", n)
	}
	clk.Add(31 * time.Second)
	stranger := tokentest.NewKey(t, EdDSA)
	c.Verify(context.Background(), stranger.Sign(t, claimsAt(g.URL(), clk.Now())))
	if n := g.fetches() - before; n != 2 {
		t.Errorf("after 31 s: %d JWKS fetches, want 2", n)
	}
}

func TestClientKeepsKeysWhileServerIsDown(t *testing.T) {
	clk := newClock()
	key := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, key)
	c := newTestClient(t, g, WithClock(clk.Now))
	g.set(func(g *fakeGatehouse) { g.jwksStatus = http.StatusBadGateway })
	if err := c.fetchKeys(context.Background()); err == nil {
		t.Fatal("fetchKeys() with the server down = nil, want an error")
	}
	clk.Add(time.Minute)
	c.Verify(context.Background(), tokentest.NewKey(t, EdDSA).Sign(t, claimsAt(g.URL(), clk.Now()))) // a failed refetch
	if _, err := c.Verify(context.Background(), key.Sign(t, claimsAt(g.URL(), clk.Now()))); err != nil {
		t.Errorf("Verify() with the server down = %v, want success on cached keys", err)
	}
	// A JWKS with no usable key is treated as a failure too.
	g.set(func(g *fakeGatehouse) { g.jwksStatus, g.jwks = 0, []byte(`{"keys":[]}`) })
	if err := c.fetchKeys(context.Background()); err == nil {
		t.Error("fetchKeys() of an empty set = nil, want an error")
	}
	if _, err := c.Verify(context.Background(), key.Sign(t, claimsAt(g.URL(), clk.Now()))); err != nil {
		t.Errorf("Verify() after an empty JWKS = %v, want success on cached keys", err)
	}
}

func TestClientDropsUnpublishedKeys(t *testing.T) {
	old, next := tokentest.NewKey(t, EdDSA), tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, next, old)
	c := newTestClient(t, g)
	g.setKeys(next)
	if err := c.fetchKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(context.Background(), old.Sign(t, claimsAt(g.URL(), time.Now()))); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Verify(token of a key no longer published) = %v, want ErrUnknownKey", err)
	}
}

func TestClientConcurrentUse(t *testing.T) {
	key := tokentest.NewKey(t, EdDSA)
	g := newFakeGatehouse(t, key)
	c := newTestClient(t, g, WithRevocationFeed("gh_test", 5*time.Millisecond), WithRevocationMaxStaleness(time.Minute))
	tok := key.Sign(t, claimsAt(g.URL(), time.Now()))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := c.Verify(context.Background(), tok); err != nil {
					t.Errorf("Verify() = %v", err)
					return
				}
				if i == 0 {
					c.fetchKeys(context.Background())
				}
			}
		})
	}
	wg.Wait()
	c.Close()
	c.Close() // idempotent
}
