package auth

// Purposes of the one-time tokens that mails carry. Each token is bound to
// one purpose and, except for sign-up links, to one user; Data binds it to the
// address it was sent to, so that a link mailed to one address never acts on
// another.
const (
	// PurposeVerifyEmail confirms the address a user signed up with.
	// Data: the address the link was sent to.
	PurposeVerifyEmail = "verify_email"
	// PurposeEmailChange confirms a new address; the account's address
	// changes only when the link is opened. Data: the new address.
	PurposeEmailChange = "email_change"
	// PurposeReset sets a new password. Data: the address the link was sent to.
	PurposeReset = "password_reset"
	// PurposeEmailLogin is the link of a passwordless sign-in mail. UserID is
	// empty when the mail would create the account. Data: the address.
	PurposeEmailLogin = "email_login"
	// PurposeEmailCode is the six-digit code of the same mail. It is stored
	// under a hash of the address, not of the code (a code is far too short
	// to be a lookup key nobody can guess), with the code's own hash in Data;
	// TokenStore.AttemptToken counts the guesses at it.
	PurposeEmailCode = "email_login_code"
)

// Event types of the email and password lifecycle.
const (
	EventPasswordResetRequested = "password.reset_requested"
	EventPasswordReset          = "password.reset"
	EventVerificationSent       = "email.verification_sent"
	EventEmailChangeRequested   = "email.change_requested"
	EventEmailChanged           = "email.changed"
	EventEmailLoginRequested    = "email_login.requested"
	EventEmailCodeFailed        = "email_login.code_failed"
	EventUsersImported          = "users.imported"
)
