// Package oauthlogin signs users in to Gatehouse through outside identity
// providers: any OpenID Connect provider, Google (which is one), and GitHub
// (plain OAuth 2.0 plus its REST API). It has one small file per provider
// kind and knows nothing of HTTP routing: the web layer calls Login.Start
// from GET /oauth/{provider}/start, keeps the returned FlowState in a sealed
// cookie, and calls Login.Finish and then Decide from the callback.
//
// # The flow and what protects it
//
//   - state (RFC 6749 §10.12, RFC 9700 §4.7): 256 random bits, kept in the
//     browser's sealed, HttpOnly flow cookie and compared in constant time
//     at the callback, so a callback that the browser did not start (login
//     CSRF, an attacker's code injected into the victim's browser) is
//     refused.
//   - PKCE with S256, always (RFC 7636, RFC 9700 §2.1.1): the verifier stays
//     in the sealed cookie, so a code stolen from a redirect or injected
//     into another browser's flow cannot be exchanged without it.
//   - nonce (OpenID Connect Core 1.0 §3.1.2.1): bound to the ID token and
//     checked, so an ID token cannot be replayed into another flow.
//   - The ID token is verified with go-oidc: signature by a key from the
//     provider's JWKS with an algorithm the provider advertises (never
//     "none" or HMAC), issuer, audience = client ID, expiry; and here, azp
//     when there are several audiences (Core §3.1.3.7).
//   - Mix-up (RFC 9700 §4.4, RFC 9207): the flow state names its provider,
//     and an "iss" in the authorization response must be that provider's
//     issuer; a provider that advertises "iss" must send it.
//   - The flow cookie lives 10 minutes (FlowMaxAge), and Finish refuses an
//     older flow state whatever the cookie says. Single use is the web
//     layer's job: it clears the cookie at the callback, whatever the outcome.
//
// # Accounts: keyed by subject, never merged silently
//
// An outside account is identified by (provider, issuer, subject) and never
// by its email address: the address is a mutable attribute that anyone can
// set on their own account at some providers ("nOAuth", OA-06). Decide turns
// the provider's answer into one of four outcomes:
//
//   - SignIn: the identity is linked to a user already.
//   - SignUp: no identity, and no account has the email: a new account,
//     whose email counts as verified only if the provider says so.
//   - Link: an account has the email, the provider is configured with
//     TrustEmail, the provider says the address is verified, AND the
//     account's own address is verified in Gatehouse. Then the identity is
//     linked and the user signed in.
//   - SignInToLink: any other case with an account that has the email. The
//     user must first sign in to that account the way they already can,
//     and then link the provider from the account page (with the
//     re-authentication that linking asks for).
//
// This is the defence against pre-account takeover (Sudhodanan & Paverd,
// USENIX Security 2022). In the "classic-federated merge" an attacker
// registers the victim's address with a password and waits; if the victim
// later signed in with Google and landed in that account, the attacker's
// password would still open it. Because Link requires the account's own
// address to be verified — proof that whoever made the account reads that
// mailbox — an account an attacker pre-registered is never merged into
// (OA-07); the victim is asked to sign in to it, cannot, and recovers it by
// a password reset, which proves the mailbox and ends the attacker's
// sessions. An unverified address from the provider never links either
// ("non-verifying IdP", OA-08).
//
// # What it does not do
//
// It does not create users, sessions or links itself: Decide only decides,
// and the caller acts (creating the account through the account service,
// then the identity; touching the identity on sign-in). It does not check
// whether the user is active, ask for a second factor, limit rates, or
// validate return_to; those belong to the sign-in flow in the web layer. It
// keeps no server-side record of flows: the sealed cookie is the record.
package oauthlogin
