package client

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/json"
)

// Algorithms of Gatehouse signing keys. The key decides: an Ed25519 key
// signs EdDSA, a P-256 key signs ES256, and nothing else is accepted.
const (
	EdDSA = "EdDSA"
	ES256 = "ES256"
)

// PublicKey is a key that verifies Gatehouse access tokens, with the one
// algorithm it verifies.
type PublicKey struct {
	ID        string           // the "kid" tokens name it by
	Algorithm string           // EdDSA or ES256
	Key       crypto.PublicKey // ed25519.PublicKey for EdDSA, *ecdsa.PublicKey on P-256 for ES256
}

// valid reports whether the algorithm is one Gatehouse uses and the key is of
// the matching type, so that a KeySet built by hand cannot smuggle in an HMAC
// secret or an RSA key.
func (k PublicKey) valid() bool {
	switch k.Algorithm {
	case EdDSA:
		pk, ok := k.Key.(ed25519.PublicKey)
		return ok && len(pk) == ed25519.PublicKeySize
	case ES256:
		pk, ok := k.Key.(*ecdsa.PublicKey)
		return ok && pk != nil && pk.Curve == elliptic.P256()
	}
	return false
}

// KeySet finds the keys that verify tokens, by key ID. Implementations must
// be safe for concurrent use and should not do I/O: Key is called for every
// token, with the token's "kid", which the token's sender chooses.
type KeySet interface {
	Key(kid string) (PublicKey, bool)
}

// JWKS is a parsed JSON Web Key Set (RFC 7517 §5) of Gatehouse signing keys.
// It implements KeySet and is immutable.
type JWKS struct {
	keys map[string]PublicKey
}

// Key returns the key with ID kid.
func (s *JWKS) Key(kid string) (PublicKey, bool) {
	k, ok := s.keys[kid]
	return k, ok
}

// Len returns the number of usable keys.
func (s *JWKS) Len() int { return len(s.keys) }

// privateMembers are the JWK members that hold secret material (RFC 7518
// §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ParseJWKS parses a JWKS document such as Gatehouse serves at
// /.well-known/jwks.json. It keeps the keys with "use" absent or "sig", of
// type OKP/Ed25519 or EC/P-256, and ignores the rest (RFC 7517 §5 asks to
// ignore keys that are not understood). It refuses the whole set when a key
// carries private members, when two usable keys share a key ID, when a
// usable key has no key ID, or when a key's "alg" contradicts its type. A set
// with no usable keys is not an error; see Len.
func ParseJWKS(data []byte) (*JWKS, error) {
	if err := checkJSON(data, 8, nil); err != nil {
		return nil, fmt.Errorf("parse jwks: %w", err)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse jwks: %w", err)
	}
	if doc.Keys == nil {
		return nil, errors.New("parse jwks: no \"keys\" member")
	}
	set := &JWKS{keys: make(map[string]PublicKey, len(doc.Keys))}
	for i, raw := range doc.Keys {
		k, ok, err := parseJWK(raw)
		if err != nil {
			return nil, fmt.Errorf("parse jwks: key %d: %w", i, err)
		}
		if !ok {
			continue
		}
		if _, dup := set.keys[k.ID]; dup {
			return nil, fmt.Errorf("parse jwks: key ID %q appears twice", k.ID)
		}
		set.keys[k.ID] = k
	}
	return set, nil
}

// parseJWK returns ok=false for a key Gatehouse does not use.
func parseJWK(raw []byte) (k PublicKey, ok bool, err error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return k, false, err
	}
	for _, name := range privateMembers {
		if _, found := m[name]; found {
			return k, false, fmt.Errorf("private member %q in a public key set", name)
		}
	}
	var hdr struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		Use string `json:"use"`
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil {
		return k, false, err
	}
	var alg string
	switch {
	case hdr.Use != "" && hdr.Use != "sig":
		return k, false, nil
	case hdr.Kty == "OKP" && hdr.Crv == "Ed25519":
		alg = EdDSA
	case hdr.Kty == "EC" && hdr.Crv == "P-256":
		alg = ES256
	default:
		return k, false, nil
	}
	if hdr.Alg != "" && hdr.Alg != alg {
		return k, false, fmt.Errorf("key %q: alg %q does not fit a %s/%s key", hdr.Kid, hdr.Alg, hdr.Kty, hdr.Crv)
	}
	if hdr.Kid == "" {
		return k, false, errors.New("key without \"kid\"")
	}
	// Private members were refused above, so go-jose's parser, which would
	// accept them, only ever sees public keys here. It checks that an EC
	// point lies on its curve and that an Ed25519 key has the right size.
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return k, false, fmt.Errorf("key %q: %w", hdr.Kid, err)
	}
	k = PublicKey{ID: hdr.Kid, Algorithm: alg, Key: jwk.Key}
	if !k.valid() {
		return k, false, fmt.Errorf("key %q: not a usable %s key", hdr.Kid, alg)
	}
	return k, true, nil
}
