package client

import (
	"crypto/ed25519"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/tokentest"
)

func TestParseJWKS(t *testing.T) {
	ed := tokentest.NewKey(t, EdDSA)
	ec := tokentest.NewKey(t, ES256)
	edJWK, ecJWK := string(ed.JWK(t)), string(ec.JWK(t))
	// with returns edJWK with members changed: "name":value pairs, or
	// "-name" to remove one.
	with := func(jwk string, changes ...string) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(jwk), &m); err != nil {
			t.Fatal(err)
		}
		for _, c := range changes {
			if name, ok := strings.CutPrefix(c, "-"); ok {
				delete(m, name)
				continue
			}
			name, value, _ := strings.Cut(c, "=")
			var v any
			if err := json.Unmarshal([]byte(value), &v); err != nil {
				t.Fatal(err)
			}
			m[name] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	set := func(keys ...string) string { return `{"keys":[` + strings.Join(keys, ",") + `]}` }
	rsa := `{"kty":"RSA","kid":"r","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"}`
	tests := []struct {
		name    string
		in      string
		want    []string // key IDs kept
		wantErr bool
	}{
		{"both kinds", set(edJWK, ecJWK), []string{ed.ID, ec.ID}, false},
		{"no alg, no use", set(with(edJWK, "-alg", "-use")), []string{ed.ID}, false},
		{"use enc ignored", set(with(edJWK, `use="enc"`), ecJWK), []string{ec.ID}, false},
		{"RSA ignored", set(rsa, edJWK), []string{ed.ID}, false},
		{"X25519 ignored", set(with(edJWK, `crv="X25519"`)), nil, false},
		{"P-384 ignored", set(`{"kty":"EC","crv":"P-384","kid":"p","x":"AAAA","y":"AAAA"}`), nil, false},
		{"oct refused", set(`{"kty":"oct","kid":"h","k":"c2VjcmV0"}`), nil, true},
		{"empty set", `{"keys":[]}`, nil, false},
		{"private d refused", set(with(edJWK, `d="AAAA"`)), nil, true},
		{"private member on an ignored key refused", set(edJWK, rsa[:len(rsa)-1]+`,"p":"AAAA"}`), nil, true},
		{"alg contradicts the key", set(with(edJWK, `alg="ES256"`)), nil, true},
		{"alg HS256 on an EC key", set(with(ecJWK, `alg="HS256"`)), nil, true},
		{"no kid", set(with(edJWK, "-kid")), nil, true},
		{"duplicate kid", set(edJWK, with(ecJWK, `kid="`+ed.ID+`"`)), nil, true},
		{"point off the curve", set(with(ecJWK, `y="`+strings.Repeat("A", 43)+`"`)), nil, true},
		{"short Ed25519 key", set(with(edJWK, `x="AAAA"`)), nil, true},
		{"duplicate member", `{"keys":[],"keys":[` + edJWK + `]}`, nil, true},
		{"no keys member", `{}`, nil, true},
		{"not JSON", `<html>`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseJWKS([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseJWKS() = %d keys, want an error", s.Len())
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseJWKS() = %v", err)
			}
			var got []string
			for kid := range s.keys {
				got = append(got, kid)
			}
			sort.Strings(got)
			want := append([]string(nil), tt.want...)
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") || s.Len() != len(want) {
				t.Errorf("ParseJWKS() kept %q, want %q", got, want)
			}
		})
	}
}

func TestParseJWKSKeys(t *testing.T) {
	ed := tokentest.NewKey(t, EdDSA)
	s, err := ParseJWKS(tokentest.JWKS(t, ed))
	if err != nil {
		t.Fatal(err)
	}
	k, ok := s.Key(ed.ID)
	if !ok || k.Algorithm != EdDSA || !ed25519.PublicKey(k.Key.(ed25519.PublicKey)).Equal(ed.Public()) {
		t.Errorf("Key(%q) = %+v, %v; want the EdDSA key", ed.ID, k, ok)
	}
	if _, ok := s.Key("nope"); ok {
		t.Error(`Key("nope") found a key`)
	}
}
