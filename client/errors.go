package client

import "errors"

// Errors returned by Verify, matched with errors.Is. The returned errors wrap
// these with detail meant for logs, not for the token's bearer.
var (
	// ErrTooLarge: the token is longer than MaxTokenSize.
	ErrTooLarge = errors.New("gatehouse: token too large")
	// ErrMalformed: the token is not a well-formed Gatehouse access token
	// (encoding, header, type, JSON, or a required claim is missing).
	ErrMalformed = errors.New("gatehouse: malformed token")
	// ErrUnknownKey: the token names no key ID, or one the key set lacks.
	ErrUnknownKey = errors.New("gatehouse: unknown signing key")
	// ErrSignature: the algorithm is not the key's, or the signature is wrong.
	ErrSignature = errors.New("gatehouse: invalid token signature")
	// ErrIssuer: the "iss" claim is not the expected issuer.
	ErrIssuer = errors.New("gatehouse: wrong token issuer")
	// ErrAudience: the "aud" claim holds none of the expected audiences.
	ErrAudience = errors.New("gatehouse: wrong token audience")
	// ErrExpired: the token's "exp" has passed, beyond the leeway.
	ErrExpired = errors.New("gatehouse: token expired")
	// ErrNotYetValid: the token's "nbf" or "iat" is in the future, beyond the leeway.
	ErrNotYetValid = errors.New("gatehouse: token not yet valid")
	// ErrRevoked: the token's session has been revoked.
	ErrRevoked = errors.New("gatehouse: token revoked")
	// ErrRevocationStale: no poll of the revocation feed has succeeded
	// within the maximum staleness, so revocation cannot be ruled out.
	ErrRevocationStale = errors.New("gatehouse: revocation feed is stale")
)
