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
)

var flashMessages = map[string]string{
	flashWelcome:         "Welcome! Your account is ready.",
	flashSignedOut:       "You have been signed out.",
	flashPasswordChanged: "Your password was changed. Your other devices were signed out.",
	flashSessionRevoked:  "That device was signed out.",
}

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
