package auth

import (
	"context"
	"time"
)

// SigningKey is a key that signs access tokens, as stored: the private half
// sealed with the master secret, the public half as a JWK.
type SigningKey struct {
	ID        string    // the JWS "kid"
	Algorithm string    // "EdDSA" or "ES256"
	Sealed    []byte    // the private key, encrypted with the master secret
	PublicJWK []byte    // the public key as a JSON Web Key (RFC 7517)
	CreatedAt time.Time // when it was made; the newest unretired key signs
	// RetiredAt is when the key stopped signing; zero while it is active.
	RetiredAt time.Time
	// PublishUntil is how long the public key stays in the JWKS: the retirement
	// time plus the longest lifetime of a token it signed. Zero while active.
	PublishUntil time.Time
}

// SigningKeyStore keeps token signing keys.
type SigningKeyStore interface {
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// FindSigningKeys returns every key whose public half is still published
	// at now (active ones and retired ones within PublishUntil), newest first.
	FindSigningKeys(ctx context.Context, now time.Time) ([]*SigningKey, error)
	// RetireSigningKey marks a key retired at the given time and sets how
	// long it stays published.
	RetireSigningKey(ctx context.Context, id string, retiredAt, publishUntil time.Time) error
}
