package client

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/tokentest"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

const testIssuer = "https://auth.example.com"

// staticKeys is a KeySet built by hand.
type staticKeys map[string]PublicKey

func (s staticKeys) Key(kid string) (PublicKey, bool) { k, ok := s[kid]; return k, ok }

func keySetOf(keys ...tokentest.Key) staticKeys {
	s := staticKeys{}
	for _, k := range keys {
		s[k.ID] = PublicKey{ID: k.ID, Algorithm: k.Algorithm(), Key: k.Public()}
	}
	return s
}

var sentinels = []error{
	ErrTooLarge, ErrMalformed, ErrUnknownKey, ErrSignature, ErrIssuer, ErrAudience,
	ErrExpired, ErrNotYetValid, ErrRevoked, ErrRevocationStale,
}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func TestVerifyValid(t *testing.T) {
	for _, alg := range []string{EdDSA, ES256} {
		t.Run(alg, func(t *testing.T) {
			key := tokentest.NewKey(t, alg)
			want := claimsAt(testIssuer, t0)
			want.Permissions = []string{"notes:read"}
			want.Audience = []string{"https://api.example.com", testIssuer}
			v := NewVerifier(keySetOf(key), testIssuer, nil, WithClock(func() time.Time { return t0 }))
			got, err := v.Verify(key.Sign(t, want))
			if err != nil {
				t.Fatalf("Verify() = %v", err)
			}
			if d := cmp.Diff(&want, got); d != "" {
				t.Errorf("Verify() claims (-want +got):\n%s", d)
			}
		})
	}
}

func TestVerifyRules(t *testing.T) {
	key := tokentest.NewKey(t, EdDSA)
	other := tokentest.NewKey(t, ES256)
	base := func() Claims { return claimsAt(testIssuer, t0) }
	tests := []struct {
		name   string
		token  func() string
		leeway time.Duration // 0: the default
		want   error         // nil: accepted
	}{
		{"typical", func() string { return key.Sign(t, base()) }, 0, nil},
		{"typ application/at+jwt", func() string {
			return key.SignPayload(t, map[string]any{"kid": key.ID, "typ": "application/at+jwt"}, mustMarshal(t, base()))
		}, 0, nil},
		{"typ AT+JWT", func() string {
			return key.SignPayload(t, map[string]any{"kid": key.ID, "typ": "AT+JWT"}, mustMarshal(t, base()))
		}, 0, nil},
		{"typ at+jwt; with parameters", func() string {
			return key.SignPayload(t, map[string]any{"kid": key.ID, "typ": "at+jwt; charset=utf-8"}, mustMarshal(t, base()))
		}, 0, ErrMalformed},
		{"no nbf", func() string { c := base(); c.NotBefore = time.Time{}; return key.Sign(t, c) }, 0, nil},
		{"expired within leeway", func() string { c := base(); c.ExpiresAt = t0.Add(-20 * time.Second); return key.Sign(t, c) }, 0, nil},
		{"expired beyond leeway", func() string { c := base(); c.ExpiresAt = t0.Add(-40 * time.Second); return key.Sign(t, c) }, 0, ErrExpired},
		{"leeway capped at 60 s", func() string { c := base(); c.ExpiresAt = t0.Add(-90 * time.Second); return key.Sign(t, c) }, time.Hour, ErrExpired},
		{"leeway of 60 s", func() string { c := base(); c.ExpiresAt = t0.Add(-50 * time.Second); return key.Sign(t, c) }, time.Hour, nil},
		{"nbf within leeway", func() string { c := base(); c.NotBefore = t0.Add(20 * time.Second); return key.Sign(t, c) }, 0, nil},
		{"nbf beyond leeway", func() string { c := base(); c.NotBefore = t0.Add(40 * time.Second); return key.Sign(t, c) }, 0, ErrNotYetValid},
		{"iat beyond leeway", func() string { c := base(); c.IssuedAt = t0.Add(40 * time.Second); return key.Sign(t, c) }, 0, ErrNotYetValid},
		{"no iat", func() string { c := base(); c.IssuedAt = time.Time{}; return key.Sign(t, c) }, 0, ErrMalformed},
		{"issuer with trailing slash", func() string { c := base(); c.Issuer = testIssuer + "/"; return key.Sign(t, c) }, 0, ErrIssuer},
		{"audience among others", func() string {
			c := base()
			c.Audience = []string{"a", testIssuer, "b"}
			return key.Sign(t, c)
		}, 0, nil},
		{"wrong audience", func() string { c := base(); c.Audience = []string{"other-api"}; return key.Sign(t, c) }, 0, ErrAudience},
		{"kid of a key that signs another algorithm", func() string {
			// other is an ES256 key, published under key's ID.
			return tokentest.Key{ID: key.ID, Signer: other.Signer}.Sign(t, base())
		}, 0, ErrSignature},
		{"header member case", func() string {
			return key.SignPayload(t, map[string]any{"kid": key.ID, "typ": "at+jwt", "KID": "x"}, mustMarshal(t, base()))
		}, 0, ErrMalformed},
		{"claim name case is not a duplicate", func() string {
			p := mustMarshal(t, base())
			p = append([]byte(`{"SUB":"attacker",`), p[1:]...)
			return key.SignPayload(t, map[string]any{"kid": key.ID, "typ": "at+jwt"}, p)
		}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []Option{WithClock(func() time.Time { return t0 })}
			if tt.leeway != 0 {
				opts = append(opts, WithLeeway(tt.leeway))
			}
			v := NewVerifier(keySetOf(key), testIssuer, nil, opts...)
			got, err := v.Verify(tt.token())
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("Verify() = %v, want success", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("Verify() = %v, want %v", err, tt.want)
			case tt.want == nil && got.Subject != "user-1":
				t.Errorf("Verify() subject = %q, want user-1", got.Subject)
			}
		})
	}
}

func mustMarshal(t testing.TB, c Claims) []byte {
	t.Helper()
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVerifyAttacks runs the whole forgery battery against both key types.
func TestVerifyAttacks(t *testing.T) {
	// Some attacks must fail at a particular check; the rest only must fail.
	want := map[string]error{
		"JW-01 alg none, signature kept":                      ErrSignature,
		"JW-02 signature stripped":                            ErrMalformed,
		"JW-02 sub changed, old signature":                    ErrSignature,
		"JW-03 HS256 keyed with PEM SPKI":                     ErrSignature,
		"JW-04 re-signed RS256 with an attacker key":          ErrSignature,
		"JW-04 re-signed EdDSA with an attacker key":          ErrSignature,
		"JW-05 embedded jwk with the real kid":                ErrMalformed,
		"JW-06 jku to 127.0.0.1, real kid":                    ErrMalformed,
		"JW-07 kid /dev/null, real key":                       ErrUnknownKey,
		"JW-07 no kid, real key":                              ErrUnknownKey,
		"JW-08 expired 120 s ago":                             ErrExpired,
		"JW-08 nbf 600 s ahead":                               ErrNotYetValid,
		"JW-08 iat 3600 s ahead":                              ErrNotYetValid,
		"JW-08 no exp":                                        ErrMalformed,
		"JW-09 wrong iss":                                     ErrIssuer,
		"JW-09 no aud":                                        ErrAudience,
		"JW-09 aud other-api":                                 ErrAudience,
		"JW-09 no sid":                                        ErrMalformed,
		"JW-10 crit x-unknown":                                ErrMalformed,
		"JW-11 typ JWT":                                       ErrMalformed,
		"JW-13 duplicate sub":                                 ErrMalformed,
		"JW-13 duplicate sub, escaped":                        ErrMalformed,
		"JW-13 duplicate alg":                                 ErrMalformed,
		"JW-14 five segments (JWE)":                           ErrMalformed,
		"JW-14 non-canonical trailing bits":                   ErrMalformed,
		"JW-14 nested 2000 deep":                              ErrMalformed,
		"JW-14 1 MiB token":                                   ErrTooLarge,
		"JW-15 signed by a retired key past its grace period": ErrUnknownKey,
	}
	for _, alg := range []string{EdDSA, ES256} {
		t.Run(alg, func(t *testing.T) {
			key := tokentest.NewKey(t, alg)
			retired := tokentest.NewKey(t, alg)
			v := NewVerifier(keySetOf(key), testIssuer, nil, WithClock(func() time.Time { return t0 }))
			valid := key.Sign(t, claimsAt(testIssuer, t0))
			if _, err := v.Verify(valid); err != nil {
				t.Fatalf("Verify(valid) = %v", err)
			}
			attacks := tokentest.Attacks(t, valid, key.Public(), key.Signer, tokentest.WithRetiredKey(retired.ID, retired.Signer))
			wantHere := map[string]error{}
			for k, v := range want {
				wantHere[k] = v
			}
			if alg == ES256 {
				// The psychic signature reaches crypto/ecdsa, which refuses it.
				wantHere["JW-12 ES256 signature of zeros"] = ErrSignature
				wantHere["JW-12 ES256 r=s=n"] = ErrSignature
			}
			for _, a := range attacks {
				t.Run(a.Name, func(t *testing.T) {
					claims, err := v.Verify(a.Token)
					if err == nil {
						t.Fatalf("Verify(%.60q) = %+v, want an error", a.Token, claims)
					}
					if !isSentinel(err) {
						t.Errorf("Verify() = %v, want one of the sentinel errors", err)
					}
					if w, ok := wantHere[a.Name]; ok && !errors.Is(err, w) {
						t.Errorf("Verify() = %v, want %v", err, w)
					}
				})
			}
			for name := range wantHere {
				found := false
				for _, a := range attacks {
					found = found || a.Name == name
				}
				if !found {
					t.Errorf("no attack named %q", name)
				}
			}
		})
	}
}

// TestVerifyRefusesUnsafeKeySet checks that a KeySet built by hand cannot
// bring in an algorithm Gatehouse does not use.
func TestVerifyRefusesUnsafeKeySet(t *testing.T) {
	claims := mustMarshal(t, claimsAt(testIssuer, t0))
	secret := []byte(strings.Repeat("s", 32))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  PublicKey
		alg  jose.SignatureAlgorithm
		sign any
	}{
		{"HS256 secret", PublicKey{ID: "k", Algorithm: "HS256", Key: secret}, jose.HS256, secret},
		{"HS256 secret labelled EdDSA", PublicKey{ID: "k", Algorithm: EdDSA, Key: secret}, jose.HS256, secret},
		{"RSA key", PublicKey{ID: "k", Algorithm: "RS256", Key: &rsaKey.PublicKey}, jose.RS256, rsaKey},
		{"RSA key labelled ES256", PublicKey{ID: "k", Algorithm: ES256, Key: &rsaKey.PublicKey}, jose.RS256, rsaKey},
		{"P-384 key labelled ES256", PublicKey{ID: "k", Algorithm: ES256, Key: &p384.PublicKey}, jose.ES384, p384},
		{"alg none", PublicKey{ID: "k", Algorithm: "none", Key: nil}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tok string
			if tt.sign == nil {
				tok = "eyJhbGciOiJub25lIiwia2lkIjoiayIsInR5cCI6ImF0K2p3dCJ9." + b64(claims) + "."
			} else {
				signer, err := jose.NewSigner(jose.SigningKey{Algorithm: tt.alg, Key: tt.sign},
					(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", "k"))
				if err != nil {
					t.Fatal(err)
				}
				jws, err := signer.Sign(claims)
				if err != nil {
					t.Fatal(err)
				}
				tok, _ = jws.CompactSerialize()
			}
			v := NewVerifier(staticKeys{"k": tt.key}, testIssuer, nil, WithClock(func() time.Time { return t0 }))
			if c, err := v.Verify(tok); err == nil {
				t.Fatalf("Verify() = %+v, want an error", c)
			}
		})
	}
}

func TestVerifyAudienceOption(t *testing.T) {
	key := tokentest.NewKey(t, EdDSA)
	c := claimsAt(testIssuer, t0)
	c.Audience = []string{"https://api.example.com"}
	tok := key.Sign(t, c)
	tests := []struct {
		audience []string
		want     error
	}{
		{nil, ErrAudience}, // defaults to the issuer
		{[]string{"https://api.example.com"}, nil},
		{[]string{"https://other.example.com", "https://api.example.com"}, nil},
		{[]string{"https://other.example.com"}, ErrAudience},
	}
	for _, tt := range tests {
		v := NewVerifier(keySetOf(key), testIssuer, tt.audience, WithClock(func() time.Time { return t0 }))
		if _, err := v.Verify(tok); !errors.Is(err, tt.want) {
			t.Errorf("audience %q: Verify() = %v, want %v", tt.audience, err, tt.want)
		}
	}
}

func TestClaimsJSON(t *testing.T) {
	c := claimsAt(testIssuer, t0)
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"iss":"https://auth.example.com","sub":"user-1","aud":"https://auth.example.com","exp":1780316100,"nbf":1780315200,"iat":1780315200,"jti":"jti-1","sid":"sess-1","roles":["user"],"username":"ada","email":"ada@example.com"}`
	if string(b) != want {
		t.Errorf("MarshalJSON() =\n%s\nwant\n%s", b, want)
	}
	var back Claims
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(c, back); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	if err := back.UnmarshalJSON([]byte(`{"sub":"a","sub":"b"}`)); err == nil {
		t.Error("UnmarshalJSON(duplicate sub) = nil, want an error")
	}
	none, err := Claims{}.MarshalJSON()
	if err != nil || string(none) != `{"roles":[]}` {
		t.Errorf("Claims{}.MarshalJSON() = %s, %v; want {\"roles\":[]}", none, err)
	}
}

func TestHasRoleAndPermission(t *testing.T) {
	c := &Claims{Roles: []string{"user", "editor"}, Permissions: []string{"notes:read"}}
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"HasRole(editor)", c.HasRole("editor"), true},
		{"HasRole(admin)", c.HasRole("admin"), false},
		{"HasRole(Editor)", c.HasRole("Editor"), false},
		{"HasPermission(notes:read)", c.HasPermission("notes:read"), true},
		{"HasPermission(notes:write)", c.HasPermission("notes:write"), false},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}
