package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/tokentest"
)

// t0 is the time every test starts at.
var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// claimsAt returns the claims of a typical token issued by issuer at now.
func claimsAt(issuer string, now time.Time) Claims {
	return Claims{
		Issuer:    issuer,
		Subject:   "user-1",
		Audience:  []string{issuer},
		ExpiresAt: now.Add(15 * time.Minute),
		IssuedAt:  now,
		NotBefore: now,
		ID:        "jti-1",
		SessionID: "sess-1",
		Roles:     []string{"user"},
		Username:  "ada",
		Email:     "ada@example.com",
	}
}

// feedEntry is a revocation the fake server has recorded.
type feedEntry struct {
	seq   int
	sid   string
	until time.Time
}

// fakeGatehouse serves a JWKS and the revocation feed, like a Gatehouse
// server, and records what it was asked.
type fakeGatehouse struct {
	t   testing.TB
	srv *httptest.Server

	mu          sync.Mutex
	jwks        []byte
	jwksStatus  int
	jwksFetches int
	apiKey      string
	feedStatus  int  // when not 0, the feed answers with it
	forgetAll   bool // answer 410 to any cursor
	feedBody    []byte
	entries     []feedEntry
	seq         int
	sinces      []string // the "since" of each feed request; "-" when absent
	auths       []string // the Authorization header of each feed request
}

func newFakeGatehouse(t testing.TB, keys ...tokentest.Key) *fakeGatehouse {
	t.Helper()
	g := &fakeGatehouse{t: t, jwks: tokentest.JWKS(t, keys...), apiKey: "gh_test"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.jwksFetches++
		if g.jwksStatus != 0 {
			w.WriteHeader(g.jwksStatus)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(g.jwks)
	})
	mux.HandleFunc("GET /api/auth/revocations", g.serveFeed)
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGatehouse) serveFeed(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	since := "-"
	if r.URL.Query().Has("since") {
		since = r.URL.Query().Get("since")
	}
	g.sinces = append(g.sinces, since)
	g.auths = append(g.auths, r.Header.Get("Authorization"))
	switch {
	case r.Header.Get("Authorization") != "Bearer "+g.apiKey:
		w.WriteHeader(http.StatusUnauthorized)
		return
	case g.feedStatus != 0:
		w.WriteHeader(g.feedStatus)
		return
	case g.feedBody != nil:
		w.Write(g.feedBody)
		return
	case g.forgetAll && since != "-":
		w.WriteHeader(http.StatusGone)
		return
	}
	after := 0
	if since != "-" {
		after, _ = strconv.Atoi(since)
	}
	type entry struct {
		SID   string    `json:"sid"`
		Until time.Time `json:"until"`
	}
	resp := struct {
		Revoked []entry `json:"revoked"`
		Cursor  string  `json:"cursor"`
	}{Revoked: []entry{}, Cursor: strconv.Itoa(g.seq)}
	for _, e := range g.entries {
		if e.seq > after {
			resp.Revoked = append(resp.Revoked, entry{e.sid, e.until})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func (g *fakeGatehouse) URL() string { return g.srv.URL }

func (g *fakeGatehouse) setKeys(keys ...tokentest.Key) {
	jwks := tokentest.JWKS(g.t, keys...)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.jwks = jwks
}

func (g *fakeGatehouse) set(f func(g *fakeGatehouse)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f(g)
}

func (g *fakeGatehouse) revoke(sid string, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seq++
	g.entries = append(g.entries, feedEntry{g.seq, sid, until})
}

func (g *fakeGatehouse) fetches() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.jwksFetches
}

// newTestClient returns a Client of g, closed when t ends.
func newTestClient(t testing.TB, g *fakeGatehouse, opts ...Option) *Client {
	t.Helper()
	c, err := New(context.Background(), g.URL(), opts...)
	if err != nil {
		t.Fatalf("New(%q) = %v", g.URL(), err)
	}
	t.Cleanup(c.Close)
	return c
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
