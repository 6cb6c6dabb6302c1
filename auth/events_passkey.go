package auth

// Event types of passkeys. A sign-in with a passkey is EventLoginSucceeded
// (or EventLoginFailed) with Data["method"] = "passkey", and a sign-up with a
// passkey is EventUserRegistered with the same method, followed by
// EventPasskeyRegistered for its first passkey.
const (
	// EventPasskeyRegistered: a passkey was added to an account. Data:
	// passkey_id, name, synced, device_bound.
	EventPasskeyRegistered = "passkey.registered"
	// EventPasskeyRenamed: a passkey's name changed. Data: passkey_id, name.
	EventPasskeyRenamed = "passkey.renamed"
	// EventPasskeyRemoved: a passkey was deleted from an account. Data:
	// passkey_id, name.
	EventPasskeyRemoved = "passkey.removed"
	// EventPasskeyCloneWarning: a sign-in presented a correctly signed
	// assertion whose signature counter did not move forward, so two copies
	// of the passkey's private key may exist (WebAuthn L3 §6.1.1); the
	// passkey is refused from then on. Data: passkey_id, name.
	EventPasskeyCloneWarning = "passkey.clone_warning"
)

// PurposeWebAuthn is the one-time token purpose of a passkey ceremony in
// progress: Begin stores the ceremony's state (Data, base64) and Finish
// spends it, so that several Gatehouse nodes share ceremonies. It is bound to
// no user.
const PurposeWebAuthn = "webauthn"
