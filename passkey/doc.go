// Package passkey lets Gatehouse's users register passkeys and sign in with
// them: the WebAuthn relying party (W3C WebAuthn Level 3 §7.1 and §7.2), as a
// thin adapter over github.com/go-webauthn/webauthn that speaks Gatehouse's
// types (auth.User, auth.Passkey) and adds the checks the library leaves to
// the relying party.
//
// Each ceremony is a Begin…/Finish… pair. Begin returns the options for
// navigator.credentials.create() or get(), as JSON with base64url byte
// strings, and an opaque ceremony ID; the HTTP layer hands both to the
// browser (the ID in the response or a cookie, as it likes) and passes the ID
// and the browser's answer back to Finish:
//
//	options, id, err := rp.BeginRegistration(ctx, user, existing)
//	…
//	pk, err := rp.FinishRegistration(ctx, user, id, body)
//
//	options, id, err := rp.BeginLogin(ctx, nil, nil) // discoverable, or autofill
//	…
//	user, pk, err := rp.FinishLogin(ctx, id, body, passkey.StoreLookup(ctx, store))
//
// A sign-up makes an account and its first passkey together. BeginSignUp
// stores nothing but the ceremony, which carries the account's new ID and
// user handle; FinishSignUp checks the answer as FinishRegistration does and
// hands the account, the handle and the passkey to a function that stores
// all three in one transaction, so that an abandoned sign-up leaves no
// account behind:
//
//	options, id, err := rp.BeginSignUp(ctx, username, email)
//	…
//	user, pk, err := rp.FinishSignUp(ctx, id, body, createAccount)
//
// Ceremonies wait between Begin and Finish in a ChallengeStore: a
// MemoryChallengeStore for one Gatehouse node, or a TokenChallengeStore in
// the database that every node shares.
//
// # Threat model
//
// The browser's answer is untrusted input from anyone on the network. Finish
// caps it at MaxBodySize, never panics on it, and accepts it only when:
//
//   - its challenge is the one of a ceremony this relying party began, for
//     the same kind of ceremony (registration, sign-up or login) and, for
//     registration and username-first login, for the same user, at most
//     Timeout ago (five minutes or less), and not finished before: every Finish
//     spends its ceremony, whether it succeeds or not (L3 §13.4.3);
//   - the client data has the expected type and an origin in Origins exactly,
//     and crossOrigin is not set: Gatehouse's pages are never framed, so a
//     ceremony from an iframe is refused (L3 §7.1, §7.2, §13.4.9);
//   - the authenticator data carries the hash of RPID, the user-present flag,
//     and the user-verified flag unless UserVerification relaxes it;
//   - at registration, the key's algorithm is one Gatehouse offered, the
//     credential ID is at most 1023 bytes, and it is not registered already,
//     to this user or any other (L3 §7.1);
//   - at sign-in, the credential belongs to the user the ceremony was for
//     (username-first) or to the user its user handle names (discoverable),
//     and the signature verifies with the stored key (L3 §7.2);
//   - the backup flags are consistent: BS without BE is refused, and BE must
//     be what it was at registration (L3 §6.1.3);
//   - the signature counter moved forward (see below).
//
// Failures are reported as a few sentinel errors (ErrCeremony,
// ErrVerification, ErrNotAllowed, ErrPossibleClone) for the HTTP layer to
// map to one client response; the wrapped detail from go-webauthn is for the
// log only. Errors that match none of them are system failures.
//
// # Signature counter
//
// WebAuthn leaves it to the relying party what to do when an assertion's
// signature counter is not greater than the stored one while either is
// non-zero (L3 §7.2 step 22, §6.1.1). Gatehouse refuses the sign-in with
// ErrPossibleClone and marks the passkey (auth.Passkey.CloneWarning); a
// marked passkey is refused from then on, until the user deletes it and
// registers a new one. The reason: a counter that goes backwards means two
// copies of the private key are in use, and once that has happened no later
// counter value tells the genuine copy from the clone, since either can jump
// ahead. Refusing costs little: the counter is only used by device-bound
// authenticators (security keys), synced passkeys always report 0 and 0 → 0
// is accepted, and the user still has their other ways to sign in. Only an
// assertion whose signature verified can mark a passkey, so nobody can lock
// a user out by sending stale counters. The caller should record the event
// and tell the user.
//
// # What it does not do
//
// It verifies no attestation trust chain: Attestation "none" is the only
// policy, so it says nothing about which authenticator model made a
// passkey. It does not rate-limit, bind a ceremony ID to a browser session,
// or check that the user may sign in (auth.User.Active): those belong to the
// HTTP layer and its callers. It does not support related origins, iframes,
// or extensions.
package passkey
