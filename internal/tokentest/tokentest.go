// Package tokentest builds Gatehouse access tokens for tests: well-formed
// ones, signed by keys a test controls, and forged ones — the JWT attack
// catalogue of Gatehouse's security checklist (§6, JW-01 to JW-15).
//
// It only builds token strings, so the same battery runs against any
// verifier: client.Verifier, token.Keyring, and the server's HTTP endpoints
// (where every attack must get a 401 and never a 5xx). It signs with go-jose
// wherever go-jose can express the forgery, and assembles the header by hand
// only where an attack needs a header go-jose would never write (a
// duplicate "alg").
package tokentest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// Key is a signing key with its key ID, for a test that plays the issuer.
type Key struct {
	ID     string
	Signer crypto.Signer // ed25519.PrivateKey or *ecdsa.PrivateKey (P-256)
}

// NewKey generates a key for alg, "EdDSA" or "ES256", with a random key ID.
func NewKey(t testing.TB, alg string) Key {
	t.Helper()
	var s crypto.Signer
	var err error
	switch alg {
	case "EdDSA":
		_, s, err = ed25519.GenerateKey(rand.Reader)
	case "ES256":
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		t.Fatalf("tokentest.NewKey(%q): want EdDSA or ES256", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return Key{ID: "test-" + rand.Text()[:12], Signer: s}
}

// Algorithm returns the JWS algorithm of the key: EdDSA or ES256.
func (k Key) Algorithm() string { return algorithmOf(k.Signer.Public()) }

// Public returns the public half of the key.
func (k Key) Public() crypto.PublicKey { return k.Signer.Public() }

// JWK returns the public key as a JWK with "kid", "alg" and "use":"sig".
func (k Key) JWK(t testing.TB) json.RawMessage {
	t.Helper()
	b, err := jose.JSONWebKey{Key: k.Public(), KeyID: k.ID, Algorithm: k.Algorithm(), Use: "sig"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// JWKS returns a JWKS document holding the public halves of keys.
func JWKS(t testing.TB, keys ...Key) []byte {
	t.Helper()
	doc := struct {
		Keys []json.RawMessage `json:"keys"`
	}{Keys: []json.RawMessage{}}
	for _, k := range keys {
		doc.Keys = append(doc.Keys, k.JWK(t))
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Sign returns a well-formed access token whose payload is claims encoded as
// JSON, with the header {"alg", "kid", "typ":"at+jwt"}.
func (k Key) Sign(t testing.TB, claims any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return k.SignPayload(t, map[string]any{"kid": k.ID, "typ": "at+jwt"}, payload)
}

// SignPayload signs payload as is, under a header of "alg" (chosen by the
// key) and the members of header, with go-jose.
func (k Key) SignPayload(t testing.TB, header map[string]any, payload []byte) string {
	t.Helper()
	return signJOSE(t, jose.SignatureAlgorithm(k.Algorithm()), cryptosigner.Opaque(k.Signer), header, payload, false)
}

// signJOSE signs with go-jose. key is an OpaqueSigner or an HMAC secret.
func signJOSE(t testing.TB, alg jose.SignatureAlgorithm, key any, header map[string]any, payload []byte, embedJWK bool) string {
	t.Helper()
	opts := &jose.SignerOptions{EmbedJWK: embedJWK}
	for name, v := range header {
		opts.WithHeader(jose.HeaderKey(name), v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatalf("tokentest: signer for %s: %v", alg, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("tokentest: sign with %s: %v", alg, err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signRaw signs a header and payload given as exact bytes, for headers
// go-jose would not write. go-jose still computes the signature.
func signRaw(t testing.TB, signer crypto.Signer, header, payload []byte) string {
	t.Helper()
	input := b64(header) + "." + b64(payload)
	alg := jose.SignatureAlgorithm(algorithmOf(signer.Public()))
	sig, err := cryptosigner.Opaque(signer).SignPayload([]byte(input), alg)
	if err != nil {
		t.Fatalf("tokentest: sign raw: %v", err)
	}
	return input + "." + b64(sig)
}

func algorithmOf(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return "EdDSA"
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return "ES256"
		}
	}
	panic(fmt.Sprintf("tokentest: %T is not an EdDSA or ES256 key", pub))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
