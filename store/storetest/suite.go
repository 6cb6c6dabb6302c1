package storetest

import (
	"context"
	"errors"
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

// Run runs the conformance suite against the stores that open makes; each
// subtest gets a new, migrated, empty store.
func Run(t *testing.T, open func(testing.TB) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"Migrate is idempotent", testMigrate},
		{"CreateUser and find it", testCreateFind},
		{"unique username and email, case-insensitively", testUnique},
		{"unknown role refuses the whole user", testUnknownRole},
		{"FindUsers filters, sorts and pages", testFindUsers},
		{"UpdateUser", testUpdate},
		{"SetUserRoles", testSetRoles},
		{"DeleteUser", testDelete},
		{"roles", testRoles},
		{"one-time tokens", testTokens},
		{"one-time token consumed once under concurrency", testTokenRace},
		{"one-time tokens: attempts and delete", testTokenAttempts},
		{"one-time token attempts limited under concurrency", testTokenAttemptRace},
		{"one-time tokens: expired and long-spent ones are purged", testTokenPurge},
		{"bulk import: find by email and username, create users", testImportUsers},
		{"signing keys", testSigningKeys},
		{"sessions", testSessions},
		{"revoking sessions feeds revocations", testRevocations},
		{"role change marks sessions for rotation", testRotateOnRoleChange},
		{"refresh tokens rotate and detect reuse", testRefreshRotation},
		{"refresh token rotated once under concurrency", testRefreshRace},
		{"refresh tokens die with their session", testRefreshDiesWithSession},
		{"API keys", testAPIKeys},
		{"audit log", testAudit},
		{"dashboard counts: active sessions, events per hour", testStats},
		{"InTx commits or rolls back together", testInTx},
		{"passkeys: create, find, rename, delete", testPasskeys},
		{"passkeys: use moves the counter forward only", testPasskeyUse},
		{"passkeys: user handles", testUserHandles},
		{"passkeys: one user handle under concurrency", testUserHandleRace},
		{"passkeys: a sign-up stores user, handle and passkey together", testCreateUserHandle},
		{"identities: keyed by provider, issuer and subject", testIdentities},
		{"TOTP: enrol, confirm, steps forward only, delete", testTOTP},
		{"recovery codes: each works once", testRecoveryCodes},
		{"TOTP: one step accepted once under concurrency", testTOTPStepRace},
		{"recovery codes: one code spent once under concurrency", testRecoveryCodeRace},
		{"TOTP: one enrolment confirmed once under concurrency", testTOTPConfirmRace},
		{"outbox: enqueue, claim, mark sent", testOutboxSend},
		{"outbox: a claimed mail is leased", testOutboxLease},
		{"outbox: a failed mail backs off, or is given up", testOutboxBackoff},
		{"outbox: retention deletes sent and abandoned mails", testOutboxRetention},
		{"outbox: concurrent claims never share a mail", testOutboxClaimRace},
		{"outbox: a rolled-back InTx leaves no mail", testOutboxInTx},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var ctx = context.Background()

func mustCreate(t *testing.T, s store.Store, username, email string, roles ...string) *auth.User {
	t.Helper()
	u := &auth.User{Username: username, Email: email, Active: true, Roles: roles, PasswordHash: "$argon2id$x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser(%q) = %v", username, err)
	}
	return u
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := auth.ErrorCode(err); got != code {
		t.Errorf("%s: error code = %q (%v), want %q", what, got, err, code)
	}
}

func testMigrate(t *testing.T, s store.Store) {
	v, err := s.SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("SchemaVersion() = %d, %v; want >= 1", v, err)
	}
	applied, err := s.Migrate(ctx)
	if err != nil || len(applied) != 0 {
		t.Errorf("second Migrate() = %v, %v; want nothing applied", applied, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping() = %v", err)
	}
}

func testCreateFind(t *testing.T, s store.Store) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	u := &auth.User{Username: "Alice", Email: "  Alice@Example.COM ", Active: true, Roles: []string{"user", "admin", "user"},
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$x$y", CreatedAt: created}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser() = %v", err)
	}
	if len(u.ID) < 20 {
		t.Errorf("ID = %q, want a long random ID", u.ID)
	}
	other := mustCreate(t, s, "bob", "bob@example.com")
	if other.ID == u.ID {
		t.Fatalf("two users got the same ID %q", u.ID)
	}
	want := &auth.User{ID: u.ID, Username: "Alice", Email: "alice@example.com", Active: true, Roles: []string{"admin", "user"},
		PasswordHash: u.PasswordHash, CreatedAt: created.Truncate(time.Microsecond)}
	for _, login := range []string{"alice", "ALICE", "Alice", "alice@example.com", " ALICE@example.com "} {
		got, err := s.FindUserByLogin(ctx, login)
		if err != nil {
			t.Fatalf("FindUserByLogin(%q) = %v", login, err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("FindUserByLogin(%q) mismatch (-want +got):\n%s", login, d)
		}
	}
	got, err := s.FindUserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("FindUserByID() = %v", err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("FindUserByID() mismatch (-want +got):\n%s", d)
	}
	_, err = s.FindUserByID(ctx, "nope")
	wantCode(t, "FindUserByID(missing)", err, auth.ENotFound)
	_, err = s.FindUserByLogin(ctx, "nobody@example.com")
	wantCode(t, "FindUserByLogin(missing)", err, auth.ENotFound)

	// A user with no password and no roles.
	np := &auth.User{Username: "passkey-only", Email: "pk@example.com", Active: true}
	if err := s.CreateUser(ctx, np); err != nil {
		t.Fatal(err)
	}
	got, _ = s.FindUserByID(ctx, np.ID)
	if got.HasPassword() || len(got.Roles) != 0 || got.Roles == nil {
		t.Errorf("user without password/roles = %+v, want empty hash and empty non-nil roles", got)
	}
}

func testUnique(t *testing.T, s store.Store) {
	mustCreate(t, s, "carol", "carol@example.com")
	for _, tc := range []struct{ username, email, field string }{
		{"CAROL", "other@example.com", "username"},
		{"carol2", "Carol@Example.com", "email"},
	} {
		err := s.CreateUser(ctx, &auth.User{Username: tc.username, Email: tc.email, Active: true})
		wantCode(t, fmt.Sprintf("CreateUser(%q, %q)", tc.username, tc.email), err, auth.EConflict)
		var e *auth.Error
		if errors.As(err, &e) && e.Fields[tc.field] == "" {
			t.Errorf("CreateUser(%q, %q) fields = %v, want a problem with %q", tc.username, tc.email, e.Fields, tc.field)
		}
	}
}

func testUnknownRole(t *testing.T, s store.Store) {
	err := s.CreateUser(ctx, &auth.User{Username: "dave", Email: "dave@example.com", Roles: []string{"user", "wizard"}})
	wantCode(t, "CreateUser(role wizard)", err, auth.EValidation)
	_, err = s.FindUserByLogin(ctx, "dave")
	wantCode(t, "FindUserByLogin after refused create", err, auth.ENotFound)
}

func testFindUsers(t *testing.T, s store.Store) {
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	names := []string{"zed", "amy", "Andy", "bert", "anna"}
	for i, n := range names {
		u := &auth.User{Username: n, Email: n + "@example.org", Active: i%2 == 0, EmailVerified: i < 2,
			CreatedAt: base.Add(time.Duration(i) * time.Hour), Roles: []string{"user"}}
		if n == "bert" {
			u.Roles = []string{"editor"}
		}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	yes, no := true, false
	usernames := func(us []*auth.User) []string {
		out := []string{}
		for _, u := range us {
			out = append(out, u.Username)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		f     auth.UserFilter
		want  []string
		total int
	}{
		{"all, newest first", auth.UserFilter{}, []string{"anna", "bert", "Andy", "amy", "zed"}, 5},
		{"prefix an, by username", auth.UserFilter{Query: "AN", Sort: "username"}, []string{"Andy", "anna"}, 2},
		{"email prefix", auth.UserFilter{Query: "bert@", Sort: "username"}, []string{"bert"}, 1},
		{"role editor", auth.UserFilter{Role: "editor"}, []string{"bert"}, 1},
		{"active", auth.UserFilter{Active: &yes, Sort: "username"}, []string{"Andy", "anna", "zed"}, 3},
		{"inactive verified", auth.UserFilter{Active: &no, EmailVerified: &yes}, []string{"amy"}, 1},
		{"page 2 of 2-per-page", auth.UserFilter{Sort: "username", Limit: 2, Offset: 2}, []string{"anna", "bert"}, 5},
		{"oldest first", auth.UserFilter{Sort: "created_at", Limit: 1}, []string{"zed"}, 5},
		{"no match", auth.UserFilter{Query: "q"}, []string{}, 0},
	} {
		got, total, err := s.FindUsers(ctx, tc.f)
		if err != nil {
			t.Fatalf("FindUsers(%s) = %v", tc.name, err)
		}
		if d := cmp.Diff(tc.want, usernames(got)); d != "" || total != tc.total {
			t.Errorf("FindUsers(%s) total %d (want %d), users (-want +got):\n%s", tc.name, total, tc.total, d)
		}
	}
	_, _, err := s.FindUsers(ctx, auth.UserFilter{Sort: "password_hash"})
	wantCode(t, "FindUsers(bad sort)", err, auth.EInvalidRequest)
	n, err := s.CountUsers(ctx, auth.UserFilter{Role: "user"})
	if err != nil || n != 4 {
		t.Errorf("CountUsers(role user) = %d, %v; want 4", n, err)
	}
}

func testUpdate(t *testing.T, s store.Store) {
	u := mustCreate(t, s, "erin", "erin@example.com", "user")
	mustCreate(t, s, "frank", "frank@example.com")
	name, email, hash, off, on := "Erin2", "ERIN2@example.com", "$2b$new", false, true
	login := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	got, err := s.UpdateUser(ctx, u.ID, auth.UserUpdate{Username: &name, Email: &email, PasswordHash: &hash,
		Active: &off, EmailVerified: &on, LastLoginAt: &login})
	if err != nil {
		t.Fatalf("UpdateUser() = %v", err)
	}
	if got.Username != "Erin2" || got.Email != "erin2@example.com" || got.PasswordHash != hash || got.Active ||
		!got.EmailVerified || got.LastLoginAt == nil || !got.LastLoginAt.Equal(login) || len(got.Roles) != 1 {
		t.Errorf("UpdateUser() = %+v", got)
	}
	if _, err := s.FindUserByLogin(ctx, "erin2"); err != nil {
		t.Errorf("FindUserByLogin(new name) = %v", err)
	}
	taken := "FRANK"
	_, err = s.UpdateUser(ctx, u.ID, auth.UserUpdate{Username: &taken})
	wantCode(t, "UpdateUser(taken username)", err, auth.EConflict)
	_, err = s.UpdateUser(ctx, "missing", auth.UserUpdate{Active: &on})
	wantCode(t, "UpdateUser(missing)", err, auth.ENotFound)
	if _, err := s.UpdateUser(ctx, u.ID, auth.UserUpdate{}); err != nil {
		t.Errorf("UpdateUser(no change) = %v", err)
	}
}

func testSetRoles(t *testing.T, s store.Store) {
	u := mustCreate(t, s, "gina", "gina@example.com", "user")
	if err := s.SetUserRoles(ctx, u.ID, []string{"editor", "admin"}); err != nil {
		t.Fatalf("SetUserRoles() = %v", err)
	}
	got, _ := s.FindUserByID(ctx, u.ID)
	if d := cmp.Diff([]string{"admin", "editor"}, got.Roles); d != "" {
		t.Errorf("roles after SetUserRoles (-want +got):\n%s", d)
	}
	err := s.SetUserRoles(ctx, u.ID, []string{"user", "ghost"})
	wantCode(t, "SetUserRoles(unknown)", err, auth.EValidation)
	got, _ = s.FindUserByID(ctx, u.ID)
	if d := cmp.Diff([]string{"admin", "editor"}, got.Roles); d != "" {
		t.Errorf("a refused SetUserRoles changed roles (-want +got):\n%s", d)
	}
	wantCode(t, "SetUserRoles(missing user)", s.SetUserRoles(ctx, "missing", nil), auth.ENotFound)
	if err := s.SetUserRoles(ctx, u.ID, nil); err != nil {
		t.Errorf("SetUserRoles(none) = %v", err)
	}
}

func testDelete(t *testing.T, s store.Store) {
	u := mustCreate(t, s, "hank", "hank@example.com", "admin")
	if err := s.CreateToken(ctx, &auth.OneTimeToken{Hash: []byte("h1"), Purpose: "p", UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser() = %v", err)
	}
	_, err := s.FindUserByID(ctx, u.ID)
	wantCode(t, "FindUserByID(deleted)", err, auth.ENotFound)
	wantCode(t, "DeleteUser(again)", s.DeleteUser(ctx, u.ID), auth.ENotFound)
	if n, _ := s.CountUsers(ctx, auth.UserFilter{Role: "admin"}); n != 0 {
		t.Errorf("admins after delete = %d, want 0", n)
	}
	// The username and email are free again.
	mustCreate(t, s, "hank", "hank@example.com")
}

func testRoles(t *testing.T, s store.Store) {
	roles, err := s.FindRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	if d := cmp.Diff([]string{"admin", "editor", "user"}, names); d != "" {
		t.Errorf("seeded roles (-want +got):\n%s", d)
	}
	if len(roles) > 0 && roles[0].Permissions == nil {
		t.Error("a role without permissions has nil Permissions, want an empty list")
	}
	if err := s.CreateRole(ctx, &auth.Role{Name: "billing", Description: "Sees invoices.", Permissions: []string{"invoices:read", "invoices:read", "refunds:write"}}); err != nil {
		t.Fatalf("CreateRole() = %v", err)
	}
	wantCode(t, "CreateRole(bad permission)", s.CreateRole(ctx, &auth.Role{Name: "x", Permissions: []string{"Bad Perm"}}), auth.EValidation)
	if err := s.SetRolePermissions(ctx, "editor", []string{"posts:write"}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "SetRolePermissions(missing)", s.SetRolePermissions(ctx, "ghost", nil), auth.ENotFound)
	perms, err := s.FindPermissions(ctx, []string{"billing", "editor", "user"})
	if d := cmp.Diff([]string{"invoices:read", "posts:write", "refunds:write"}, perms); d != "" || err != nil {
		t.Errorf("FindPermissions() (-want +got):\n%s (err %v)", d, err)
	}
	all, _ := s.FindRoles(ctx)
	for _, r := range all {
		if r.Name == "billing" && strings.Join(r.Permissions, ",") != "invoices:read,refunds:write" {
			t.Errorf("billing permissions = %v", r.Permissions)
		}
	}
	wantCode(t, "CreateRole(duplicate)", s.CreateRole(ctx, &auth.Role{Name: "billing"}), auth.EConflict)
	wantCode(t, "CreateRole(bad name)", s.CreateRole(ctx, &auth.Role{Name: "Bad Name"}), auth.EValidation)
	u := mustCreate(t, s, "ivy", "ivy@example.com", "user", "billing")
	if err := s.DeleteRole(ctx, "billing"); err != nil {
		t.Fatalf("DeleteRole() = %v", err)
	}
	got, _ := s.FindUserByID(ctx, u.ID)
	if d := cmp.Diff([]string{"user"}, got.Roles); d != "" {
		t.Errorf("roles after DeleteRole (-want +got):\n%s", d)
	}
	wantCode(t, "DeleteRole(missing)", s.DeleteRole(ctx, "billing"), auth.ENotFound)
}

func testTokens(t *testing.T, s store.Store) {
	now := time.Now()
	u := mustCreate(t, s, "jack", "jack@example.com")
	tok := &auth.OneTimeToken{Hash: []byte("hash-1"), Purpose: "reset", UserID: u.ID, Data: "d", ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if got, err := s.FindToken(ctx, "reset", []byte("hash-1"), now); err != nil || got.UserID != u.ID {
		t.Fatalf("FindToken() = %+v, %v", got, err)
	}
	_, err := s.ConsumeToken(ctx, "verify", []byte("hash-1"), now)
	wantCode(t, "ConsumeToken(wrong purpose)", err, auth.EInvalidToken)
	got, err := s.ConsumeToken(ctx, "reset", []byte("hash-1"), now)
	if err != nil || got.UserID != u.ID || got.Data != "d" || got.Purpose != "reset" {
		t.Fatalf("ConsumeToken() = %+v, %v", got, err)
	}
	_, err = s.ConsumeToken(ctx, "reset", []byte("hash-1"), now)
	wantCode(t, "ConsumeToken(twice)", err, auth.EInvalidToken)
	_, err = s.FindToken(ctx, "reset", []byte("hash-1"), now)
	wantCode(t, "FindToken(used)", err, auth.EInvalidToken)

	s.CreateToken(ctx, &auth.OneTimeToken{Hash: []byte("hash-2"), Purpose: "reset", UserID: u.ID, ExpiresAt: now.Add(time.Minute)})
	_, err = s.ConsumeToken(ctx, "reset", []byte("hash-2"), now.Add(2*time.Minute))
	wantCode(t, "ConsumeToken(expired)", err, auth.EInvalidToken)

	s.CreateToken(ctx, &auth.OneTimeToken{Hash: []byte("hash-3"), Purpose: "reset", UserID: u.ID, ExpiresAt: now.Add(time.Hour)})
	s.CreateToken(ctx, &auth.OneTimeToken{Hash: []byte("hash-4"), Purpose: "setup", ExpiresAt: now.Add(time.Hour)})
	if err := s.DeleteTokens(ctx, "reset", u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.ConsumeToken(ctx, "reset", []byte("hash-3"), now)
	wantCode(t, "ConsumeToken(deleted)", err, auth.EInvalidToken)
	if err := s.DeleteTokens(ctx, "setup", ""); err != nil {
		t.Fatal(err)
	}
	_, err = s.ConsumeToken(ctx, "setup", []byte("hash-4"), now)
	wantCode(t, "ConsumeToken(deleted setup)", err, auth.EInvalidToken)
}

func testTokenRace(t *testing.T, s store.Store) {
	now := time.Now()
	if err := s.CreateToken(ctx, &auth.OneTimeToken{Hash: []byte("race"), Purpose: "setup", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var wins, fails atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.ConsumeToken(ctx, "setup", []byte("race"), now)
			switch auth.ErrorCode(err) {
			case "":
				wins.Add(1)
			case auth.EInvalidToken:
				fails.Add(1)
			default:
				t.Errorf("ConsumeToken() = %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || fails.Load() != 9 {
		t.Errorf("10 concurrent ConsumeToken: %d won, %d refused; want 1 and 9", wins.Load(), fails.Load())
	}
}

func testTokenPurge(t *testing.T, s store.Store) {
	now := time.Now()
	u := mustCreate(t, s, "kim", "kim@example.com")
	tokens := []struct {
		hash    string
		userID  string
		expires time.Duration // from now
		spent   time.Duration // how long ago it was used; 0 for never
		purged  bool
	}{
		{"expired", u.ID, -time.Second, 0, true},
		{"expires now", "", 0, 0, true},
		{"expired after use", u.ID, -time.Minute, 2 * time.Minute, true},
		{"live", "", time.Hour, 0, false},
		{"long-lived", u.ID, 48 * time.Hour, 0, false},
		{"spent an hour ago", u.ID, 47 * time.Hour, time.Hour, false},
		{"spent over a day ago", "", 24 * time.Hour, auth.UsedTokenRetention + time.Minute, true},
	}
	want := 0
	for _, tc := range tokens {
		tok := &auth.OneTimeToken{Hash: []byte(tc.hash), Purpose: "purge", UserID: tc.userID,
			CreatedAt: now.Add(-48 * time.Hour), ExpiresAt: now.Add(tc.expires)}
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatalf("CreateToken(%q) = %v", tc.hash, err)
		}
		if tc.spent > 0 {
			if _, err := s.ConsumeToken(ctx, "purge", []byte(tc.hash), now.Add(-tc.spent)); err != nil {
				t.Fatalf("ConsumeToken(%q) = %v", tc.hash, err)
			}
		}
		if tc.purged {
			want++
		}
	}
	// A backlog larger than the stores delete in one statement, which they
	// must work through batch by batch.
	const backlog = 2500
	err := s.InTx(ctx, func(tx auth.Store) error {
		for i := range backlog {
			err := tx.CreateToken(ctx, &auth.OneTimeToken{Hash: fmt.Appendf(nil, "backlog-%d", i), Purpose: auth.PurposeWebAuthn,
				CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Minute)})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("create backlog: %v", err)
	}
	want += backlog

	if n, err := s.DeleteExpiredTokens(ctx, now); err != nil || n != want {
		t.Errorf("DeleteExpiredTokens(now) = %d, %v; want %d", n, err, want)
	}
	if n, err := s.DeleteExpiredTokens(ctx, now); err != nil || n != 0 {
		t.Errorf("DeleteExpiredTokens(now) again = %d, %v; want 0", n, err)
	}
	for _, tc := range tokens {
		if tc.purged || tc.spent > 0 {
			continue
		}
		if _, err := s.FindToken(ctx, "purge", []byte(tc.hash), now); err != nil {
			t.Errorf("FindToken(%q) after purge = %v, want the token", tc.hash, err)
		}
	}
	// A day later the live token has expired and the one spent an hour ago
	// is past retention: both rows were still there until now.
	later := now.Add(auth.UsedTokenRetention + time.Hour)
	if n, err := s.DeleteExpiredTokens(ctx, later); err != nil || n != 2 {
		t.Errorf("DeleteExpiredTokens(a day later) = %d, %v; want 2 (live, spent an hour ago)", n, err)
	}
	if _, err := s.FindToken(ctx, "purge", []byte("long-lived"), later); err != nil {
		t.Errorf("FindToken(long-lived) a day later = %v, want the token", err)
	}
}

func testSigningKeys(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	k1 := &auth.SigningKey{ID: "k1", Algorithm: "EdDSA", Sealed: []byte{1, 2, 3}, PublicJWK: []byte(`{"kid":"k1"}`), CreatedAt: t0}
	k2 := &auth.SigningKey{ID: "k2", Algorithm: "ES256", Sealed: []byte{4}, PublicJWK: []byte(`{"kid":"k2"}`), CreatedAt: t0.Add(time.Hour)}
	for _, k := range []*auth.SigningKey{k1, k2} {
		if err := s.CreateSigningKey(ctx, k); err != nil {
			t.Fatalf("CreateSigningKey(%s) = %v", k.ID, err)
		}
	}
	keys, err := s.FindSigningKeys(ctx, t0)
	if err != nil || len(keys) != 2 || keys[0].ID != "k2" {
		t.Fatalf("FindSigningKeys() = %v, %v; want k2, k1", keys, err)
	}
	if d := cmp.Diff(k1, keys[1]); d != "" {
		t.Errorf("stored key (-want +got):\n%s", d)
	}
	retired, until := t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	if err := s.RetireSigningKey(ctx, "k1", retired, until); err != nil {
		t.Fatal(err)
	}
	keys, _ = s.FindSigningKeys(ctx, t0.Add(150*time.Minute))
	if len(keys) != 2 || !keys[1].RetiredAt.Equal(retired) || !keys[1].PublishUntil.Equal(until) {
		t.Errorf("keys within grace = %+v, want k1 retired but published", keys)
	}
	keys, _ = s.FindSigningKeys(ctx, t0.Add(4*time.Hour))
	if len(keys) != 1 || keys[0].ID != "k2" {
		t.Errorf("keys after grace = %v, want only k2", keys)
	}
	wantCode(t, "RetireSigningKey(missing)", s.RetireSigningKey(ctx, "nope", retired, until), auth.ENotFound)
}

func newSession(t *testing.T, s store.Store, u *auth.User, secret string, created time.Time) *auth.Session {
	t.Helper()
	ss := &auth.Session{TokenHash: auth.HashSecret(secret), UserID: u.ID, CreatedAt: created, ExpiresAt: created.Add(24 * time.Hour),
		IP: "127.0.0.1", UserAgent: "Mozilla/5.0", Method: "password"}
	if err := s.CreateSession(ctx, ss); err != nil {
		t.Fatalf("CreateSession() = %v", err)
	}
	return ss
}

func testSessions(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
	u := mustCreate(t, s, "kate", "kate@example.com", "user", "editor")
	other := mustCreate(t, s, "liam", "liam@example.com")
	a := newSession(t, s, u, "secret-a", t0)
	b := newSession(t, s, u, "secret-b", t0.Add(time.Minute))
	newSession(t, s, other, "secret-c", t0)
	if a.ID == "" || a.ID == b.ID {
		t.Fatalf("session IDs %q and %q, want distinct", a.ID, b.ID)
	}
	gotS, gotU, err := s.FindSessionByToken(ctx, auth.HashSecret("secret-a"))
	if err != nil {
		t.Fatalf("FindSessionByToken() = %v", err)
	}
	if d := cmp.Diff(a, gotS); d != "" {
		t.Errorf("session (-want +got):\n%s", d)
	}
	if gotU.ID != u.ID || gotU.Username != "kate" || !gotU.Active || strings.Join(gotU.Roles, ",") != "editor,user" {
		t.Errorf("session user = %+v", gotU)
	}
	_, _, err = s.FindSessionByToken(ctx, auth.HashSecret("secret-x"))
	wantCode(t, "FindSessionByToken(unknown)", err, auth.ENotFound)

	list, err := s.FindUserSessions(ctx, u.ID)
	if err != nil || len(list) != 2 || list[0].ID != b.ID {
		t.Errorf("FindUserSessions() = %v, %v; want b then a", list, err)
	}
	// Touch moves last_seen forward only.
	if err := s.TouchSession(ctx, a.ID, t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	s.TouchSession(ctx, a.ID, t0.Add(2*time.Minute))
	got, _ := s.FindSessionByID(ctx, a.ID)
	if !got.LastSeenAt.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("LastSeenAt = %v, want %v", got.LastSeenAt, t0.Add(5*time.Minute))
	}
	if err := s.RotateSession(ctx, a.ID, auth.HashSecret("secret-a2")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.FindSessionByToken(ctx, auth.HashSecret("secret-a")); auth.ErrorCode(err) != auth.ENotFound {
		t.Errorf("old secret after RotateSession = %v, want not found", err)
	}
	if gs, _, err := s.FindSessionByToken(ctx, auth.HashSecret("secret-a2")); err != nil || gs.ID != a.ID {
		t.Errorf("new secret after RotateSession = %v, %v", gs, err)
	}
	wantCode(t, "RotateSession(missing)", s.RotateSession(ctx, "nope", []byte("x")), auth.ENotFound)

	// Expiry sweeps only what is past its absolute end.
	n, err := s.DeleteExpiredSessions(ctx, t0.Add(24*time.Hour+30*time.Second))
	if err != nil || n != 2 {
		t.Errorf("DeleteExpiredSessions() = %d, %v; want 2 (a and c)", n, err)
	}
	if _, err := s.FindSessionByID(ctx, b.ID); err != nil {
		t.Errorf("b was swept too early: %v", err)
	}
	// Deleting the user takes their sessions.
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindSessionByID(ctx, b.ID); auth.ErrorCode(err) != auth.ENotFound {
		t.Errorf("session of a deleted user = %v, want not found", err)
	}
}

func testRevocations(t *testing.T, s store.Store) {
	now := time.Now()
	u := mustCreate(t, s, "mia", "mia@example.com")
	a := newSession(t, s, u, "r-a", now)
	b := newSession(t, s, u, "r-b", now)
	c := newSession(t, s, u, "r-c", now)
	until := now.Add(15 * time.Minute)
	if err := s.RevokeSession(ctx, a.ID, until); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "RevokeSession(again)", s.RevokeSession(ctx, a.ID, until), auth.ENotFound)
	ids, err := s.RevokeUserSessions(ctx, u.ID, c.ID, until)
	if err != nil || len(ids) != 1 || ids[0] != b.ID {
		t.Errorf("RevokeUserSessions(except c) = %v, %v; want [b]", ids, err)
	}
	if _, err := s.FindSessionByID(ctx, c.ID); err != nil {
		t.Errorf("the kept session is gone: %v", err)
	}
	revs, err := s.FindRevocations(ctx, 0, now, 100)
	if err != nil || len(revs) != 2 || revs[0].SessionID != a.ID || revs[1].SessionID != b.ID || revs[1].Seq <= revs[0].Seq {
		t.Fatalf("FindRevocations(0) = %+v, %v; want a then b", revs, err)
	}
	if !revs[0].Until.Equal(until.Truncate(time.Microsecond)) {
		t.Errorf("Until = %v, want %v", revs[0].Until, until)
	}
	more, _ := s.FindRevocations(ctx, revs[0].Seq, now, 100)
	if len(more) != 1 || more[0].SessionID != b.ID {
		t.Errorf("FindRevocations(after a) = %+v, want [b]", more)
	}
	if late, _ := s.FindRevocations(ctx, 0, until.Add(time.Second), 100); len(late) != 0 {
		t.Errorf("FindRevocations(after until) = %+v, want none", late)
	}
	s.DeleteExpiredSessions(ctx, until.Add(time.Second))
	if all, _ := s.FindRevocations(ctx, 0, now, 100); len(all) != 0 {
		t.Errorf("revocations after the sweep = %+v, want none", all)
	}
}

func testRotateOnRoleChange(t *testing.T, s store.Store) {
	u := mustCreate(t, s, "noah", "noah@example.com", "user")
	a := newSession(t, s, u, "rot-a", time.Now())
	if got, _, _ := s.FindSessionByToken(ctx, auth.HashSecret("rot-a")); got.Rotate {
		t.Fatal("a new session is marked for rotation")
	}
	if err := s.SetUserRoles(ctx, u.ID, []string{"user", "admin"}); err != nil {
		t.Fatal(err)
	}
	got, gu, _ := s.FindSessionByToken(ctx, auth.HashSecret("rot-a"))
	if !got.Rotate || !gu.HasRole("admin") {
		t.Errorf("after a role change: rotate %v, roles %v; want rotation and the new role", got.Rotate, gu.Roles)
	}
	s.RotateSession(ctx, a.ID, auth.HashSecret("rot-b"))
	if got, _, _ := s.FindSessionByToken(ctx, auth.HashSecret("rot-b")); got.Rotate {
		t.Error("rotation flag survives RotateSession")
	}
}

func newRefresh(t *testing.T, s store.Store, sess *auth.Session, secret string, exp time.Time) {
	t.Helper()
	if err := s.CreateRefreshToken(ctx, &auth.RefreshToken{Hash: auth.HashSecret(secret), SessionID: sess.ID, UserID: sess.UserID, ExpiresAt: exp}); err != nil {
		t.Fatalf("CreateRefreshToken() = %v", err)
	}
}

func testRefreshRotation(t *testing.T, s store.Store) {
	now := time.Now()
	u := mustCreate(t, s, "olive", "olive@example.com")
	sess := newSession(t, s, u, "rt-sess", now)
	newRefresh(t, s, sess, "rt1", now.Add(time.Hour))
	next := &auth.RefreshToken{Hash: auth.HashSecret("rt2"), ExpiresAt: now.Add(time.Hour)}
	got, err := s.RotateRefreshToken(ctx, auth.HashSecret("rt1"), next, now, now.Add(15*time.Minute))
	if err != nil || got.ID != sess.ID || next.SessionID != sess.ID || next.UserID != u.ID {
		t.Fatalf("RotateRefreshToken(rt1) = %+v, %v", got, err)
	}
	// rt1 again: reuse. The family and the session end, and the answer
	// names them.
	ended, err := s.RotateRefreshToken(ctx, auth.HashSecret("rt1"), &auth.RefreshToken{Hash: auth.HashSecret("rt3"), ExpiresAt: now.Add(time.Hour)}, now, now.Add(15*time.Minute))
	wantCode(t, "RotateRefreshToken(reused)", err, auth.ETokenReused)
	if ended == nil || ended.ID != sess.ID || ended.UserID != u.ID {
		t.Errorf("RotateRefreshToken(reused) session = %+v, want %s of %s", ended, sess.ID, u.ID)
	}
	_, err = s.RotateRefreshToken(ctx, auth.HashSecret("rt2"), &auth.RefreshToken{Hash: auth.HashSecret("rt4"), ExpiresAt: now.Add(time.Hour)}, now, now.Add(15*time.Minute))
	wantCode(t, "RotateRefreshToken(rt2 after reuse)", err, auth.EInvalidToken)
	if _, err := s.FindSessionByID(ctx, sess.ID); auth.ErrorCode(err) != auth.ENotFound {
		t.Errorf("session after reuse = %v, want ended", err)
	}
	revs, _ := s.FindRevocations(ctx, 0, now, 10)
	if len(revs) != 1 || revs[0].SessionID != sess.ID {
		t.Errorf("revocations after reuse = %+v, want the session", revs)
	}
	_, err = s.RotateRefreshToken(ctx, auth.HashSecret("rt1"), &auth.RefreshToken{Hash: auth.HashSecret("rt5"), ExpiresAt: now.Add(time.Hour)}, now, now.Add(15*time.Minute))
	wantCode(t, "RotateRefreshToken(reused again)", err, auth.ETokenReused)
	_, err = s.RotateRefreshToken(ctx, auth.HashSecret("unknown"), &auth.RefreshToken{Hash: auth.HashSecret("rt6")}, now, now)
	wantCode(t, "RotateRefreshToken(unknown)", err, auth.EInvalidToken)

	sess2 := newSession(t, s, u, "rt-sess2", now)
	newRefresh(t, s, sess2, "old", now.Add(time.Minute))
	_, err = s.RotateRefreshToken(ctx, auth.HashSecret("old"), &auth.RefreshToken{Hash: auth.HashSecret("rt7"), ExpiresAt: now.Add(time.Hour)}, now.Add(2*time.Minute), now)
	wantCode(t, "RotateRefreshToken(expired)", err, auth.EInvalidToken)
	if _, err := s.FindSessionByID(ctx, sess2.ID); err != nil {
		t.Errorf("an expired refresh token ended its session: %v", err)
	}
}

func testRefreshRace(t *testing.T, s store.Store) {
	now := time.Now()
	u := mustCreate(t, s, "paul", "paul@example.com")
	sess := newSession(t, s, u, "race-sess", now)
	newRefresh(t, s, sess, "race", now.Add(time.Hour))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.RotateRefreshToken(ctx, auth.HashSecret("race"), &auth.RefreshToken{Hash: auth.HashSecret(fmt.Sprint("next", i)), ExpiresAt: now.Add(time.Hour)}, now, now.Add(time.Minute))
			switch auth.ErrorCode(err) {
			case "":
				wins.Add(1)
			case auth.ETokenReused, auth.EInvalidToken:
			default:
				t.Errorf("RotateRefreshToken() = %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("10 concurrent rotations of one token: %d succeeded, want exactly 1", wins.Load())
	}
}

func testRefreshDiesWithSession(t *testing.T, s store.Store) {
	now := time.Now()
	u := mustCreate(t, s, "quinn", "quinn@example.com")
	sess := newSession(t, s, u, "die-sess", now)
	newRefresh(t, s, sess, "die", now.Add(time.Hour))
	if err := s.RevokeSession(ctx, sess.ID, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err := s.RotateRefreshToken(ctx, auth.HashSecret("die"), &auth.RefreshToken{Hash: auth.HashSecret("x"), ExpiresAt: now.Add(time.Hour)}, now, now)
	wantCode(t, "RotateRefreshToken(after logout)", err, auth.EInvalidToken)
}

func testAPIKeys(t *testing.T, s store.Store) {
	u := mustCreate(t, s, "rita", "rita@example.com", "admin")
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	k := &auth.APIKey{Name: "ci", Prefix: "gh_abcd", Hash: auth.HashSecret("gh_secret"), Scopes: []string{"admin", "introspect"}, CreatedBy: u.ID, ExpiresAt: &exp}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatalf("CreateAPIKey() = %v", err)
	}
	got, owner, err := s.FindAPIKeyByHash(ctx, auth.HashSecret("gh_secret"))
	if err != nil || owner.ID != u.ID || !owner.HasRole("admin") {
		t.Fatalf("FindAPIKeyByHash() = %+v, %+v, %v", got, owner, err)
	}
	if d := cmp.Diff(k, got); d != "" {
		t.Errorf("stored key (-want +got):\n%s", d)
	}
	used := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	s.TouchAPIKey(ctx, k.ID, used)
	s.TouchAPIKey(ctx, k.ID, used.Add(-time.Hour))
	list, err := s.FindAPIKeys(ctx)
	if err != nil || len(list) != 1 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(used) {
		t.Errorf("FindAPIKeys() = %+v, %v", list, err)
	}
	if err := s.DeleteAPIKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.FindAPIKeyByHash(ctx, auth.HashSecret("gh_secret"))
	wantCode(t, "FindAPIKeyByHash(deleted)", err, auth.ENotFound)
	wantCode(t, "DeleteAPIKey(again)", s.DeleteAPIKey(ctx, k.ID), auth.ENotFound)
}

func testAudit(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	events := []*auth.Event{
		{Type: auth.EventLoginFailed, TargetID: "u1", IP: "10.0.0.1", Data: map[string]string{"reason": "wrong password"}, CreatedAt: t0},
		{Type: auth.EventLoginSucceeded, ActorID: "u1", TargetID: "u1", CreatedAt: t0.Add(time.Minute)},
		{Type: auth.EventLogout, ActorID: "u2", TargetID: "u2", CreatedAt: t0.Add(2 * time.Minute)},
	}
	for _, e := range events {
		if err := s.AppendEvent(ctx, e); err != nil {
			t.Fatalf("AppendEvent() = %v", err)
		}
	}
	if events[1].ID <= events[0].ID {
		t.Errorf("event IDs %d, %d do not increase", events[0].ID, events[1].ID)
	}
	got, total, err := s.FindEvents(ctx, auth.EventFilter{UserID: "u1"})
	if err != nil || total != 2 || len(got) != 2 || got[0].Type != auth.EventLoginSucceeded {
		t.Fatalf("FindEvents(u1) = %d %v, %v; want the two events of u1, newest first", total, got, err)
	}
	if d := cmp.Diff(events[0], got[1]); d != "" {
		t.Errorf("stored event (-want +got):\n%s", d)
	}
	if got, total, _ := s.FindEvents(ctx, auth.EventFilter{Type: auth.EventLogout}); total != 1 || got[0].ActorID != "u2" {
		t.Errorf("FindEvents(type logout) = %v", got)
	}
	if _, total, _ := s.FindEvents(ctx, auth.EventFilter{Since: t0.Add(time.Minute)}); total != 2 {
		t.Errorf("FindEvents(since) total = %d, want 2", total)
	}
	if got, total, _ := s.FindEvents(ctx, auth.EventFilter{Limit: 1, Offset: 1}); total != 3 || len(got) != 1 || got[0].ID != events[1].ID {
		t.Errorf("FindEvents(page 2 of 1) = %v (total %d)", got, total)
	}
	n, err := s.DeleteEventsBefore(ctx, t0.Add(90*time.Second))
	if err != nil || n != 2 {
		t.Errorf("DeleteEventsBefore() = %d, %v; want 2", n, err)
	}
}

func testInTx(t *testing.T, s store.Store) {
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx auth.Store) error {
		u := &auth.User{Username: "tx1", Email: "tx1@example.com", Active: true}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateToken(ctx, &auth.OneTimeToken{Hash: []byte("tx-token"), Purpose: "p", UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			return err
		}
		if _, err := tx.FindUserByLogin(ctx, "tx1"); err != nil {
			t.Errorf("a read inside the transaction does not see its write: %v", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx() = %v, want the function's error", err)
	}
	if _, err := s.FindUserByLogin(ctx, "tx1"); auth.ErrorCode(err) != auth.ENotFound {
		t.Errorf("user after rollback = %v, want not found", err)
	}
	if _, err := s.FindToken(ctx, "p", []byte("tx-token"), time.Now()); auth.ErrorCode(err) != auth.EInvalidToken {
		t.Errorf("token after rollback = %v, want gone", err)
	}
	err = s.InTx(ctx, func(tx auth.Store) error {
		u := &auth.User{Username: "tx2", Email: "tx2@example.com", Active: true, Roles: []string{"user"}}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, &auth.Event{Type: "test", TargetID: u.ID})
	})
	if err != nil {
		t.Fatalf("InTx(commit) = %v", err)
	}
	u, err := s.FindUserByLogin(ctx, "tx2")
	if err != nil {
		t.Fatalf("user after commit = %v", err)
	}
	if _, n, _ := s.FindEvents(ctx, auth.EventFilter{UserID: u.ID}); n != 1 {
		t.Errorf("events after commit = %d, want 1", n)
	}
}
