package storetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store"
)

func testIdentities(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 8, 1, 9, 0, 0, 123456789, time.UTC)
	alice := mustCreate(t, s, "alice", "alice@example.com")
	bob := mustCreate(t, s, "bob", "bob@example.com")

	google := &auth.Identity{UserID: alice.ID, Provider: "google", Issuer: "https://accounts.google.com", Subject: "1001",
		Email: " Alice@Example.com", EmailVerified: true, CreatedAt: t0}
	if err := s.CreateIdentity(ctx, google); err != nil {
		t.Fatalf("CreateIdentity() = %v", err)
	}
	if len(google.ID) < 20 {
		t.Errorf("identity ID = %q, want a long random ID", google.ID)
	}
	want := &auth.Identity{ID: google.ID, UserID: alice.ID, Provider: "google", Issuer: "https://accounts.google.com",
		Subject: "1001", Email: "alice@example.com", EmailVerified: true, CreatedAt: t0.Truncate(time.Microsecond),
		LastLoginAt: t0.Truncate(time.Microsecond)}
	got, err := s.FindIdentity(ctx, "google", "https://accounts.google.com", "1001")
	if err != nil {
		t.Fatalf("FindIdentity() = %v", err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("FindIdentity() mismatch (-want +got):\n%s", d)
	}

	// The key is exact: another provider name, issuer or a subject in
	// another case is another identity.
	misses := []struct{ provider, issuer, subject string }{
		{"github", "https://accounts.google.com", "1001"},
		{"google", "https://accounts.google.com/", "1001"},
		{"google", "https://accounts.google.com", "1001 "},
		{"google", "https://accounts.google.com", "10010"},
	}
	for _, m := range misses {
		_, err := s.FindIdentity(ctx, m.provider, m.issuer, m.subject)
		wantCode(t, fmt.Sprintf("FindIdentity(%q, %q, %q)", m.provider, m.issuer, m.subject), err, auth.ENotFound)
	}
	caseSub := &auth.Identity{UserID: alice.ID, Provider: "oidc", Issuer: "https://id.example", Subject: "AbC", CreatedAt: t0.Add(time.Second)}
	lowerSub := &auth.Identity{UserID: bob.ID, Provider: "oidc", Issuer: "https://id.example", Subject: "abc", CreatedAt: t0}
	for _, i := range []*auth.Identity{caseSub, lowerSub} {
		if err := s.CreateIdentity(ctx, i); err != nil {
			t.Fatalf("CreateIdentity(subject %q) = %v", i.Subject, err)
		}
	}
	if got, err := s.FindIdentity(ctx, "oidc", "https://id.example", "abc"); err != nil || got.UserID != bob.ID {
		t.Errorf("FindIdentity(subject abc) = %v, %v; want bob's identity", got, err)
	}

	// The same key is refused for anyone, and the same email is no key at all.
	dupe := &auth.Identity{UserID: bob.ID, Provider: "google", Issuer: "https://accounts.google.com", Subject: "1001"}
	wantCode(t, "CreateIdentity(same key, other user)", s.CreateIdentity(ctx, dupe), auth.EConflict)
	dupe.UserID = alice.ID
	wantCode(t, "CreateIdentity(same key, same user)", s.CreateIdentity(ctx, dupe), auth.EConflict)
	sameEmail := &auth.Identity{UserID: bob.ID, Provider: "google", Issuer: "https://accounts.google.com", Subject: "2002",
		Email: "alice@example.com", EmailVerified: true, CreatedAt: t0.Add(time.Minute)}
	if err := s.CreateIdentity(ctx, sameEmail); err != nil {
		t.Errorf("CreateIdentity(another subject with the same email) = %v", err)
	}

	for _, bad := range []*auth.Identity{
		{UserID: alice.ID, Provider: "google", Issuer: "https://accounts.google.com", Subject: ""},
		{UserID: alice.ID, Provider: "", Issuer: "https://accounts.google.com", Subject: "1"},
		{UserID: alice.ID, Provider: "google", Issuer: "", Subject: "1"},
		{UserID: alice.ID, Provider: "google", Issuer: "https://accounts.google.com", Subject: strings.Repeat("x", 256)},
	} {
		wantCode(t, fmt.Sprintf("CreateIdentity(%q, %q, %d-byte subject)", bad.Provider, bad.Issuer, len(bad.Subject)),
			s.CreateIdentity(ctx, bad), auth.EValidation)
	}

	list, err := s.FindUserIdentities(ctx, alice.ID)
	if err != nil {
		t.Fatalf("FindUserIdentities() = %v", err)
	}
	if len(list) != 2 || list[0].ID != google.ID || list[1].ID != caseSub.ID {
		t.Errorf("FindUserIdentities(alice) = %v; want google, then oidc", list)
	}
	carol := mustCreate(t, s, "carol", "carol@example.com")
	if got, err := s.FindUserIdentities(ctx, carol.ID); err != nil || got == nil || len(got) != 0 {
		t.Errorf("FindUserIdentities(none) = %v, %v; want an empty, non-nil slice", got, err)
	}

	// Touch moves forward only, with the email it saw.
	t1 := t0.Add(time.Hour).Truncate(time.Microsecond)
	if err := s.TouchIdentity(ctx, google.ID, "New@Example.com", false, t1); err != nil {
		t.Fatalf("TouchIdentity() = %v", err)
	}
	if err := s.TouchIdentity(ctx, google.ID, "old@example.com", true, t0.Add(time.Minute)); err != nil {
		t.Fatalf("TouchIdentity(older) = %v", err)
	}
	got, _ = s.FindIdentity(ctx, "google", "https://accounts.google.com", "1001")
	if got.Email != "new@example.com" || got.EmailVerified || !got.LastLoginAt.Equal(t1) {
		t.Errorf("after touches: email %q verified %v last login %v; want new@example.com, false, %v",
			got.Email, got.EmailVerified, got.LastLoginAt, t1)
	}
	wantCode(t, "TouchIdentity(missing)", s.TouchIdentity(ctx, "nope", "", false, t1), auth.ENotFound)

	// Another user's identity cannot be deleted, and looks missing.
	wantCode(t, "DeleteIdentity(bob, alice's identity)", s.DeleteIdentity(ctx, bob.ID, google.ID), auth.ENotFound)
	if err := s.DeleteIdentity(ctx, alice.ID, google.ID); err != nil {
		t.Fatalf("DeleteIdentity() = %v", err)
	}
	wantCode(t, "DeleteIdentity(again)", s.DeleteIdentity(ctx, alice.ID, google.ID), auth.ENotFound)
	_, err = s.FindIdentity(ctx, "google", "https://accounts.google.com", "1001")
	wantCode(t, "FindIdentity(deleted)", err, auth.ENotFound)

	// Identities go with their user.
	if err := s.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.FindIdentity(ctx, "google", "https://accounts.google.com", "2002")
	wantCode(t, "FindIdentity(of a deleted user)", err, auth.ENotFound)
}

func recoveryHashes(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s-%d", prefix, i)))
		out[i] = h[:]
	}
	return out
}

func testTOTP(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 8, 2, 9, 0, 0, 0, time.UTC)
	alice := mustCreate(t, s, "alice", "alice@example.com")

	_, err := s.FindTOTP(ctx, alice.ID)
	wantCode(t, "FindTOTP(none)", err, auth.ENotFound)
	wantCode(t, "ConfirmTOTP(none)", s.ConfirmTOTP(ctx, alice.ID, 5, nil, t0), auth.ENotFound)
	wantCode(t, "UseTOTPStep(none)", s.UseTOTPStep(ctx, alice.ID, 5), auth.ENotFound)
	wantCode(t, "DeleteTOTP(none)", s.DeleteTOTP(ctx, alice.ID), auth.ENotFound)

	first := &auth.TOTPSecret{UserID: alice.ID, Sealed: []byte("sealed-1"), CreatedAt: t0, Confirmed: true}
	if err := s.SaveTOTP(ctx, first); err != nil {
		t.Fatalf("SaveTOTP() = %v", err)
	}
	// An unconfirmed enrolment is replaced by the next one.
	second := &auth.TOTPSecret{UserID: alice.ID, Sealed: []byte("sealed-2"), CreatedAt: t0.Add(time.Minute)}
	if err := s.SaveTOTP(ctx, second); err != nil {
		t.Fatalf("SaveTOTP(replacing an unconfirmed one) = %v", err)
	}
	got, err := s.FindTOTP(ctx, alice.ID)
	if err != nil {
		t.Fatalf("FindTOTP() = %v", err)
	}
	want := &auth.TOTPSecret{UserID: alice.ID, Sealed: []byte("sealed-2"), CreatedAt: t0.Add(time.Minute)}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("FindTOTP() after two enrolments (-want +got):\n%s", d)
	}

	codes := recoveryHashes("a", auth.RecoveryCodeCount)
	confirmedAt := t0.Add(2 * time.Minute)
	if err := s.ConfirmTOTP(ctx, alice.ID, 100, codes, confirmedAt); err != nil {
		t.Fatalf("ConfirmTOTP() = %v", err)
	}
	wantCode(t, "ConfirmTOTP(again)", s.ConfirmTOTP(ctx, alice.ID, 101, nil, confirmedAt), auth.ENotFound)
	got, _ = s.FindTOTP(ctx, alice.ID)
	want = &auth.TOTPSecret{UserID: alice.ID, Sealed: []byte("sealed-2"), Confirmed: true, CreatedAt: t0.Add(time.Minute),
		ConfirmedAt: &confirmedAt, LastUsedStep: 100}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("FindTOTP() after ConfirmTOTP (-want +got):\n%s", d)
	}
	if n, err := s.CountRecoveryCodes(ctx, alice.ID); err != nil || n != auth.RecoveryCodeCount {
		t.Errorf("CountRecoveryCodes() = %d, %v; want %d", n, err, auth.RecoveryCodeCount)
	}

	// A confirmed secret is not replaced by a new enrolment.
	wantCode(t, "SaveTOTP(over a confirmed one)", s.SaveTOTP(ctx, &auth.TOTPSecret{UserID: alice.ID, Sealed: []byte("evil")}), auth.EConflict)
	if got, _ := s.FindTOTP(ctx, alice.ID); !bytes.Equal(got.Sealed, []byte("sealed-2")) || !got.Confirmed {
		t.Errorf("after a refused SaveTOTP: sealed %q confirmed %v; want the confirmed sealed-2", got.Sealed, got.Confirmed)
	}

	// Steps are accepted once, and only forwards; the confirming step too.
	steps := []struct {
		step int64
		code string
	}{
		{100, auth.EInvalidCredentials}, // used by ConfirmTOTP
		{99, auth.EInvalidCredentials},
		{101, ""},
		{101, auth.EInvalidCredentials},
		{103, ""},
		{102, auth.EInvalidCredentials},
	}
	for _, st := range steps {
		wantCode(t, fmt.Sprintf("UseTOTPStep(%d)", st.step), s.UseTOTPStep(ctx, alice.ID, st.step), st.code)
	}

	// Disabling removes the secret and the recovery codes.
	if err := s.DeleteTOTP(ctx, alice.ID); err != nil {
		t.Fatalf("DeleteTOTP() = %v", err)
	}
	_, err = s.FindTOTP(ctx, alice.ID)
	wantCode(t, "FindTOTP(after DeleteTOTP)", err, auth.ENotFound)
	if n, err := s.CountRecoveryCodes(ctx, alice.ID); err != nil || n != 0 {
		t.Errorf("CountRecoveryCodes(after DeleteTOTP) = %d, %v; want 0", n, err)
	}
	// A new enrolment starts from step 0 again.
	if err := s.SaveTOTP(ctx, &auth.TOTPSecret{UserID: alice.ID, Sealed: []byte("sealed-3")}); err != nil {
		t.Fatalf("SaveTOTP(after DeleteTOTP) = %v", err)
	}
	if got, _ := s.FindTOTP(ctx, alice.ID); got.LastUsedStep != 0 || got.Confirmed || got.CreatedAt.IsZero() {
		t.Errorf("new enrolment: %+v; want step 0, unconfirmed, with a creation time", got)
	}

	// A rolled-back transaction confirms nothing.
	err = s.InTx(ctx, func(tx auth.Store) error {
		if err := tx.ConfirmTOTP(ctx, alice.ID, 7, recoveryHashes("b", 2), t0); err != nil {
			return err
		}
		return fmt.Errorf("roll back")
	})
	if err == nil {
		t.Fatal("InTx() = nil, want the rollback error")
	}
	if got, _ := s.FindTOTP(ctx, alice.ID); got.Confirmed {
		t.Error("ConfirmTOTP inside a rolled-back InTx stayed")
	}
	if n, _ := s.CountRecoveryCodes(ctx, alice.ID); n != 0 {
		t.Errorf("recovery codes after a rolled-back ConfirmTOTP = %d, want 0", n)
	}

	// Secrets go with their user.
	if err := s.DeleteUser(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.FindTOTP(ctx, alice.ID)
	wantCode(t, "FindTOTP(deleted user)", err, auth.ENotFound)
}

func testRecoveryCodes(t *testing.T, s store.Store) {
	alice := mustCreate(t, s, "alice", "alice@example.com")
	bob := mustCreate(t, s, "bob", "bob@example.com")
	a := recoveryHashes("a", 3)
	if err := s.SaveRecoveryCodes(ctx, alice.ID, append(a, a[0])); err != nil {
		t.Fatalf("SaveRecoveryCodes() = %v", err)
	}
	if n, err := s.CountRecoveryCodes(ctx, alice.ID); err != nil || n != 3 {
		t.Errorf("CountRecoveryCodes() = %d, %v; want 3 (a duplicate counts once)", n, err)
	}
	wantCode(t, "UseRecoveryCode(bob, alice's code)", s.UseRecoveryCode(ctx, bob.ID, a[0]), auth.EInvalidCredentials)
	wantCode(t, "UseRecoveryCode(unknown)", s.UseRecoveryCode(ctx, alice.ID, []byte("nope")), auth.EInvalidCredentials)
	if err := s.UseRecoveryCode(ctx, alice.ID, a[0]); err != nil {
		t.Fatalf("UseRecoveryCode() = %v", err)
	}
	wantCode(t, "UseRecoveryCode(spent)", s.UseRecoveryCode(ctx, alice.ID, a[0]), auth.EInvalidCredentials)
	if n, _ := s.CountRecoveryCodes(ctx, alice.ID); n != 2 {
		t.Errorf("CountRecoveryCodes() after one use = %d, want 2", n)
	}
	// New codes replace the old ones entirely.
	b := recoveryHashes("b", 2)
	if err := s.SaveRecoveryCodes(ctx, alice.ID, b); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "UseRecoveryCode(replaced)", s.UseRecoveryCode(ctx, alice.ID, a[1]), auth.EInvalidCredentials)
	if err := s.UseRecoveryCode(ctx, alice.ID, b[1]); err != nil {
		t.Errorf("UseRecoveryCode(new) = %v", err)
	}
	if n, _ := s.CountRecoveryCodes(ctx, bob.ID); n != 0 {
		t.Errorf("CountRecoveryCodes(bob) = %d, want 0", n)
	}
}

// raceOnce runs fn from n goroutines at once and reports how many returned
// nil and how many failed with the code refused; anything else fails t.
func raceOnce(t *testing.T, n int, refused string, fn func() error) (wins, fails int32) {
	t.Helper()
	var w, f atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := fn()
			switch auth.ErrorCode(err) {
			case "":
				w.Add(1)
			case refused:
				f.Add(1)
			default:
				t.Errorf("concurrent call = %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	return w.Load(), f.Load()
}

func testTOTPStepRace(t *testing.T, s store.Store) {
	alice := mustCreate(t, s, "alice", "alice@example.com")
	if err := s.SaveTOTP(ctx, &auth.TOTPSecret{UserID: alice.ID, Sealed: []byte("s")}); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmTOTP(ctx, alice.ID, 10, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	wins, fails := raceOnce(t, 10, auth.EInvalidCredentials, func() error { return s.UseTOTPStep(ctx, alice.ID, 11) })
	if wins != 1 || fails != 9 {
		t.Errorf("10 concurrent UseTOTPStep(same step): %d won, %d refused; want 1 and 9", wins, fails)
	}
}

func testRecoveryCodeRace(t *testing.T, s store.Store) {
	alice := mustCreate(t, s, "alice", "alice@example.com")
	codes := recoveryHashes("r", 2)
	if err := s.SaveRecoveryCodes(ctx, alice.ID, codes); err != nil {
		t.Fatal(err)
	}
	wins, fails := raceOnce(t, 10, auth.EInvalidCredentials, func() error { return s.UseRecoveryCode(ctx, alice.ID, codes[0]) })
	if wins != 1 || fails != 9 {
		t.Errorf("10 concurrent UseRecoveryCode(same code): %d won, %d refused; want 1 and 9", wins, fails)
	}
	if n, _ := s.CountRecoveryCodes(ctx, alice.ID); n != 1 {
		t.Errorf("CountRecoveryCodes() after the race = %d, want 1", n)
	}
}

func testTOTPConfirmRace(t *testing.T, s store.Store) {
	alice := mustCreate(t, s, "alice", "alice@example.com")
	if err := s.SaveTOTP(ctx, &auth.TOTPSecret{UserID: alice.ID, Sealed: []byte("s")}); err != nil {
		t.Fatal(err)
	}
	var i atomic.Int32
	wins, fails := raceOnce(t, 8, auth.ENotFound, func() error {
		return s.ConfirmTOTP(ctx, alice.ID, 50, recoveryHashes(fmt.Sprint(i.Add(1)), auth.RecoveryCodeCount), time.Now())
	})
	if wins != 1 || fails != 7 {
		t.Errorf("8 concurrent ConfirmTOTP: %d won, %d refused; want 1 and 7", wins, fails)
	}
	// Only the winner's codes are stored.
	if n, _ := s.CountRecoveryCodes(ctx, alice.ID); n != auth.RecoveryCodeCount {
		t.Errorf("CountRecoveryCodes() after the race = %d, want %d", n, auth.RecoveryCodeCount)
	}
}
