package accounts_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/audit"
	"github.com/gatehouse-dev/gatehouse/auth"
)

type revoker struct {
	mu    sync.Mutex
	users []string
	st    auth.Store
}

func (r *revoker) RevokeUser(ctx context.Context, userID, except, reason string) ([]string, error) {
	r.mu.Lock()
	r.users = append(r.users, userID)
	r.mu.Unlock()
	return r.st.RevokeUserSessions(ctx, userID, except, time.Now().Add(15*time.Minute))
}

func newAdminService(t *testing.T, st auth.Store, clk *clock) (*accounts.Service, *revoker) {
	rv := &revoker{st: st}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := accounts.New(accounts.Config{Store: st, Hasher: fastHasher(t), Now: clk.Now, Sessions: rv,
		Logger: logger, Audit: audit.New(st, clk.Now, logger)})
	if err != nil {
		t.Fatal(err)
	}
	return svc, rv
}

func reg(t *testing.T, svc *accounts.Service, name string, roles ...string) *auth.User {
	t.Helper()
	u, err := svc.Register(context.Background(), accounts.Registration{Username: name, Email: name + "@example.com", Password: "correct horse battery staple", Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestAdminGuards(t *testing.T) {
	forEachBackend(t, func(t *testing.T, _ *accounts.Service, st auth.Store, clk *clock, _ *bytes.Buffer) {
		ctx := context.Background()
		svc, rv := newAdminService(t, st, clk)
		root := reg(t, svc, "root", "user", "admin")
		bob := reg(t, svc, "bob", "user")

		// Nobody disables or deletes themselves.
		if _, err := svc.SetActive(ctx, root, root.ID, false); code(err) != auth.EForbidden {
			t.Errorf("SetActive(self, false) = %v, want forbidden", err)
		}
		if err := svc.DeleteUser(ctx, root, root.ID); code(err) != auth.EForbidden {
			t.Errorf("DeleteUser(self) = %v, want forbidden", err)
		}
		// The last admin keeps the role, stays active and is not deleted.
		if _, err := svc.SetRoles(ctx, nil, root.ID, []string{"user"}); code(err) != auth.EConflict {
			t.Errorf("SetRoles(last admin, no admin) = %v, want conflict", err)
		}
		if _, err := svc.SetActive(ctx, nil, root.ID, false); code(err) != auth.EConflict {
			t.Errorf("SetActive(last admin, false) = %v, want conflict", err)
		}
		if err := svc.DeleteUser(ctx, bob, root.ID); code(err) != auth.EConflict {
			t.Errorf("DeleteUser(last admin) = %v, want conflict", err)
		}
		if got, _ := st.FindUserByID(ctx, root.ID); !got.HasRole("admin") || !got.Active {
			t.Fatalf("the last admin changed: %+v", got)
		}
		if len(rv.users) != 0 {
			t.Errorf("refused actions ended sessions of %v", rv.users)
		}
		// With a second admin, the first may be demoted.
		if _, err := svc.SetRoles(ctx, root, bob.ID, []string{"user", "admin"}); err != nil {
			t.Fatal(err)
		}
		if u, err := svc.SetRoles(ctx, bob, root.ID, []string{"user", "editor"}); err != nil || u.HasRole("admin") {
			t.Errorf("SetRoles(demote one of two admins) = %v, %v", u, err)
		}
		if _, err := svc.SetRoles(ctx, nil, bob.ID, []string{"user"}); code(err) != auth.EConflict {
			t.Errorf("SetRoles(now the last admin) = %v, want conflict", err)
		}
		// Disabling ends the user's sessions; enabling does not.
		if _, err := svc.SetActive(ctx, bob, root.ID, false); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(rv.users, root.ID) {
			t.Error("disabling did not end the user's sessions")
		}
		if u, err := svc.SetActive(ctx, bob, root.ID, true); err != nil || !u.Active {
			t.Errorf("SetActive(true) = %v, %v", u, err)
		}
		if err := svc.DeleteUser(ctx, bob, root.ID); err != nil {
			t.Errorf("DeleteUser() = %v", err)
		}
		events, _, _ := st.FindEvents(ctx, auth.EventFilter{Limit: 100})
		types := map[string]bool{}
		for _, e := range events {
			types[e.Type] = true
		}
		for _, want := range []string{auth.EventRoleChanged, auth.EventAccountDisabled, auth.EventAccountEnabled, auth.EventAccountDeleted} {
			if !types[want] {
				t.Errorf("no %s event in the audit log", want)
			}
		}
	})
}

// Two admins demoting each other at once cannot leave no admin.
func TestLastAdminUnderConcurrency(t *testing.T) {
	forEachBackend(t, func(t *testing.T, _ *accounts.Service, st auth.Store, clk *clock, _ *bytes.Buffer) {
		ctx := context.Background()
		svc, _ := newAdminService(t, st, clk)
		a := reg(t, svc, "adma", "user", "admin")
		b := reg(t, svc, "admb", "user", "admin")
		var wg sync.WaitGroup
		for _, pair := range [][2]*auth.User{{a, b}, {b, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				svc.SetRoles(ctx, pair[0], pair[1].ID, []string{"user"})
			}()
		}
		wg.Wait()
		yes := true
		if n, _ := st.CountUsers(ctx, auth.UserFilter{Role: "admin", Active: &yes}); n != 1 {
			t.Errorf("admins after two concurrent demotions = %d, want 1", n)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, _ *accounts.Service, st auth.Store, clk *clock, _ *bytes.Buffer) {
		ctx := context.Background()
		svc, _ := newAdminService(t, st, clk)
		root := reg(t, svc, "root", "user", "admin")
		other := reg(t, svc, "other", "user", "admin")
		if _, _, err := svc.CreateAPIKey(ctx, root, "", []string{"nope"}, nil); code(err) != auth.EValidation {
			t.Errorf("CreateAPIKey(bad) = %v, want validation_failed", err)
		}
		exp := clk.Now().Add(time.Hour)
		k, secret, err := svc.CreateAPIKey(ctx, root, "deploy bot", []string{"admin", "introspect"}, &exp)
		if err != nil || len(secret) != 46 || secret[:3] != "gh_" || k.Prefix != secret[:9] {
			t.Fatalf("CreateAPIKey() = %+v, %q, %v", k, secret, err)
		}
		// The secret is stored only as a hash.
		stored, _ := st.FindAPIKeys(ctx)
		if len(stored) != 1 || bytes.Contains(stored[0].Hash, []byte(secret)) || bytes.Equal(stored[0].Hash, []byte(secret)) {
			t.Fatalf("stored key = %+v", stored)
		}
		got, owner, err := svc.AuthenticateAPIKey(ctx, secret)
		if err != nil || got.ID != k.ID || owner.ID != root.ID || !slices.Contains(got.Scopes, "admin") {
			t.Fatalf("AuthenticateAPIKey() = %+v, %+v, %v", got, owner, err)
		}
		last := "A"
		if secret[len(secret)-1] == 'A' {
			last = "B" // the altered key must differ from the real one
		}
		for _, bad := range []string{"", "gh_", secret + "x", "xx" + secret[2:], secret[:len(secret)-1] + last} {
			if _, _, err := svc.AuthenticateAPIKey(ctx, bad); code(err) != auth.EUnauthorized {
				t.Errorf("AuthenticateAPIKey(%q) = %v, want unauthorized", bad, err)
			}
		}
		// A creator who loses the admin role takes the admin scope from the key.
		svc.SetRoles(ctx, other, root.ID, []string{"user"})
		if got, _, err := svc.AuthenticateAPIKey(ctx, secret); err != nil || slices.Contains(got.Scopes, "admin") || !slices.Contains(got.Scopes, "introspect") {
			t.Errorf("key of a demoted creator = %+v, %v; want introspect only", got, err)
		}
		// A disabled creator stops the key.
		svc.SetActive(ctx, other, root.ID, false)
		if _, _, err := svc.AuthenticateAPIKey(ctx, secret); code(err) != auth.EUnauthorized {
			t.Errorf("key of a disabled creator = %v, want unauthorized", err)
		}
		svc.SetActive(ctx, other, root.ID, true)
		clk.Add(2 * time.Hour)
		if _, _, err := svc.AuthenticateAPIKey(ctx, secret); code(err) != auth.EUnauthorized {
			t.Errorf("expired key = %v, want unauthorized", err)
		}
		k2, s2, _ := svc.CreateAPIKey(ctx, root, "other", []string{"introspect"}, nil)
		if err := svc.RevokeAPIKey(ctx, root, k2.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.AuthenticateAPIKey(ctx, s2); code(err) != auth.EUnauthorized {
			t.Errorf("revoked key = %v, want unauthorized", err)
		}
	})
}
