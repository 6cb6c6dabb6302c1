//go:build e2e

package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	otptotp "github.com/pquerna/otp/totp"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/e2e"
)

// totpCode is the code an authenticator app shows for secret at t.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := otptotp.GenerateCode(secret, at)
	if err != nil {
		t.Fatalf("GenerateCode: %v", err)
	}
	return code
}

// signOut signs out through the confirmation page.
func signOut(t *testing.T, b *e2e.Browser) {
	t.Helper()
	b.Navigate("/logout")
	if got := b.Submit("#confirm-logout"); got != http.StatusOK {
		t.Fatalf("sign out: got status %d, want %d", got, http.StatusOK)
	}
}

// TestTOTPEnrolAndSignIn turns two-step verification on from the account
// page, reading the key off the page as a user typing it into an app would,
// then signs in with the password and a code, and with a recovery code,
// which works once.
func TestTOTPEnrolAndSignIn(t *testing.T) {
	for _, store := range e2e.Stores() {
		t.Run(string(store), func(t *testing.T) { testTOTP(t, store) })
	}
}

func testTOTP(t *testing.T, store e2e.Store) {
	const password = "a long user password"
	h := e2e.Start(t, e2e.WithStore(store))
	h.CreateUser(t, accounts.Registration{Username: "ada", Email: "ada@example.com", Password: password})
	b := h.Browser(t)

	if got := signIn(b, "login", "ada", password, false); got != http.StatusOK {
		t.Fatalf("sign in: got status %d, want %d", got, http.StatusOK)
	}
	if got := b.Text("#account-mfa-status"); !strings.Contains(got, "off") {
		t.Errorf("account page two-step status = %q, want it off", got)
	}
	b.Screenshot("account-mfa-off")
	if got := b.Submit("#account-mfa-manage"); got != http.StatusOK {
		t.Fatalf("open /account/mfa: got status %d, want %d", got, http.StatusOK)
	}
	if got := b.Submit("#totp-setup"); got != http.StatusOK {
		t.Fatalf("start the set-up: got status %d, want %d", got, http.StatusOK)
	}
	secret := strings.TrimSpace(b.Text("#totp-secret"))
	if len(secret) != 32 {
		t.Fatalf("manual key on the page = %q, want 32 base32 characters", secret)
	}
	if src, _ := b.Attr("#totp-qr", "src"); !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Errorf("QR code src = %.40q, want a PNG data URL", src)
	}
	var qrLoaded bool
	b.Eval(`document.querySelector("#totp-qr").naturalWidth > 0`, &qrLoaded)
	if !qrLoaded {
		t.Errorf("the QR code image did not load (blocked by the page's policy?)")
	}
	b.Screenshot("totp-setup")

	b.Fill("#totp-code", totpCode(t, secret, time.Now()))
	if got := b.Submit("#totp-confirm"); got != http.StatusOK {
		t.Fatalf("confirm the set-up: got status %d, want %d", got, http.StatusOK)
	}
	var codes []string
	b.Eval(`[...document.querySelectorAll("#recovery-codes code")].map(c => c.textContent.trim())`, &codes)
	if len(codes) != 10 {
		t.Fatalf("page shows %d recovery codes, want 10: %q", len(codes), codes)
	}
	b.Screenshot("recovery-codes")
	if got := b.Submit("#mfa-continue"); got != http.StatusOK {
		t.Fatalf("continue to the account page: got status %d, want %d", got, http.StatusOK)
	}
	if got := b.Text("#account-mfa-status"); !strings.Contains(got, "on") || !strings.Contains(got, "10 recovery codes") {
		t.Errorf("account page two-step status = %q, want it on with 10 recovery codes", got)
	}

	// Signing in again: the password leads to the code step, and a code
	// from the app (the next one: the set-up spent the current one) to the
	// account page.
	signOut(t, b)
	if got := signIn(b, "login-password-step", "ada", password, false); got != http.StatusOK {
		t.Fatalf("password step: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := b.Location(), h.URL+"/login/mfa"; got != want {
		t.Fatalf("password step leads to %s, want %s", got, want)
	}
	if c := b.Cookie(sessionCookie); c != nil {
		t.Errorf("the browser holds a %s cookie before the second factor", sessionCookie)
	}
	if c := b.Cookie("gatehouse_mfa"); c == nil || !c.HTTPOnly {
		t.Errorf("pending sign-in cookie = %+v, want an HttpOnly gatehouse_mfa cookie", c)
	}
	b.Screenshot("login-mfa")
	b.Fill("#code", totpCode(t, secret, time.Now().Add(30*time.Second)))
	if got := b.Submit("main form button[type=submit]"); got != http.StatusOK {
		t.Fatalf("code step: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := b.Location(), h.URL+"/account"; got != want {
		t.Fatalf("code step leads to %s, want %s", got, want)
	}
	checkSessionCookie(t, b, false)
	if c := b.Cookie("gatehouse_mfa"); c != nil {
		t.Errorf("the pending sign-in cookie outlived the sign-in")
	}

	// A recovery code works instead of a code, once.
	signOut(t, b)
	signIn(b, "login-recovery", "ada", password, false)
	b.Fill("#code", strings.ToUpper(codes[0]))
	if got := b.Submit("main form button[type=submit]"); got != http.StatusOK {
		t.Fatalf("recovery code: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := b.Location(), h.URL+"/account"; got != want {
		t.Fatalf("recovery code leads to %s, want %s", got, want)
	}
	if got := b.Text("#account-mfa-status"); !strings.Contains(got, "9 recovery codes") {
		t.Errorf("account page two-step status = %q, want 9 recovery codes left", got)
	}
	signOut(t, b)
	signIn(b, "login-recovery-again", "ada", password, false)
	b.AllowConsole("status of 401")
	b.Fill("#code", codes[0])
	if got := b.Submit("main form button[type=submit]"); got != http.StatusUnauthorized {
		t.Errorf("the same recovery code again: got status %d, want %d", got, http.StatusUnauthorized)
	}
	if got := b.Text("#code-error"); !strings.Contains(got, "not valid") {
		t.Errorf("error under the code field = %q, want it to say the code is not valid", got)
	}
	if c := b.Cookie(sessionCookie); c != nil {
		t.Errorf("the browser holds a %s cookie after a spent recovery code", sessionCookie)
	}
	b.Screenshot("recovery-code-spent")

	u, err := h.Gatehouse.Store().FindUserByLogin(context.Background(), "ada")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := h.Gatehouse.Store().CountRecoveryCodes(context.Background(), u.ID); err != nil || n != 9 {
		t.Errorf("CountRecoveryCodes = %d, %v; want 9", n, err)
	}
}
