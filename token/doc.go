// Package token is the signing side of Gatehouse's access tokens: it keeps
// the signing keys, issues tokens, publishes the public keys as a JWKS, and
// rotates keys.
//
// A [Keyring] loads its keys from an [auth.SigningKeyStore], which several
// Gatehouse nodes may share, and creates the first key when there is none.
// Private keys are stored as PKCS#8 sealed with the master secret (a
// [Sealer]) under the key ID as additional data, so a sealed key copied to
// another record does not open; public keys are stored as JWKs.
//
// Tokens are JWTs (RFC 9068 access tokens): header {"alg", "kid",
// "typ":"at+jwt"}, signed with EdDSA (Ed25519) by default or ES256 (P-256);
// claims "iss", "aud", "sub", "sid", "exp", "iat", "nbf", "jti", "roles",
// "username", "email" and, when there are any, "permissions". Their JSON form
// is [client.Claims]' own, and [Keyring.Verify] is [client.Verifier] over the
// JWKS the keyring publishes: the server and the backends that trust it share
// one verification path.
//
// # Rotation
//
// The active key is the newest unretired key in the store, newest by
// creation time and then by key ID: the order the store returns, the same on
// every node. [Keyring.Rotate] writes a new key, then retires every other
// unretired key, keeping each published until its retirement plus the access
// token lifetime plus [client.MaxLeeway], so that every token it signed
// stays verifiable for as long as any verifier may accept it. Two nodes
// rotating at once both write a key; the newer wins everywhere, and each
// node retires the loser when it next converges (on Rotate and Reload). No
// node ever retires a key newer than the one it elects, so the nodes never
// undo each other.
//
// Each node should call [Keyring.Reload] periodically (every minute, say): it
// picks up keys other nodes made, and rotates when the active key is older
// than Config.RotateEvery. A node that has not reloaded keeps signing with a
// key another node retired; its tokens stay verifiable only while that key
// is published, so reload well within the access token lifetime.
//
// # What it does not do
//
// It does not issue refresh tokens, keep sessions, or decide what claims a
// user gets: callers fill in subject, session, roles and so on. It does not
// delete old key records; the store keeps them or prunes them.
package token
