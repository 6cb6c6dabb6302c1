package ratelimit

import (
	"context"
	"net/netip"
)

// RefreshIP counts a token refresh from ip against RefreshPerIP: the half of
// [Policy.Refresh] that can be checked before the presented refresh token
// is looked up. A refresh token is spent as it is looked up, so a limit
// checked only afterwards would leave the client with neither its old token
// nor a new one; the web layer checks this one first, and
// [Policy.RefreshSession] once the rotation has named the session.
func (p *Policy) RefreshIP(ctx context.Context, ip netip.Addr) (Result, error) {
	k, err := p.ip(ip)
	if err != nil {
		return Result{}, err
	}
	return p.limiter.Allow(ctx, p.hashed("refresh-ip", k), p.limits.RefreshPerIP)
}

// RefreshSession counts a token refresh of session against
// RefreshPerSession: the other half of [Policy.Refresh]. It shares
// Refresh's keys, so the two may be mixed.
func (p *Policy) RefreshSession(ctx context.Context, session string) (Result, error) {
	return p.limiter.Allow(ctx, p.hashed("refresh-session", session), p.limits.RefreshPerSession)
}

// Ping reports whether the policy's limiter answers, for readiness checks:
// for a [Redis] limiter whether Redis does ([Redis.Ping]); a [Memory]
// limiter always answers.
func (p *Policy) Ping(ctx context.Context) error {
	if pinger, ok := p.limiter.(interface{ Ping(context.Context) error }); ok {
		return pinger.Ping(ctx)
	}
	return nil
}
