package client

import (
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/tokentest"
)

// FuzzVerify feeds Verify valid and forged tokens and mutations of them. It
// must never panic, must fail only with the package's sentinel errors, and
// must never accept claims that lack what Verify promises.
func FuzzVerify(f *testing.F) {
	ed := tokentest.NewKey(f, EdDSA)
	ec := tokentest.NewKey(f, ES256)
	v := NewVerifier(keySetOf(ed, ec), testIssuer, nil, WithClock(func() time.Time { return t0 }))
	for _, key := range []tokentest.Key{ed, ec} {
		valid := key.Sign(f, claimsAt(testIssuer, t0))
		f.Add(valid)
		for _, a := range tokentest.Attacks(f, valid, key.Public(), key.Signer) {
			if len(a.Token) <= 2*MaxTokenSize {
				f.Add(a.Token)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.Verify(raw)
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("Verify(%q) = %v, not a sentinel error", raw, err)
			}
			return
		}
		if c == nil || c.Subject == "" || c.SessionID == "" || c.ExpiresAt.IsZero() || c.Issuer != testIssuer {
			t.Fatalf("Verify(%q) accepted claims %+v", raw, c)
		}
	})
}
