package gatehouse

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// The hourly retention work removes expired one-time tokens (passkey
// ceremonies among them) by the instance's clock, keeps live ones, and logs
// how many went.
func TestPurgeRemovesExpiredTokens(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.DatabaseURL = "sqlite://" + dir + "/gatehouse.db"
	cfg.DataDir = dir
	now := time.Now()
	var logs lockedBuffer // the mail worker may log at the same time
	g, err := New(cfg, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))), WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	ctx := context.Background()
	tokens := []struct {
		hash    string
		expires time.Time
	}{
		{"ceremony-1", now.Add(-time.Minute)},
		{"ceremony-2", now},
		{"live", now.Add(time.Minute)},
	}
	for _, tc := range tokens {
		err := g.Store().CreateToken(ctx, &auth.OneTimeToken{Hash: []byte(tc.hash), Purpose: auth.PurposeWebAuthn,
			CreatedAt: now.Add(-5 * time.Minute), ExpiresAt: tc.expires})
		if err != nil {
			t.Fatal(err)
		}
	}

	g.purge(ctx, ctx)

	if !strings.Contains(logs.String(), `msg="purged expired one-time tokens" count=2`) {
		t.Errorf("logs after purge = %q, want the count of purged tokens, 2", logs.String())
	}
	if _, err := g.Store().FindToken(ctx, auth.PurposeWebAuthn, []byte("live"), now); err != nil {
		t.Errorf("FindToken(live) after purge = %v, want the token", err)
	}
	if n, err := g.Store().DeleteExpiredTokens(ctx, now); err != nil || n != 0 {
		t.Errorf("DeleteExpiredTokens() after purge = %d, %v; want 0 left", n, err)
	}
}

// lockedBuffer is a bytes.Buffer that goroutines may share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
