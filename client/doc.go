// Package client lets a backend trust the access tokens a Gatehouse server
// issues, without calling the server on every request.
//
// A backend creates one [Client] at start-up with the URL of its Gatehouse
// server (the issuer). The Client fetches the server's public keys from
// <issuer>/.well-known/jwks.json, verifies tokens offline with them, and
// protects handlers:
//
//	gh, err := client.New(ctx, "https://auth.example.com",
//		client.WithAudience("https://api.example.com"))
//	...
//	defer gh.Close()
//	mux.Handle("GET /notes", gh.Require(notes))
//	mux.Handle("DELETE /notes/{id}", gh.RequireRole("admin")(deleteNote))
//
// Inside a protected handler, [ClaimsFrom] returns the verified [Claims].
//
// The package imports only the standard library and go-jose, so a backend
// that only verifies tokens pulls in almost nothing. The Gatehouse server
// verifies its own tokens through [NewVerifier], so both sides share one
// verification path.
//
// # What is verified
//
// [Verifier.Verify] follows RFC 8725 (JWT best current practice) and RFC 9068
// (JWT access tokens) and refuses:
//
//   - a token longer than [MaxTokenSize] bytes, before looking at anything
//     else ([ErrTooLarge]);
//   - anything but the JWS Compact Serialization with exactly three segments
//     of canonical base64url (no JWE, no JSON serialization, no padding or
//     line breaks) ([ErrMalformed]);
//   - a JOSE header holding any member other than "alg", "kid" and "typ", or
//     a duplicate member. This refuses "crit" (RFC 7515 §4.1.11: Gatehouse
//     understands no extensions) and every header that names or carries a key
//     ("jwk", "jku", "x5u", "x5c"…, RFC 8725 §3.10): such tokens are rejected
//     outright rather than having the header ignored, so no key is ever
//     fetched from or trusted because of a token ([ErrMalformed]);
//   - a "typ" other than "at+jwt" or "application/at+jwt", compared without
//     regard to case (RFC 9068 §2.1, RFC 8725 §3.11) ([ErrMalformed]);
//   - a missing "kid", or one not in the key set ([ErrUnknownKey]). The key ID
//     is only ever a map key: never a path, URL or query;
//   - an "alg" other than the one bound to the key: the key decides (EdDSA for
//     Ed25519 keys, ES256 for P-256 keys), so "none", HMAC and RSA are never
//     accepted (RFC 8725 §3.1) ([ErrSignature]);
//   - a bad signature ([ErrSignature]);
//   - a payload with a duplicate member at any depth (RFC 7519 §4, RFC 8725
//     §2.6: Gatehouse rejects rather than letting the last one win), nesting
//     deeper than 16, or claims of the wrong JSON type ([ErrMalformed]);
//   - an "iss" other than the issuer ([ErrIssuer]), an "aud" that holds none
//     of the configured audiences ([ErrAudience]);
//   - a missing "exp", "iat", "sub" or "sid" ([ErrMalformed]);
//   - "exp" in the past ([ErrExpired]), or "nbf" or "iat" in the future
//     ([ErrNotYetValid]), each with the leeway ([WithLeeway]);
//   - and, for a [Client] with a revocation feed, a revoked session
//     ([ErrRevoked]) or a feed that has not answered lately
//     ([ErrRevocationStale]).
//
// # Keys
//
// The Client caches the JWKS by key ID. Only signing keys (no "use", or
// "use":"sig") of type OKP/Ed25519 and EC/P-256 are kept; others are ignored
// (RFC 7517 §5). A JWKS that carries private key members is refused as a
// whole. The set is refreshed every five minutes; a token with an unknown key
// ID triggers a refetch at most once every 30 seconds, so a flood of made-up
// key IDs costs the server one request per 30 seconds. When the server cannot
// be reached, the Client keeps verifying with the keys it has.
//
// # Revocation feed
//
// Access tokens live for minutes, but a session revoked at the server (a
// logout, a password reset, an admin action) should stop working sooner than
// that. With [WithRevocationFeed] the Client polls the server for revoked
// sessions and refuses their tokens. The contract, which the server
// implements, is:
//
//		GET <issuer>/api/auth/revocations[?since=<cursor>]
//		Authorization: Bearer <API key>
//		Accept: application/json
//
//		200 OK
//		Content-Type: application/json
//		{"revoked": [{"sid": "<session ID>", "until": "<RFC 3339 time>"}, …],
//		 "cursor": "<opaque string>"}
//
//	  - Without "since", the response lists every current entry. With it, the
//	    response lists the entries added after the cursor was handed out (the
//	    server may repeat older ones; the Client merges).
//	  - "sid" is the session ID that access tokens carry in their "sid" claim.
//	  - "until" is when the entry may be forgotten: every token of that session
//	    has expired by then. The Client keeps the entry until "until" plus the
//	    leeway, since expiry is itself checked with the leeway. When an entry
//	    arrives twice, the later "until" wins.
//	  - "cursor" is opaque to the Client, which sends it back verbatim as
//	    "since" on the next poll; an empty cursor makes the next poll ask for
//	    every entry again. The field must be present.
//	  - 410 Gone means the cursor is no longer known to the server: the Client
//	    drops its cursor and asks again at once without "since".
//	  - Any other status, a body that is not this JSON, an entry without "sid"
//	    or "until", or a body over 16 MiB is a failed poll.
//
// The Client polls every 10 seconds by default; the first poll happens in
// [New], which fails if it fails. When no poll has succeeded within the
// maximum staleness (60 seconds by default, [WithRevocationMaxStaleness]),
// Verify fails closed with [ErrRevocationStale], and the middleware answers
// 503: an attacker who can cut the backend off from the feed must not keep a
// revoked token alive that way. Choose the staleness to match how quickly a
// revocation must take effect, and how long an outage of Gatehouse may stop
// the backend.
//
// # Middleware
//
// [Client.Require] reads the token from the "Authorization: Bearer" header
// or, failing that, from the gatehouse_token cookie; never from the URL query
// (a URL ends up in logs and Referer headers). Failures answer with the
// Gatehouse error body {"error": "<code>", "message": "<sentence>"}:
//
//   - no token: 401 unauthorized, with "WWW-Authenticate: Bearer";
//   - a token that does not verify: 401 unauthorized, with
//     `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3);
//   - two gatehouse_token cookies (one may have been planted from a sibling
//     subdomain): 401, as an invalid token;
//   - the revocation feed is stale: 503 internal, with Retry-After;
//   - a missing role or permission: 403 forbidden.
//
// With [WithRefreshRedirect], a browser navigation (GET, Accept naming
// text/html) that carries no token, or an expired one from the cookie, is
// redirected (303) to <issuer>/session/refresh?return_to=<this URL>, where
// Gatehouse re-issues the cookie from the user's session and comes back.
// The URL of the request is rebuilt from the Host header and whether the
// connection used TLS; forwarding headers are not trusted, and Gatehouse
// checks return_to against its allowed origins.
//
// # What it does not do
//
// The package does not issue, refresh or introspect tokens, read credentials
// from URLs, accept any algorithm but EdDSA and ES256, or fetch keys from
// anywhere but <issuer>/.well-known/jwks.json. It does not check CSRF: a
// backend that accepts the cookie on unsafe methods must do so itself (for
// example with net/http's CrossOriginProtection).
package client
