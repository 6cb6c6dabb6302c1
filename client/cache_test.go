package client

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/benchratio"
	"github.com/gatehouse-dev/gatehouse/internal/tokentest"
)

// mutableKeys is a KeySet that a test can change.
type mutableKeys struct {
	mu   sync.Mutex
	keys staticKeys
}

func (m *mutableKeys) Key(kid string) (PublicKey, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.keys.Key(kid)
}

func (m *mutableKeys) set(s staticKeys) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = s
}

// A token verified once is answered from the cache, with the same claims,
// while every check that can change is still made: the clock, and whether
// the key that verified it is still in the set, unchanged.
func TestVerifiedCache(t *testing.T) {
	key := tokentest.NewKey(t, EdDSA)
	keys := &mutableKeys{keys: keySetOf(key)}
	clk := newClock()
	v := NewVerifier(keys, testIssuer, nil, WithClock(clk.Now))
	want := claimsAt(testIssuer, t0)
	raw := key.Sign(t, want)

	for i := range 3 {
		got, err := v.Verify(raw)
		if err != nil {
			t.Fatalf("Verify #%d = %v", i+1, err)
		}
		if d := cmp.Diff(&want, got); d != "" {
			t.Fatalf("Verify #%d claims (-want +got):\n%s", i+1, d)
		}
		got.Roles[0] = "admin" // the caller's copy; the cache keeps its own
	}
	if n := len(v.cache.entries); n != 1 {
		t.Errorf("cache holds %d entries, want 1", n)
	}

	// The same key ID with another key (a replaced key set) is not the key
	// that verified the token: it goes through in full, and fails.
	impostor := tokentest.NewKey(t, EdDSA)
	impostor.ID = key.ID
	keys.set(keySetOf(impostor))
	if _, err := v.Verify(raw); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify after the key was replaced = %v, want ErrSignature", err)
	}
	keys.set(keySetOf(key))
	v.Verify(raw)
	keys.set(staticKeys{})
	if _, err := v.Verify(raw); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Verify after the key left the set = %v, want ErrUnknownKey", err)
	}

	keys.set(keySetOf(key))
	v.Verify(raw)
	clk.Add(15*time.Minute + DefaultLeeway + time.Second)
	if _, err := v.Verify(raw); !errors.Is(err, ErrExpired) {
		t.Errorf("Verify of a cached token past its exp = %v, want ErrExpired", err)
	}
}

// A cached token whose nbf lies ahead is refused as a full check would.
func TestVerifiedCacheNotYetValid(t *testing.T) {
	key := tokentest.NewKey(t, EdDSA)
	clk := newClock()
	v := NewVerifier(keySetOf(key), testIssuer, nil, WithClock(clk.Now))
	c := claimsAt(testIssuer, t0)
	raw := key.Sign(t, c)
	if _, err := v.Verify(raw); err != nil {
		t.Fatal(err)
	}
	clk.Add(-time.Hour) // the clock steps back
	if _, err := v.Verify(raw); !errors.Is(err, ErrNotYetValid) {
		t.Errorf("Verify of a cached token after the clock stepped back an hour = %v, want ErrNotYetValid", err)
	}
}

// The cache stays within its bound however many tokens verify.
func TestVerifiedCacheBounded(t *testing.T) {
	key := tokentest.NewKey(t, EdDSA)
	v := NewVerifier(keySetOf(key), testIssuer, nil, WithClock(func() time.Time { return t0 }))
	c := claimsAt(testIssuer, t0)
	for i := range verifiedCacheSize + 100 {
		c.ID = "jti-" + string(rune('a'+i%26)) + time.Duration(i).String()
		if _, err := v.Verify(key.Sign(t, c)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(v.cache.entries); n > verifiedCacheSize {
		t.Errorf("cache holds %d entries, want at most %d", n, verifiedCacheSize)
	}
}

// BenchmarkVerifyFirstSightRatio is BenchmarkVerifyRatio for a token the
// Verifier has not seen before (a fresh Verifier each time, so the cache is
// empty): the cost of a full verification, which BenchmarkVerifyRatio, now
// answered from the cache after its first round, no longer shows.
func BenchmarkVerifyFirstSightRatio(b *testing.B) {
	key := tokentest.NewKey(b, EdDSA)
	c := claimsAt(testIssuer, time.Now())
	raw := key.Sign(b, c)
	keys := keySetOf(key)
	pub := key.Public().(ed25519.PublicKey)
	dot := strings.LastIndexByte(raw, '.')
	input := []byte(raw[:dot])
	sig, _ := base64.RawURLEncoding.DecodeString(raw[dot+1:])
	benchratio.Compare(b, "client.Verify first sight vs ed25519.Verify",
		func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !ed25519.Verify(pub, input, sig) {
					b.Fatal("ed25519.Verify failed")
				}
			}
		},
		func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NewVerifier(keys, testIssuer, nil).Verify(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
}
