package ratelimit_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/ratelimit"
)

// RefreshIP and RefreshSession are the two halves of Refresh, on the same
// keys.
func TestRefreshHalves(t *testing.T) {
	ctx := context.Background()
	lim, _ := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	p, err := ratelimit.NewPolicy(ratelimit.PolicyConfig{Limiter: lim, Limits: ratelimit.Limits{
		RefreshPerSession: ratelimit.Per(2, time.Hour), RefreshPerIP: ratelimit.Per(3, time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	if r, _ := p.Refresh(ctx, "s1", ip); !r.Allowed {
		t.Fatal("first Refresh refused")
	}
	if r, _ := p.RefreshSession(ctx, "s1"); !r.Allowed {
		t.Error("RefreshSession after one Refresh refused, want allowed (2 per hour)")
	}
	if r, _ := p.RefreshSession(ctx, "s1"); r.Allowed {
		t.Error("third refresh of a session allowed, want refused: RefreshSession shares Refresh's key")
	}
	if r, _ := p.RefreshIP(ctx, ip); !r.Allowed {
		t.Error("RefreshIP after one Refresh refused, want allowed (3 per hour)")
	}
	p.RefreshIP(ctx, ip)
	if r, _ := p.RefreshIP(ctx, ip); r.Allowed || r.RetryAfterSeconds() < 1 {
		t.Errorf("fourth refresh from one address = %+v, want refused with a wait", r)
	}
}

func TestPolicyPingMemory(t *testing.T) {
	lim, _ := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	p, _ := ratelimit.NewPolicy(ratelimit.PolicyConfig{Limiter: lim})
	if err := p.Ping(context.Background()); err != nil {
		t.Errorf("Ping with a Memory limiter = %v, want nil", err)
	}
}
