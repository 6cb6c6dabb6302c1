package auth

// Event types of linked identities and second factors. A sign-in through a
// provider is EventLoginSucceeded with Data["method"] = "oauth:<provider>",
// and a sign-up through one is EventUserRegistered with the same method,
// followed by EventIdentityLinked.
//
// A sign-in that needs a second factor records the first factor as usual
// (EventLoginSucceeded for a right password, with the method), then
// EventMFARequired; the session starts only after EventMFAVerified. A
// sign-in that stops at the second step leaves EventMFARequired without a
// matching EventMFAVerified, and EventMFAFailed for each wrong code.
const (
	// EventIdentityLinked: an account at an outside provider was linked to
	// a user. Data: provider, identity_id, via ("account_page" when the
	// signed-in user linked it, "sign_up" for an account made through the
	// provider, "trusted_email" for a link made on a provider's verified
	// address, see oauthlogin.Decide).
	EventIdentityLinked = "identity.linked"
	// EventIdentityUnlinked: a linked identity was removed. Data: provider,
	// identity_id.
	EventIdentityUnlinked = "identity.unlinked"
	// EventTOTPEnabled: a user confirmed an authenticator app, turning TOTP
	// on, and received new recovery codes.
	EventTOTPEnabled = "mfa.totp_enabled"
	// EventTOTPDisabled: a user turned TOTP off with a current code or a
	// recovery code. Data: factor ("totp" or "recovery_code").
	EventTOTPDisabled = "mfa.totp_disabled"
	// EventTOTPReset: an admin turned a user's TOTP off without a code,
	// for a user who lost their authenticator app and recovery codes. The
	// actor is the admin ("" for the command line), the target the user,
	// whose sessions all ended with it.
	EventTOTPReset = "mfa.totp_reset"
	// EventRecoveryCodesRenewed: a user replaced their recovery codes.
	EventRecoveryCodesRenewed = "mfa.recovery_codes_renewed"
	// EventMFARequired: a first factor succeeded and the second is asked
	// for. Data: method (the first factor: "password", "oauth:<provider>",
	// "email", "passkey").
	EventMFARequired = "mfa.required"
	// EventMFAVerified: the second factor of a sign-in was right. Data:
	// method, factor ("totp" or "recovery_code"), and for a recovery code
	// recovery_codes_left.
	EventMFAVerified = "mfa.verified"
	// EventMFAFailed: a wrong, reused or expired code at the second step of
	// a sign-in, or at a change that needs a code. Data: reason.
	EventMFAFailed = "mfa.failed"
	// EventReauthenticated: a signed-in user proved who they are again
	// (SE-08) and got a fresh session. Data: method.
	EventReauthenticated = "session.reauthenticated"
)

// PurposeMFALogin is the one-time token purpose of a sign-in waiting for its
// second factor: the first factor succeeded, and the token (an mfa_token of
// the API, or the hosted page's pending sign-in cookie) carries the user and
// how to finish. It grants nothing by itself: no session exists until the
// second factor is right. Each token survives a few wrong codes (see package
// web) and expires within minutes.
const PurposeMFALogin = "mfa_login"
