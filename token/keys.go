package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/client"
	jose "github.com/go-jose/go-jose/v4"
)

// activeKey is the unsealed key that signs new tokens.
type activeKey struct {
	id     string
	signer jose.Signer
}

func (a *activeKey) sign(payload []byte) (string, error) {
	jws, err := a.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return raw, nil
}

// createKey generates a key of the configured algorithm and stores it: the
// private half as PKCS#8 sealed under its key ID, the public half as a JWK.
//
// The key is dated now, or just after the newest of keys when that is not
// earlier (a node whose clock is behind, or two rotations within the
// store's microsecond precision): the newest key is the active one, and a
// new key must not lose that election to the key it replaces.
func (k *Keyring) createKey(ctx context.Context, now time.Time, keys []*auth.SigningKey) error {
	created := now.Truncate(time.Microsecond)
	for _, sk := range keys {
		if !created.After(sk.CreatedAt) {
			created = sk.CreatedAt.Truncate(time.Microsecond).Add(time.Microsecond)
		}
	}
	var priv crypto.Signer
	var err error
	switch k.cfg.Algorithm {
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return fmt.Errorf("token: generate key: %w", err)
	}
	kid := randomID()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("token: encode key: %w", err)
	}
	sealed, err := k.sealer.Seal(der, []byte(kid))
	clear(der)
	if err != nil {
		return fmt.Errorf("token: seal key: %w", err)
	}
	jwk, err := jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: k.cfg.Algorithm, Use: "sig"}.MarshalJSON()
	if err != nil {
		return fmt.Errorf("token: encode public key: %w", err)
	}
	sk := &auth.SigningKey{ID: kid, Algorithm: k.cfg.Algorithm, Sealed: sealed, PublicJWK: jwk, CreatedAt: created}
	if err := k.store.CreateSigningKey(ctx, sk); err != nil {
		return fmt.Errorf("token: store signing key: %w", err)
	}
	k.log.InfoContext(ctx, "token: created signing key", "kid", kid, "alg", k.cfg.Algorithm)
	return nil
}

// publicJWK returns the stored public key re-encoded as the JWK to
// publish. Parsing it with client.ParseJWKS refuses private members and
// anything but an Ed25519 or P-256 key.
func publicJWK(sk *auth.SigningKey) ([]byte, error) {
	pub, err := storedPublicKey(sk)
	if err != nil {
		return nil, err
	}
	jwk, err := jose.JSONWebKey{Key: pub.Key, KeyID: sk.ID, Algorithm: sk.Algorithm, Use: "sig"}.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("token: signing key %s: %w", sk.ID, err)
	}
	return jwk, nil
}

func storedPublicKey(sk *auth.SigningKey) (client.PublicKey, error) {
	set, err := client.ParseJWKS(append(append([]byte(`{"keys":[`), sk.PublicJWK...), "]}"...))
	if err != nil {
		return client.PublicKey{}, fmt.Errorf("token: signing key %s: %w", sk.ID, err)
	}
	pub, ok := set.Key(sk.ID)
	if !ok || set.Len() != 1 || pub.Algorithm != sk.Algorithm {
		return client.PublicKey{}, fmt.Errorf("token: signing key %s: stored JWK is not a %s key with that ID", sk.ID, sk.Algorithm)
	}
	return pub, nil
}

// unseal opens the private half of sk and checks it against the public half.
func (k *Keyring) unseal(sk *auth.SigningKey) (*activeKey, error) {
	pub, err := storedPublicKey(sk)
	if err != nil {
		return nil, err
	}
	der, err := k.sealer.Open(sk.Sealed, []byte(sk.ID))
	if err != nil {
		return nil, fmt.Errorf("token: open signing key %s (is the master secret right?): %w", sk.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("token: signing key %s: %w", sk.ID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("token: signing key %s: %T is not a signing key", sk.ID, parsed)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if eq, ok := priv.Public().(equaler); !ok || !eq.Equal(pub.Key) {
		return nil, fmt.Errorf("token: signing key %s: private and public halves differ", sk.ID)
	}
	var key any
	switch p := priv.(type) {
	case ed25519.PrivateKey:
		key = p
	case *ecdsa.PrivateKey:
		key = p
	default:
		return nil, fmt.Errorf("token: signing key %s: unsupported %T", sk.ID, priv)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(sk.Algorithm), Key: key},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", sk.ID))
	if err != nil {
		return nil, fmt.Errorf("token: signing key %s: %w", sk.ID, err)
	}
	return &activeKey{id: sk.ID, signer: signer}, nil
}
