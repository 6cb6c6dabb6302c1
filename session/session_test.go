package session_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/session"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func setup(t *testing.T, st store.Store) (*session.Manager, *clock, *auth.User) {
	clk := &clock{now: time.Now().UTC()}
	var logs bytes.Buffer
	m, err := session.New(session.Config{Store: st, IdleTimeout: time.Hour, AbsoluteTimeout: 4 * time.Hour,
		RememberFor: 48 * time.Hour, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	u := &auth.User{Username: "olga", Email: "olga@example.com", Active: true, Roles: []string{"user"}}
	if err := st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return m, clk, u
}

func TestSessionLifecycle(t *testing.T) {
	for _, b := range storetest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st := b.Open(t)
			m, clk, u := setup(t, st)
			secret, s, err := m.Start(ctx, u, session.Options{IP: "10.0.0.1", UserAgent: "curl/8", Method: "password"})
			if err != nil || len(secret) != session.SecretLen {
				t.Fatalf("Start() = %q, %v", secret, err)
			}
			if bytes.Equal(s.TokenHash, []byte(secret)) || bytes.Contains(s.TokenHash, []byte(secret)) {
				t.Fatal("the stored hash holds the secret")
			}
			got, gu, fresh, err := m.Check(ctx, secret)
			if err != nil || got.ID != s.ID || gu.ID != u.ID || fresh != "" {
				t.Fatalf("Check() = %v, %v, %q, %v", got, gu, fresh, err)
			}
			for _, bad := range []string{"", "short", secret[:42] + "x", secret + "x"} {
				if _, _, _, err := m.Check(ctx, bad); err != session.ErrNoSession {
					t.Errorf("Check(%q) = %v, want ErrNoSession", bad, err)
				}
			}
			// Activity within the idle window keeps it alive; last-seen is
			// written in the background.
			clk.Add(50 * time.Minute)
			if _, _, _, err := m.Check(ctx, secret); err != nil {
				t.Fatalf("Check after 50m = %v", err)
			}
			m.Flush()
			stored, _ := st.FindSessionByID(ctx, s.ID)
			if !stored.LastSeenAt.After(s.LastSeenAt) {
				t.Errorf("LastSeenAt not recorded: %v", stored.LastSeenAt)
			}
			clk.Add(50 * time.Minute)
			if _, _, _, err := m.Check(ctx, secret); err != nil {
				t.Fatalf("Check after 100m with activity at 50m = %v", err)
			}
			m.Flush()
			// Idle: over an hour (and the touch slack) with no request.
			clk.Add(62 * time.Minute)
			if _, _, _, err := m.Check(ctx, secret); err != session.ErrNoSession {
				t.Errorf("Check after idling = %v, want ErrNoSession", err)
			}
			if _, err := st.FindSessionByID(ctx, s.ID); !auth.IsNotFound(err) {
				t.Errorf("an idle session was not deleted: %v", err)
			}
		})
	}
}

func TestAbsoluteTimeoutAndRemember(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	m, clk, u := setup(t, st)
	plain, _, _ := m.Start(ctx, u, session.Options{})
	remember, rs, _ := m.Start(ctx, u, session.Options{Remember: true})
	if !m.Expires(rs).Equal(rs.ExpiresAt) || rs.ExpiresAt.Sub(clk.Now()) != 48*time.Hour {
		t.Errorf("remember session expires %v, want in 48h with a persistent cookie", rs.ExpiresAt)
	}
	for i := 0; i < 9; i++ { // active every 30 minutes for 4.5 hours
		clk.Add(30 * time.Minute)
		m.Check(ctx, plain)
		m.Check(ctx, remember)
		m.Flush()
	}
	if _, _, _, err := m.Check(ctx, plain); err != session.ErrNoSession {
		t.Errorf("Check past the absolute timeout = %v, want ErrNoSession", err)
	}
	if _, _, _, err := m.Check(ctx, remember); err != nil {
		t.Errorf("remember-me session after 4.5h = %v, want alive", err)
	}
	// A remember-me session is not subject to the short idle timeout.
	clk.Add(3 * time.Hour)
	if _, _, _, err := m.Check(ctx, remember); err != nil {
		t.Errorf("remember-me session after 3h idle = %v, want alive", err)
	}
	clk.Add(48 * time.Hour)
	if _, _, _, err := m.Check(ctx, remember); err != session.ErrNoSession {
		t.Errorf("remember-me session past its lifetime = %v, want ErrNoSession", err)
	}
}

func TestDisabledUserAndRevocation(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	m, _, u := setup(t, st)
	a, sa, _ := m.Start(ctx, u, session.Options{})
	b, _, _ := m.Start(ctx, u, session.Options{})
	c, _, _ := m.Start(ctx, u, session.Options{})
	if err := m.Revoke(ctx, sa.ID, "logout"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := m.Check(ctx, a); err != session.ErrNoSession {
		t.Errorf("Check(revoked) = %v", err)
	}
	sb, _, _, _ := m.Check(ctx, b)
	ids, err := m.RevokeUser(ctx, u.ID, sb.ID, "password changed")
	if err != nil || len(ids) != 1 {
		t.Errorf("RevokeUser(except b) = %v, %v; want one", ids, err)
	}
	if _, _, _, err := m.Check(ctx, c); err != session.ErrNoSession {
		t.Errorf("Check(c after RevokeUser) = %v", err)
	}
	off := false
	st.UpdateUser(ctx, u.ID, auth.UserUpdate{Active: &off})
	if _, _, _, err := m.Check(ctx, b); err != session.ErrNoSession {
		t.Errorf("Check(disabled user) = %v, want ErrNoSession", err)
	}
	revs, _ := st.FindRevocations(ctx, 0, time.Now(), 10)
	if len(revs) != 3 {
		t.Errorf("revocations = %d, want 3 (logout, password change, disabled)", len(revs))
	}
}

func TestRotationAfterRoleChange(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	m, _, u := setup(t, st)
	old, s, _ := m.Start(ctx, u, session.Options{})
	st.SetUserRoles(ctx, u.ID, []string{"user", "editor"})
	got, gu, fresh, err := m.Check(ctx, old)
	if err != nil || fresh == "" || got.ID != s.ID || !gu.HasRole("editor") {
		t.Fatalf("Check after role change = %v, %q, %v; want a new secret", got, fresh, err)
	}
	if _, _, _, err := m.Check(ctx, old); err != session.ErrNoSession {
		t.Errorf("old secret after rotation = %v, want ErrNoSession", err)
	}
	if _, _, again, err := m.Check(ctx, fresh); err != nil || again != "" {
		t.Errorf("Check(new secret) = %q, %v", again, err)
	}
}

// A failing store never yields a session.
func TestCheckFailsClosed(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	m, _, u := setup(t, st)
	secret, _, _ := m.Start(ctx, u, session.Options{})
	st.Close()
	if s, _, _, err := m.Check(ctx, secret); err == nil || s != nil {
		t.Errorf("Check with the store down = %v, %v; want an error and no session", s, err)
	}
}

func TestDescribeUserAgent(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36":                                   "Chrome 156 on Linux",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1": "Safari on iPhone",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0":                                                        "Firefox 128 on Windows",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0":                   "Edge 120 on Windows",
		"curl/8.5.0": "curl/8.5.0",
		"":           "Unknown device",
	} {
		if got := session.DescribeUserAgent(ua); got != want {
			t.Errorf("DescribeUserAgent(%q) = %q, want %q", ua, got, want)
		}
	}
}
