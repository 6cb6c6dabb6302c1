package storetest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store"
)

func newPasskey(userID string, credentialID []byte, created time.Time) *auth.Passkey {
	return &auth.Passkey{
		UserID:            userID,
		CredentialID:      credentialID,
		PublicKey:         []byte{0xa5, 0x01, 0x02, 0x03, 0x26},
		Algorithm:         -7,
		SignCount:         3,
		AAGUID:            bytes.Repeat([]byte{0xad}, 16),
		Transports:        []string{"hybrid", "internal"},
		BackupEligible:    true,
		BackupState:       true,
		UserVerified:      true,
		AttestationFormat: "none",
		Name:              "Phone",
		CreatedAt:         created,
	}
}

func with(p *auth.Passkey, change func(*auth.Passkey)) *auth.Passkey {
	change(p)
	return p
}

func testPasskeys(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 7, 1, 10, 0, 0, 123456789, time.UTC)
	alice := mustCreate(t, s, "alice", "alice@example.com")
	bob := mustCreate(t, s, "bob", "bob@example.com")

	first := newPasskey(alice.ID, []byte("credential-1"), t0)
	if err := s.CreatePasskey(ctx, first); err != nil {
		t.Fatalf("CreatePasskey() = %v", err)
	}
	if len(first.ID) < 20 {
		t.Errorf("passkey ID = %q, want a long random ID", first.ID)
	}
	// The longest credential ID WebAuthn allows, and no optional parts.
	second := &auth.Passkey{UserID: alice.ID, CredentialID: bytes.Repeat([]byte{7}, 1023), PublicKey: []byte{1},
		Algorithm: -8, Name: "Security key", CreatedAt: t0.Add(time.Minute)}
	if err := s.CreatePasskey(ctx, second); err != nil {
		t.Fatalf("CreatePasskey(1023-byte credential ID) = %v", err)
	}

	wantFirst := *first
	wantFirst.CreatedAt = t0.Truncate(time.Microsecond)
	wantSecond := *second
	wantSecond.Transports = []string{}
	got, err := s.FindPasskeysByUser(ctx, alice.ID)
	if err != nil {
		t.Fatalf("FindPasskeysByUser() = %v", err)
	}
	if d := cmp.Diff([]*auth.Passkey{&wantFirst, &wantSecond}, got); d != "" {
		t.Errorf("FindPasskeysByUser() mismatch (-want +got):\n%s", d)
	}
	if got, err := s.FindPasskeysByUser(ctx, bob.ID); err != nil || got == nil || len(got) != 0 {
		t.Errorf("FindPasskeysByUser(no passkeys) = %v, %v; want an empty, non-nil slice", got, err)
	}
	found, err := s.FindPasskeyByCredentialID(ctx, []byte("credential-1"))
	if err != nil {
		t.Fatalf("FindPasskeyByCredentialID() = %v", err)
	}
	if d := cmp.Diff(&wantFirst, found); d != "" {
		t.Errorf("FindPasskeyByCredentialID() mismatch (-want +got):\n%s", d)
	}
	_, err = s.FindPasskeyByCredentialID(ctx, []byte("credential-2"))
	wantCode(t, "FindPasskeyByCredentialID(missing)", err, auth.ENotFound)

	for _, tc := range []struct {
		name string
		p    *auth.Passkey
		code string
	}{
		{"credential ID of another user's passkey", newPasskey(bob.ID, []byte("credential-1"), t0), auth.EConflict},
		{"credential ID registered twice", newPasskey(alice.ID, []byte("credential-1"), t0), auth.EConflict},
		{"empty name", with(newPasskey(bob.ID, []byte("c3"), t0), func(p *auth.Passkey) { p.Name = " " }), auth.EValidation},
		{"name too long", with(newPasskey(bob.ID, []byte("c4"), t0), func(p *auth.Passkey) { p.Name = strings.Repeat("é", 65) }), auth.EValidation},
		{"transport with a comma", with(newPasskey(bob.ID, []byte("c5"), t0), func(p *auth.Passkey) { p.Transports = []string{"usb,nfc"} }), auth.EValidation},
	} {
		wantCode(t, "CreatePasskey("+tc.name+")", s.CreatePasskey(ctx, tc.p), tc.code)
	}
	if got, _ := s.FindPasskeysByUser(ctx, bob.ID); len(got) != 0 {
		t.Errorf("bob has %d passkeys after refused creates, want 0", len(got))
	}

	// Rename and delete only touch the user's own passkeys.
	for _, tc := range []struct {
		name, userID, id, newName, code string
	}{
		{"own", alice.ID, first.ID, "Work phone", ""},
		{"another user's", bob.ID, first.ID, "Mine now", auth.ENotFound},
		{"missing", alice.ID, "nope", "x", auth.ENotFound},
		{"control character", alice.ID, first.ID, "bad\nname", auth.EValidation},
	} {
		wantCode(t, fmt.Sprintf("RenamePasskey(%s)", tc.name), s.RenamePasskey(ctx, tc.userID, tc.id, tc.newName), tc.code)
	}
	if got, _ := s.FindPasskeyByCredentialID(ctx, []byte("credential-1")); got.Name != "Work phone" {
		t.Errorf("name after renames = %q, want %q", got.Name, "Work phone")
	}
	wantCode(t, "DeletePasskey(another user's)", s.DeletePasskey(ctx, bob.ID, first.ID), auth.ENotFound)
	if err := s.DeletePasskey(ctx, alice.ID, first.ID); err != nil {
		t.Fatalf("DeletePasskey() = %v", err)
	}
	wantCode(t, "DeletePasskey(again)", s.DeletePasskey(ctx, alice.ID, first.ID), auth.ENotFound)
	// The credential ID is free again.
	if err := s.CreatePasskey(ctx, newPasskey(bob.ID, []byte("credential-1"), t0)); err != nil {
		t.Errorf("CreatePasskey(deleted credential ID) = %v", err)
	}

	// Deleting a user deletes their passkeys and handle.
	if _, err := s.UserHandle(ctx, alice.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.FindPasskeyByCredentialID(ctx, second.CredentialID)
	wantCode(t, "FindPasskeyByCredentialID(deleted user's)", err, auth.ENotFound)
	_, err = s.UserHandle(ctx, alice.ID, false)
	wantCode(t, "UserHandle(deleted user)", err, auth.ENotFound)
}

func testPasskeyUse(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 7, 2, 0, 0, 0, 0, time.UTC)
	u := mustCreate(t, s, "carol", "carol@example.com")
	p := newPasskey(u.ID, []byte("counted"), t0)
	p.SignCount, p.BackupEligible, p.BackupState = 10, true, false
	if err := s.CreatePasskey(ctx, p); err != nil {
		t.Fatal(err)
	}
	type state struct {
		SignCount    uint32
		BackupState  bool
		CloneWarning bool
		LastUsedAt   time.Time
	}
	// Each step applies to the state the previous one left.
	for _, tc := range []struct {
		name         string
		count        uint32
		bs, clone    bool
		used         time.Time
		want         state
		wantNotFound bool
	}{
		{"counter moves forward", 11, true, false, t0.Add(2 * time.Hour), state{11, true, false, t0.Add(2 * time.Hour)}, false},
		{"counter never moves back", 5, true, false, t0.Add(3 * time.Hour), state{11, true, false, t0.Add(3 * time.Hour)}, false},
		{"last used never moves back", 12, false, false, t0.Add(time.Hour), state{12, false, false, t0.Add(3 * time.Hour)}, false},
		{"clone warning set", 12, false, true, t0.Add(4 * time.Hour), state{12, false, true, t0.Add(4 * time.Hour)}, false},
		{"clone warning stays set", 13, false, false, t0.Add(5 * time.Hour), state{13, false, true, t0.Add(5 * time.Hour)}, false},
		{"largest counter", 1<<32 - 1, false, false, t0.Add(6 * time.Hour), state{1<<32 - 1, false, true, t0.Add(6 * time.Hour)}, false},
	} {
		if err := s.UpdatePasskeyUse(ctx, p.ID, tc.count, tc.bs, tc.clone, tc.used); err != nil {
			t.Fatalf("UpdatePasskeyUse(%s) = %v", tc.name, err)
		}
		got, err := s.FindPasskeyByCredentialID(ctx, []byte("counted"))
		if err != nil {
			t.Fatal(err)
		}
		if got.LastUsedAt == nil {
			t.Fatalf("UpdatePasskeyUse(%s): LastUsedAt is nil", tc.name)
		}
		if d := cmp.Diff(tc.want, state{got.SignCount, got.BackupState, got.CloneWarning, *got.LastUsedAt}); d != "" {
			t.Errorf("after UpdatePasskeyUse(%s) (-want +got):\n%s", tc.name, d)
		}
		if !got.BackupEligible {
			t.Errorf("after UpdatePasskeyUse(%s): BackupEligible changed", tc.name)
		}
	}
	wantCode(t, "UpdatePasskeyUse(missing)", s.UpdatePasskeyUse(ctx, "nope", 1, false, false, t0), auth.ENotFound)
}

func testUserHandles(t *testing.T, s store.Store) {
	dave := mustCreate(t, s, "dave", "dave@example.com")
	erin := mustCreate(t, s, "erin", "erin@example.com")

	_, err := s.UserHandle(ctx, dave.ID, false)
	wantCode(t, "UserHandle(none yet, no create)", err, auth.ENotFound)
	_, err = s.UserHandle(ctx, "missing-user", true)
	wantCode(t, "UserHandle(missing user, create)", err, auth.ENotFound)

	h, err := s.UserHandle(ctx, dave.ID, true)
	if err != nil || len(h) != auth.UserHandleLen {
		t.Fatalf("UserHandle(create) = %x, %v; want %d bytes", h, err, auth.UserHandleLen)
	}
	if bytes.Contains(h, []byte("dave")) {
		t.Errorf("user handle %x contains the username", h)
	}
	for _, create := range []bool{false, true} {
		again, err := s.UserHandle(ctx, dave.ID, create)
		if err != nil || !bytes.Equal(again, h) {
			t.Errorf("UserHandle(create=%v) second time = %x, %v; want the same handle %x", create, again, err, h)
		}
	}
	other, err := s.UserHandle(ctx, erin.ID, true)
	if err != nil || bytes.Equal(other, h) {
		t.Errorf("UserHandle(another user) = %x, %v; want a different handle", other, err)
	}
	for _, tc := range []struct {
		name   string
		handle []byte
		want   string
		code   string
	}{
		{"dave's", h, dave.ID, ""},
		{"erin's", other, erin.ID, ""},
		{"unknown", bytes.Repeat([]byte{1}, auth.UserHandleLen), "", auth.ENotFound},
		{"empty", nil, "", auth.ENotFound},
	} {
		got, err := s.FindUserByHandle(ctx, tc.handle)
		wantCode(t, "FindUserByHandle("+tc.name+")", err, tc.code)
		if got != tc.want {
			t.Errorf("FindUserByHandle(%s) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func testUserHandleRace(t *testing.T, s store.Store) {
	u := mustCreate(t, s, "frank", "frank@example.com")
	handles := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range handles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := s.UserHandle(ctx, u.ID, true)
			if err != nil {
				t.Errorf("UserHandle() = %v", err)
			}
			handles[i] = h
		}()
	}
	wg.Wait()
	for i, h := range handles {
		if !bytes.Equal(h, handles[0]) {
			t.Errorf("concurrent UserHandle() #%d = %x, want the same handle as #0 (%x)", i, h, handles[0])
		}
	}
}
