package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store"
)

// testCreateUserHandle checks the store side of a passkey sign-up: the user,
// the handle the ceremony chose and the first passkey go in together, in one
// transaction, or not at all.
func testCreateUserHandle(t *testing.T, s store.Store) {
	handle := bytes.Repeat([]byte{0x42}, auth.UserHandleLen)
	wantCode(t, "CreateUserHandle(missing user)", s.CreateUserHandle(ctx, "missing-user", handle), auth.ENotFound)

	gina := mustCreate(t, s, "gina", "gina@example.com")
	wantCode(t, "CreateUserHandle(short handle)", s.CreateUserHandle(ctx, gina.ID, handle[:16]), auth.EValidation)
	if err := s.CreateUserHandle(ctx, gina.ID, handle); err != nil {
		t.Fatalf("CreateUserHandle() = %v", err)
	}
	for _, create := range []bool{false, true} {
		if got, err := s.UserHandle(ctx, gina.ID, create); err != nil || !bytes.Equal(got, handle) {
			t.Errorf("UserHandle(create=%v) after CreateUserHandle = %x, %v; want %x", create, got, err, handle)
		}
	}
	if got, err := s.FindUserByHandle(ctx, handle); err != nil || got != gina.ID {
		t.Errorf("FindUserByHandle() = %q, %v; want %q", got, err, gina.ID)
	}
	other := bytes.Repeat([]byte{0x43}, auth.UserHandleLen)
	wantCode(t, "CreateUserHandle(user with a handle)", s.CreateUserHandle(ctx, gina.ID, other), auth.EConflict)
	hank := mustCreate(t, s, "hank", "hank@example.com")
	wantCode(t, "CreateUserHandle(another user's handle)", s.CreateUserHandle(ctx, hank.ID, handle), auth.EConflict)

	// A sign-up: the user with its chosen ID, its handle and its passkey.
	signUp := func(id, username string, h []byte, credentialID string) error {
		return s.InTx(ctx, func(tx auth.Store) error {
			u := &auth.User{ID: id, Username: username, Email: username + "@example.com", Active: true}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.CreateUserHandle(ctx, u.ID, h); err != nil {
				return err
			}
			return tx.CreatePasskey(ctx, newPasskey(u.ID, []byte(credentialID), time.Now()))
		})
	}
	ivy := auth.NewID()
	ivyHandle := bytes.Repeat([]byte{0x44}, auth.UserHandleLen)
	if err := signUp(ivy, "ivy", ivyHandle, "ivy-credential"); err != nil {
		t.Fatalf("sign-up in one transaction = %v", err)
	}
	if got, err := s.FindUserByHandle(ctx, ivyHandle); err != nil || got != ivy {
		t.Errorf("FindUserByHandle(ivy's) = %q, %v; want %q", got, err, ivy)
	}
	if ps, err := s.FindPasskeysByUser(ctx, ivy); err != nil || len(ps) != 1 {
		t.Errorf("FindPasskeysByUser(ivy) = %d passkeys, %v; want 1", len(ps), err)
	}

	// A sign-up whose passkey is taken leaves neither user nor handle.
	jack := auth.NewID()
	jackHandle := bytes.Repeat([]byte{0x45}, auth.UserHandleLen)
	err := signUp(jack, "jack", jackHandle, "ivy-credential")
	wantCode(t, "sign-up with a registered credential", err, auth.EConflict)
	if _, err := s.FindUserByID(ctx, jack); !auth.IsNotFound(err) {
		t.Errorf("FindUserByID(jack) after the rolled-back sign-up = %v, want ENotFound", err)
	}
	if _, err := s.FindUserByHandle(ctx, jackHandle); !auth.IsNotFound(err) {
		t.Errorf("FindUserByHandle(jack's) after the rolled-back sign-up = %v, want ENotFound", err)
	}
	if err := signUp(jack, "jack", jackHandle, "jack-credential"); err != nil {
		t.Errorf("sign-up again after the rollback = %v", err)
	}
}
