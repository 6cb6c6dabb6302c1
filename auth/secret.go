package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// NewSecret returns a new random secret of 256 bits, base64url-encoded after
// prefix, and the SHA-256 hash under which it is stored. Secrets carry
// self-describing prefixes so that a leaked one is recognisable to people and
// secret scanners; the store only ever sees the hash.
func NewSecret(prefix string) (secret string, hash []byte) {
	var b [32]byte
	rand.Read(b[:])
	secret = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret)
}

// HashSecret returns the stored form of a secret made by NewSecret. A fast
// hash is right here: the secret has 256 bits of entropy, so there is nothing
// for a slow hash to protect against.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
