package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store"
)

func testTokenAttempts(t *testing.T, s store.Store) {
	now := time.Now()
	u := mustCreate(t, s, "kim", "kim@example.com")
	code := &auth.OneTimeToken{Hash: []byte("code-1"), Purpose: "code", UserID: u.ID, Data: "digest", ExpiresAt: now.Add(time.Minute)}
	if err := s.CreateToken(ctx, code); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		got, err := s.AttemptToken(ctx, "code", []byte("code-1"), 3, now)
		if err != nil || got.Data != "digest" || got.UserID != u.ID || got.Purpose != "code" {
			t.Fatalf("AttemptToken() #%d = %+v, %v; want the token", i, got, err)
		}
	}
	_, err := s.AttemptToken(ctx, "code", []byte("code-1"), 3, now)
	wantCode(t, "AttemptToken(a 4th time, max 3)", err, auth.EInvalidToken)
	// Attempts do not spend the token; a caller whose guess was right does.
	if _, err := s.FindToken(ctx, "code", []byte("code-1"), now); err != nil {
		t.Errorf("FindToken() after the attempts = %v, want the unspent token", err)
	}

	s.CreateToken(ctx, &auth.OneTimeToken{Hash: []byte("code-2"), Purpose: "code", ExpiresAt: now.Add(time.Minute)})
	_, err = s.AttemptToken(ctx, "other", []byte("code-2"), 5, now)
	wantCode(t, "AttemptToken(wrong purpose)", err, auth.EInvalidToken)
	_, err = s.AttemptToken(ctx, "code", []byte("code-2"), 5, now.Add(2*time.Minute))
	wantCode(t, "AttemptToken(expired)", err, auth.EInvalidToken)
	if _, err := s.AttemptToken(ctx, "code", []byte("code-2"), 5, now); err != nil {
		t.Errorf("AttemptToken(unbound token) = %v", err)
	}
	if _, err := s.ConsumeToken(ctx, "code", []byte("code-2"), now); err != nil {
		t.Fatal(err)
	}
	_, err = s.AttemptToken(ctx, "code", []byte("code-2"), 5, now)
	wantCode(t, "AttemptToken(used)", err, auth.EInvalidToken)

	// DeleteToken frees the key, used or not, for a new token.
	if err := s.DeleteToken(ctx, "code", []byte("code-2")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteToken(ctx, "code", []byte("never-there")); err != nil {
		t.Errorf("DeleteToken(missing) = %v, want nil", err)
	}
	if err := s.CreateToken(ctx, &auth.OneTimeToken{Hash: []byte("code-2"), Purpose: "code", ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Errorf("CreateToken() after DeleteToken = %v", err)
	}
	if err := s.DeleteToken(ctx, "other", []byte("code-2")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindToken(ctx, "code", []byte("code-2"), now); err != nil {
		t.Errorf("DeleteToken with another purpose removed the token: %v", err)
	}
}

func testTokenAttemptRace(t *testing.T, s store.Store) {
	now := time.Now()
	if err := s.CreateToken(ctx, &auth.OneTimeToken{Hash: []byte("guess"), Purpose: "code", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var got, refused atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.AttemptToken(ctx, "code", []byte("guess"), 5, now)
			switch auth.ErrorCode(err) {
			case "":
				got.Add(1)
			case auth.EInvalidToken:
				refused.Add(1)
			default:
				t.Errorf("AttemptToken() = %v", err)
			}
		}()
	}
	wg.Wait()
	if got.Load() != 5 || refused.Load() != 15 {
		t.Errorf("20 concurrent AttemptToken(max 5): %d got the token, %d refused; want 5 and 15", got.Load(), refused.Load())
	}
}

func testImportUsers(t *testing.T, s store.Store) {
	existing := mustCreate(t, s, "Lena", "lena@example.com", "user")
	created := time.Date(2019, 5, 1, 8, 30, 0, 0, time.UTC)
	var batch []*auth.User
	for i := range 1200 { // more than one INSERT's worth
		roles := []string{"user"}
		if i%100 == 0 {
			roles = []string{"user", "editor", "user"}
		}
		batch = append(batch, &auth.User{Username: fmt.Sprintf("Imp%04d", i), Email: fmt.Sprintf("IMP%04d@Example.com", i),
			PasswordHash: "pbkdf2:sha256:600000$salt$00", EmailVerified: i%2 == 0, Active: true, Roles: roles, CreatedAt: created})
	}
	if err := s.CreateUsers(ctx, batch); err != nil {
		t.Fatalf("CreateUsers(1200) = %v", err)
	}
	if n, _ := s.CountUsers(ctx, auth.UserFilter{}); n != 1201 {
		t.Errorf("CountUsers() = %d, want 1201", n)
	}
	got, err := s.FindUserByLogin(ctx, "imp0100@example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := &auth.User{ID: batch[100].ID, Username: "Imp0100", Email: "imp0100@example.com", EmailVerified: true,
		PasswordHash: "pbkdf2:sha256:600000$salt$00", Active: true, Roles: []string{"editor", "user"}, CreatedAt: created}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("imported user (-want +got):\n%s", d)
	}

	byEmail, err := s.FindUsersByEmail(ctx, []string{"LENA@example.com", "imp0001@example.com", "nobody@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(byEmail) != 2 || byEmail["lena@example.com"].ID != existing.ID || byEmail["imp0001@example.com"].Username != "Imp0001" {
		t.Errorf("FindUsersByEmail() = %v, want lena and imp0001 by address", byEmail)
	}
	var many []string
	for i := range 1200 {
		many = append(many, fmt.Sprintf("imp%04d", i))
	}
	byName, err := s.FindUsersByUsername(ctx, append(many, "LENA", "nobody"))
	if err != nil {
		t.Fatal(err)
	}
	if len(byName) != 1201 || byName["lena"].ID != existing.ID || byName["imp1199"].Email != "imp1199@example.com" {
		t.Errorf("FindUsersByUsername() found %d users, want 1201 keyed by lowercase username", len(byName))
	}

	// A taken address or an unknown role refuses the whole batch.
	err = s.CreateUsers(ctx, []*auth.User{
		{Username: "fresh", Email: "fresh@example.com", Active: true},
		{Username: "other", Email: "lena@example.com", Active: true},
	})
	wantCode(t, "CreateUsers(taken email)", err, auth.EConflict)
	err = s.CreateUsers(ctx, []*auth.User{{Username: "fresh", Email: "fresh@example.com", Active: true, Roles: []string{"wizard"}}})
	wantCode(t, "CreateUsers(unknown role)", err, auth.EValidation)
	if _, err := s.FindUserByLogin(ctx, "fresh"); !auth.IsNotFound(err) {
		t.Errorf("a refused batch left a user behind: %v", err)
	}

	// Inside InTx, a batch and the reads after it share the transaction.
	err = s.InTx(ctx, func(tx auth.Store) error {
		if err := tx.CreateUsers(ctx, []*auth.User{{Username: "intx", Email: "intx@example.com", Active: true}}); err != nil {
			return err
		}
		m, err := tx.FindUsersByEmail(ctx, []string{"intx@example.com"})
		if err != nil || len(m) != 1 {
			t.Errorf("FindUsersByEmail() inside the transaction = %v, %v; want the new user", m, err)
		}
		return fmt.Errorf("roll back")
	})
	if err == nil {
		t.Fatal("InTx() = nil, want the error")
	}
	if _, err := s.FindUserByLogin(ctx, "intx"); !auth.IsNotFound(err) {
		t.Errorf("a rolled-back batch left a user behind: %v", err)
	}
}
