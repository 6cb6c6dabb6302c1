//go:build e2e

package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/e2e"
	"github.com/gatehouse-dev/gatehouse/mail"
)

// TestAdminResetMFA turns off the two-step verification of a user who lost
// their phone from the user's admin page: the button shows while it is on,
// asks the admin to tick that they checked who is asking, and afterwards the
// page shows it off, the user's open session has ended, and the user has a
// notice in the outbox.
func TestAdminResetMFA(t *testing.T) {
	for _, store := range e2e.Stores() {
		t.Run(string(store), func(t *testing.T) { testAdminResetMFA(t, store) })
	}
}

func testAdminResetMFA(t *testing.T, store e2e.Store) {
	h, ada, admin, user := adminAndUser(t, store)

	// Ada is signed in; now her two-step verification is on: a confirmed
	// secret, as enrolment leaves it (the reset never opens it).
	st := h.Gatehouse.Store()
	if err := st.SaveTOTP(t.Context(), &auth.TOTPSecret{UserID: ada.ID, Sealed: []byte("sealed")}); err != nil {
		t.Fatalf("SaveTOTP: %v", err)
	}
	if err := st.ConfirmTOTP(t.Context(), ada.ID, 1, nil, time.Now()); err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}

	if got := signIn(admin, "admin-login", "root", adminPassword, false); got != http.StatusOK {
		t.Fatalf("sign in as root: got status %d, want %d", got, http.StatusOK)
	}
	admin.Navigate("/admin/users/" + ada.ID)
	if got := admin.Text("#user-mfa"); got != "on" {
		t.Errorf("ada's two-step verification on her admin page = %q, want on", got)
	}
	if _, required := admin.Attr("#mfa-reset-confirm", "required"); !required {
		t.Errorf("the reset's confirmation box is not required")
	}
	admin.Screenshot("user-mfa-on")

	admin.Click("#mfa-reset-confirm")
	if got := admin.Submit("#reset-mfa"); got != http.StatusOK {
		t.Fatalf("turn off ada's two-step verification: got status %d, want %d", got, http.StatusOK)
	}
	if got, want := admin.Location(), h.URL+"/admin/users/"+ada.ID; got != want {
		t.Errorf("the reset leads to %s, want %s", got, want)
	}
	if got := admin.Text("main [role=status]"); !strings.HasPrefix(got, "Two-step verification is off for this user") {
		t.Errorf("notice after the reset = %q", got)
	}
	if got := admin.Text("#user-mfa"); got != "off" {
		t.Errorf("ada's two-step verification after the reset = %q, want off", got)
	}
	var button bool
	admin.Eval(`document.querySelector("#reset-mfa") !== null`, &button)
	if button {
		t.Errorf("the page still offers the reset after it")
	}
	admin.Screenshot("user-mfa-reset")

	// Ada's open session ended with it.
	user.Navigate("/account")
	if got, want := user.Location(), h.URL+"/login?return_to=%2Faccount"; got != want {
		t.Errorf("ada's next page after the reset is %s, want %s", got, want)
	}

	mails, err := st.FindMails(t.Context(), 50)
	if err != nil {
		t.Fatalf("FindMails: %v", err)
	}
	var notice bool
	for _, m := range mails {
		notice = notice || (m.To == "ada@example.com" && m.Kind == mail.KindMFADisabled)
	}
	if !notice {
		t.Errorf("no mfa_disabled notice to ada in the outbox")
	}
}
