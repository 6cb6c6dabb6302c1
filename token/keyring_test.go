package token_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/client"
	"github.com/gatehouse-dev/gatehouse/internal/tokentest"
	"github.com/gatehouse-dev/gatehouse/token"
	"github.com/google/go-cmp/cmp"
)

var userClaims = client.Claims{
	Subject:   "user-1",
	SessionID: "sess-1",
	Roles:     []string{"user"},
	Username:  "ada",
	Email:     "ada@example.com",
}

func TestNewKeyringConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  token.Config
		ok   bool
	}{
		{"defaults", token.Config{Issuer: issuer}, true},
		{"ES256", token.Config{Issuer: issuer, Algorithm: token.ES256}, true},
		{"no issuer", token.Config{}, false},
		{"RS256", token.Config{Issuer: issuer, Algorithm: "RS256"}, false},
		{"HS256", token.Config{Issuer: issuer, Algorithm: "HS256"}, false},
		{"negative TTL", token.Config{Issuer: issuer, AccessTTL: -time.Minute}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := token.NewKeyring(context.Background(), newMemStore(), newSealer(), tt.cfg)
			if (err == nil) != tt.ok {
				t.Errorf("NewKeyring(%+v) = %v, want ok = %v", tt.cfg, err, tt.ok)
			}
		})
	}
}

func TestNewKeyringCreatesFirstKey(t *testing.T) {
	for _, alg := range []string{token.EdDSA, token.ES256} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(alg)
			k := e.keyring(t)
			keys := k.Keys()
			if len(keys) != 1 || !keys[0].Active || keys[0].Algorithm != alg || !keys[0].CreatedAt.Equal(t0) {
				t.Fatalf("Keys() = %+v, want one active %s key created at t0", keys, alg)
			}
			kid := keys[0].ID
			if !regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`).MatchString(kid) {
				t.Errorf("key ID %q is not 22 base64url characters", kid)
			}
			sk := e.store.get(kid)
			if _, err := e.sealer.Open(sk.Sealed, []byte("another-id")); err == nil {
				t.Error("the sealed key opens under another key ID")
			}
			if e.privateKey(t, kid) == nil {
				t.Error("the sealed key is not PKCS#8")
			}
			// A second keyring on the same store uses the same key.
			if got := activeID(t, e.keyring(t)); got != kid {
				t.Errorf("second keyring's active key = %s, want %s", got, kid)
			}
			if n := len(e.store.keys); n != 1 {
				t.Errorf("store holds %d keys, want 1", n)
			}
		})
	}
}

func TestKeyIDsAreUnique(t *testing.T) {
	e := newEnv(token.EdDSA)
	k := e.keyring(t)
	seen := map[string]bool{}
	for range 20 {
		if err := k.Rotate(context.Background()); err != nil {
			t.Fatal(err)
		}
		id := activeID(t, k)
		if seen[id] {
			t.Fatalf("key ID %s repeated", id)
		}
		seen[id] = true
	}
}

func TestIssueVerify(t *testing.T) {
	for _, alg := range []string{token.EdDSA, token.ES256} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(alg)
			e.clock.now = t0.Add(500 * time.Millisecond)
			k := e.keyring(t)
			in := userClaims
			in.Issuer, in.ID = "https://evil.example", "chosen" // replaced by Issue
			in.Permissions = []string{"notes:read"}
			raw, exp, err := k.Issue(in)
			if err != nil {
				t.Fatalf("Issue() = %v", err)
			}
			if want := t0.Add(15 * time.Minute); !exp.Equal(want) {
				t.Errorf("Issue() exp = %v, want %v", exp, want)
			}
			var header map[string]any
			seg, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
			json.Unmarshal(seg, &header)
			if d := cmp.Diff(map[string]any{"alg": alg, "kid": activeID(t, k), "typ": "at+jwt"}, header); d != "" {
				t.Errorf("header (-want +got):\n%s", d)
			}
			got, err := k.Verify(raw)
			if err != nil {
				t.Fatalf("Verify() = %v", err)
			}
			if len(got.ID) != 22 || got.ID == "chosen" {
				t.Errorf("jti = %q, want 22 random characters", got.ID)
			}
			want := userClaims
			want.Issuer, want.Audience, want.ID = issuer, []string{issuer}, got.ID
			want.IssuedAt, want.NotBefore, want.ExpiresAt = t0, t0, t0.Add(15*time.Minute)
			want.Permissions = []string{"notes:read"}
			if d := cmp.Diff(&want, got); d != "" {
				t.Errorf("Verify() claims (-want +got):\n%s", d)
			}

			// A backend verifying with the published JWKS agrees.
			set, err := client.ParseJWKS(k.JWKS())
			if err != nil {
				t.Fatal(err)
			}
			v := client.NewVerifier(set, issuer, nil, client.WithClock(e.clock.Now))
			if _, err := v.Verify(raw); err != nil {
				t.Errorf("client.Verifier over JWKS(): Verify() = %v", err)
			}

			// Token IDs differ.
			raw2, _, _ := k.Issue(userClaims)
			if c2, _ := k.Verify(raw2); c2 == nil || c2.ID == got.ID {
				t.Error("two tokens share a jti")
			}
		})
	}
}

func TestIssueConfig(t *testing.T) {
	e := newEnv(token.EdDSA)
	e.cfg.Audience = []string{"https://api.example.com", "https://other.example.com"}
	e.cfg.AccessTTL = 5 * time.Minute
	k := e.keyring(t)
	raw, exp, err := k.Issue(userClaims)
	if err != nil {
		t.Fatal(err)
	}
	c, err := k.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(t0.Add(5*time.Minute)) || !cmp.Equal(c.Audience, e.cfg.Audience) {
		t.Errorf("Issue() exp %v, aud %q; want t0+5m and %q", exp, c.Audience, e.cfg.Audience)
	}
}

func TestIssueRequires(t *testing.T) {
	k := newEnv(token.EdDSA).keyring(t)
	for _, c := range []client.Claims{{SessionID: "s"}, {Subject: "u"}} {
		if _, _, err := k.Issue(c); err == nil {
			t.Errorf("Issue(%+v) = nil error, want one", c)
		}
	}
}

func TestJWKS(t *testing.T) {
	e := newEnv(token.EdDSA)
	e.cfg.Algorithm = token.EdDSA
	k := e.keyring(t)
	e.cfg.Algorithm = token.ES256
	k2 := e.keyring(t)
	if err := k2.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(k2.JWKS(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != 2 {
		t.Fatalf("JWKS() has %d keys, want 2: %s", len(doc.Keys), k2.JWKS())
	}
	want := map[string][]string{
		"ES256": {"alg", "crv", "kid", "kty", "use", "x", "y"},
		"EdDSA": {"alg", "crv", "kid", "kty", "use", "x"},
	}
	for _, key := range doc.Keys {
		var names []string
		for n := range key {
			names = append(names, n)
		}
		alg, _ := key["alg"].(string)
		if d := cmp.Diff(want[alg], names, sortStrings); d != "" {
			t.Errorf("%s key members (-want +got):\n%s", alg, d)
		}
		if key["use"] != "sig" {
			t.Errorf("use = %v, want sig", key["use"])
		}
	}
	if doc.Keys[0]["alg"] != "ES256" {
		t.Errorf("first key is %v, want the active ES256 key", doc.Keys[0]["alg"])
	}
	// The first keyring sees the rotation on Reload.
	if err := k.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if string(k.JWKS()) != string(k2.JWKS()) {
		t.Errorf("JWKS() after Reload differs:\n%s\n%s", k.JWKS(), k2.JWKS())
	}
}

var sortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestRotate(t *testing.T) {
	e := newEnv(token.EdDSA)
	k := e.keyring(t)
	old := activeID(t, k)
	before, _, _ := k.Issue(userClaims) // expires at t0+15m

	e.clock.Add(5 * time.Minute)
	rotatedAt := e.clock.Now()
	if err := k.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	next := activeID(t, k)
	after, _, _ := k.Issue(userClaims)
	if next == old {
		t.Fatal("Rotate() kept the active key")
	}
	keys := k.Keys()
	wantUntil := rotatedAt.Add(15*time.Minute + client.MaxLeeway)
	if len(keys) != 2 || keys[0].ID != next || keys[1].ID != old || keys[1].Active ||
		!keys[1].RetiredAt.Equal(rotatedAt) || !keys[1].PublishUntil.Equal(wantUntil) {
		t.Fatalf("Keys() = %+v, want %s active and %s retired until %v", keys, next, old, wantUntil)
	}

	// Both tokens are good until they expire.
	e.clock.now = t0.Add(14 * time.Minute)
	for _, tok := range []string{before, after} {
		if _, err := k.Verify(tok); err != nil {
			t.Errorf("Verify() after the rotation = %v", err)
		}
	}
	// The retired key stays published for the token lifetime plus the
	// leeway, and is dropped then without a Reload.
	e.clock.now = wantUntil.Add(-time.Second)
	if !strings.Contains(string(k.JWKS()), old) {
		t.Errorf("JWKS() no longer publishes %s before its time", old)
	}
	e.clock.now = wantUntil
	if _, err := k.Verify(before); !errors.Is(err, client.ErrUnknownKey) {
		t.Errorf("Verify(token of a key past its publication) = %v, want ErrUnknownKey", err)
	}
	if ks := k.Keys(); len(ks) != 1 || ks[0].ID != next {
		t.Errorf("Keys() past the publication = %+v, want only %s", ks, next)
	}
	if strings.Contains(string(k.JWKS()), old) {
		t.Errorf("JWKS() still publishes %s", old)
	}
}

func TestReloadRotatesByAge(t *testing.T) {
	tests := []struct {
		name        string
		rotateEvery time.Duration
		age         time.Duration
		wantRotated bool
	}{
		{"default, younger", 0, 719 * time.Hour, false},
		{"default, old enough", 0, 720 * time.Hour, true},
		{"daily", 24 * time.Hour, 25 * time.Hour, true},
		{"never", -1, 10000 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(token.EdDSA)
			e.cfg.RotateEvery = tt.rotateEvery
			k := e.keyring(t)
			old := activeID(t, k)
			e.clock.Add(tt.age)
			if err := k.Reload(context.Background()); err != nil {
				t.Fatal(err)
			}
			if rotated := activeID(t, k) != old; rotated != tt.wantRotated {
				t.Errorf("rotated = %v, want %v", rotated, tt.wantRotated)
			}
		})
	}
}

// TestConcurrentRotation runs rotations on several nodes sharing a store:
// they must end up agreeing on one active key, with every other key retired.
func TestConcurrentRotation(t *testing.T) {
	e := newEnv(token.EdDSA)
	nodes := make([]*token.Keyring, 6)
	for i := range nodes {
		nodes[i] = e.keyring(t)
	}
	e.clock.Add(721 * time.Hour) // every node wants to rotate by age
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				err = n.Rotate(context.Background())
			} else {
				err = n.Reload(context.Background())
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, n := range nodes {
		if err := n.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	want := activeID(t, nodes[0])
	for i, n := range nodes {
		if got := activeID(t, n); got != want {
			t.Errorf("node %d: active key %s, want %s", i, got, want)
		}
	}
	if u := e.store.unretired(); len(u) != 1 || u[0] != want {
		t.Errorf("unretired keys %q, want only %s", u, want)
	}
	// A second round of reloads changes nothing.
	for _, n := range nodes {
		n.Reload(context.Background())
		if got := activeID(t, n); got != want {
			t.Errorf("after another Reload: active key %s, want %s", got, want)
		}
	}
}

func TestSealedKeyBoundToID(t *testing.T) {
	e := newEnv(token.EdDSA)
	k := e.keyring(t)
	a := activeID(t, k)
	e.clock.Add(time.Second)
	if err := k.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := activeID(t, k)
	// Move a's sealed private key into b's record.
	e.store.mu.Lock()
	e.store.keys[b].Sealed = e.store.keys[a].Sealed
	e.store.mu.Unlock()
	if _, err := token.NewKeyring(context.Background(), e.store, e.sealer, e.cfg); err == nil {
		t.Error("NewKeyring() with a sealed key moved to another record = nil error, want one")
	}
}

func TestWrongMasterSecret(t *testing.T) {
	e := newEnv(token.EdDSA)
	e.keyring(t)
	if _, err := token.NewKeyring(context.Background(), e.store, newSealer(), e.cfg); err == nil {
		t.Error("NewKeyring() with another sealer = nil error, want one")
	}
	if n := len(e.store.keys); n != 1 {
		t.Errorf("store holds %d keys, want 1 (no replacement key made)", n)
	}
}

func TestStoreFailure(t *testing.T) {
	e := newEnv(token.EdDSA)
	k := e.keyring(t)
	e.store.failFind = errors.New("database is down")
	if err := k.Reload(context.Background()); err == nil {
		t.Fatal("Reload() with the store down = nil error")
	}
	// The keyring keeps working on what it has.
	raw, _, err := k.Issue(userClaims)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(raw); err != nil {
		t.Errorf("Verify() with the store down = %v", err)
	}
}

func TestKeyringAttacks(t *testing.T) {
	for _, alg := range []string{token.EdDSA, token.ES256} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(alg)
			k := e.keyring(t)
			retired := activeID(t, k)
			retiredKey := e.privateKey(t, retired)
			if err := k.Rotate(context.Background()); err != nil {
				t.Fatal(err)
			}
			e.clock.Add(15*time.Minute + client.MaxLeeway) // past the retired key's publication
			kid := activeID(t, k)
			priv := e.privateKey(t, kid)
			valid, _, err := k.Issue(userClaims)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := k.Verify(valid); err != nil {
				t.Fatalf("Verify(valid) = %v", err)
			}
			for _, a := range tokentest.Attacks(t, valid, priv.Public(), priv, tokentest.WithRetiredKey(retired, retiredKey)) {
				if c, err := k.Verify(a.Token); err == nil {
					t.Errorf("%s: Verify() = %+v, want an error", a.Name, c)
				}
			}
		})
	}
}

func TestKeyringConcurrentUse(t *testing.T) {
	e := newEnv(token.EdDSA)
	k := e.keyring(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				raw, _, err := k.Issue(userClaims)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := k.Verify(raw); err != nil {
					t.Errorf("Verify() = %v", err)
					return
				}
				switch i {
				case 0:
					k.Rotate(context.Background())
				case 1:
					k.Reload(context.Background())
				case 2:
					_ = k.JWKS()
					_ = k.Keys()
				}
			}
		})
	}
	wg.Wait()
}

var _ auth.SigningKeyStore = (*memStore)(nil)

// TestRotateWithSlowClock: a node whose clock is behind still rotates; its
// new key is dated after the key it replaces.
func TestRotateWithSlowClock(t *testing.T) {
	e := newEnv(token.EdDSA)
	fast := e.keyring(t)
	old := activeID(t, fast)
	slowClock := &clock{now: t0.Add(-5 * time.Minute)}
	cfg := e.cfg
	cfg.Now = slowClock.Now
	slow, err := token.NewKeyring(context.Background(), e.store, e.sealer, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := slow.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	next := activeID(t, slow)
	if next == old {
		t.Fatal("Rotate() on the slow node left the old key active")
	}
	if err := fast.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := activeID(t, fast); got != next {
		t.Errorf("fast node's active key after Reload = %s, want %s", got, next)
	}
}
