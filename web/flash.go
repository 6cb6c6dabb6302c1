package web

import "net/http"

// flashCookie carries a one-time notice to the next page. It holds a key from
// flashMessages, never text, so nobody can put words on Gatehouse's pages.
const flashCookie = "gatehouse_flash"

const (
	flashWelcome         = "welcome"
	flashSignedOut       = "signed_out"
	flashPasswordChanged = "password_changed"
	flashSessionRevoked  = "session_revoked"
	flashPasskeyRenamed  = "passkey_renamed"
	flashPasskeyRemoved  = "passkey_removed"
	// flashPasskeyConfirmEmail follows a passkey sign-up where addresses
	// must be confirmed before signing in.
	flashPasskeyConfirmEmail = "passkey_confirm_email"
)

var flashMessages = map[string]string{
	flashWelcome:             "Welcome! Your account is ready.",
	flashSignedOut:           "You have been signed out.",
	flashPasswordChanged:     "Your password was changed. Your other devices were signed out.",
	flashSessionRevoked:      "That device was signed out.",
	flashPasskeyRenamed:      "Your passkey was renamed.",
	flashPasskeyRemoved:      "Your passkey was removed.",
	flashPasskeyConfirmEmail: "Your account is ready. Open the link we sent to your email address, then sign in with your passkey.",
	flashPasswordReset:       "Your password was changed, and every device signed out. Sign in with your new password.",
	flashEmailConfirmed:      "Your email address is confirmed.",
	flashEmailChangeSent:     "We sent a confirmation link to your new address. Your address changes when you open it.",
	flashMFAExpired:          "Your sign-in took too long, or too many codes were wrong. Please sign in again.",
	flashMFADisabled:         "Two-step verification is off. Your other devices were signed out.",
	flashIdentityLinked:      "The account was linked. You can now sign in with it.",
	flashIdentityUnlinked:    "The account was unlinked.",
}

// Notices of social sign-in and two-step verification.
const (
	flashMFAExpired       = "mfa_expired"
	flashMFADisabled      = "mfa_disabled"
	flashIdentityLinked   = "identity_linked"
	flashIdentityUnlinked = "identity_unlinked"
)

// Notices of the email lifecycle.
const (
	flashPasswordReset   = "password_reset"
	flashEmailConfirmed  = "email_confirmed"
	flashEmailChangeSent = "email_change_sent"
)

func setFlash(w http.ResponseWriter, key string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: key, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

// takeFlash returns the pending notice, if any, and clears it.
func takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	return flashMessages[c.Value]
}
