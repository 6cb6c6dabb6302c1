package accounts_test

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// werkzeugHash makes the hash Werkzeug's generate_password_hash writes by
// default (Werkzeug 3: pbkdf2:sha256:600000, a 16-character salt).
func werkzeugHash(t testing.TB, pw, salt string, iterations int) string {
	t.Helper()
	key, err := pbkdf2.Key(sha256.New, pw, []byte(salt), iterations, 32)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("pbkdf2:sha256:%d$%s$%s", iterations, salt, hex.EncodeToString(key))
}

func newImportService(t testing.TB, st auth.Store) *accounts.Service {
	t.Helper()
	svc, err := accounts.New(accounts.Config{Store: st, Hasher: fastHasher(t), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func runImport(t *testing.T, svc *accounts.Service, format, data string, dry bool) *accounts.ImportReport {
	t.Helper()
	r, err := accounts.NewImportReader(strings.NewReader(data), format)
	if err != nil {
		t.Fatalf("NewImportReader() = %v", err)
	}
	rep, err := svc.Import(context.Background(), r, accounts.ImportOptions{DryRun: dry, BatchSize: 3})
	if err != nil {
		t.Fatalf("Import() = %v", err)
	}
	return rep
}

// A CSV file with good and bad rows: the bad ones are reported by line and
// skipped, a dry run writes nothing, and running the file again changes
// nothing.
func TestImportCSV(t *testing.T) {
	forEachBackend(t, func(t *testing.T, svc *accounts.Service, st auth.Store, _ *clock, _ *bytes.Buffer) {
		svc = newImportService(t, st)
		ctx := context.Background()
		st.CreateUser(ctx, &auth.User{Username: "taken", Email: "owner@example.com", Active: true, Roles: []string{"user"}})
		h := werkzeugHash(t, "old flask password", "abcdefghijklmnop", 1000)
		csv := "username,email,password_hash,roles,email_verified,created_at\n" +
			"alice,Alice@Example.com," + h + ",user;admin,true,2019-05-01 08:30:00.123456\n" + // 2
			"bob,bob@example.com,,,0,2020-01-02T03:04:05Z\n" + // 3: no password
			"not an email,x,,,,\n" + // 4
			"carol,carol@example.com,sha1$plain$abc,,,\n" + // 5: unsupported hash
			"dave,dave@example.com,,wizard,,\n" + // 6: unknown role
			"eve,ALICE@example.com,,,,\n" + // 7: duplicate address
			"ALICE,alice2@example.com,,,,\n" + // 8: duplicate username
			"frank,frank@example.com,,,maybe,\n" + // 9: bad boolean
			"gina,gina@example.com,,,,yesterday\n" + // 10: bad time
			"hank,hank@example.com\n" + // 11: too few fields
			"taken,someone@example.com,,,,\n" + // 12: username of another account
			"\"ivy\",\"ivy@example.com\",\"$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\",\"user,editor\",yes,1600000000\n" // 13

		dry := runImport(t, svc, accounts.FormatCSV, csv, true)
		if n, _ := st.CountUsers(ctx, auth.UserFilter{}); n != 1 {
			t.Errorf("a dry run left %d users, want only the existing one", n)
		}
		want := []string{
			"line 4: username: Username can only contain letters, numbers, _ . -",
			"line 5: password_hash: is not a hash Gatehouse can verify (Werkzeug pbkdf2 or scrypt, bcrypt, argon2id)",
			"line 6: roles: there is no role \"wizard\" (create it first: gatehouse has admin, editor, user)",
			"line 7: email: alice@example.com is also on line 2",
			"line 8: username: ALICE is also on line 2",
			"line 9: email_verified: \"maybe\" is not true or false",
			"line 10: created_at: \"yesterday\" is not a time (use RFC 3339, e.g. 2021-03-04T05:06:07Z)",
			"line 11: has 2 fields, the header 6",
			"line 12: username: taken is the username of another account (owner@example.com)",
		}
		var got []string
		for _, p := range dry.Problems {
			got = append(got, p.String())
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("problems (-want +got):\n%s", d)
		}
		if dry.Rows != 12 || dry.Created != 3 || dry.Invalid != 9 {
			t.Errorf("dry run: rows %d, created %d, invalid %d; want 12, 3, 9", dry.Rows, dry.Created, dry.Invalid)
		}

		rep := runImport(t, svc, "", csv, false)
		if rep.Created != 3 || rep.Invalid != 9 || rep.Updated != 0 || rep.Hashes["pbkdf2"] != 1 || rep.Hashes["bcrypt"] != 1 || rep.Hashes["none"] != 1 {
			t.Errorf("import: %+v; want 3 created, 9 invalid, one hash of each kind", rep)
		}
		alice, err := st.FindUserByLogin(ctx, "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		wantAlice := &auth.User{ID: alice.ID, Username: "alice", Email: "alice@example.com", EmailVerified: true, PasswordHash: h,
			Active: true, Roles: []string{"admin", "user"}, CreatedAt: time.Date(2019, 5, 1, 8, 30, 0, 123456000, time.UTC)}
		if d := cmp.Diff(wantAlice, alice); d != "" {
			t.Errorf("alice (-want +got):\n%s", d)
		}
		if ivy, _ := st.FindUserByLogin(ctx, "ivy"); !ivy.CreatedAt.Equal(time.Unix(1600000000, 0)) || !ivy.EmailVerified {
			t.Errorf("ivy = %+v, want created at Unix 1600000000, verified", ivy)
		}

		// Again: nothing changes. Then an edited row updates its account.
		again := runImport(t, svc, accounts.FormatCSV, csv, false)
		if again.Created != 0 || again.Updated != 0 || again.Unchanged != 3 {
			t.Errorf("second import: %+v, want 3 unchanged", again)
		}
		edited := strings.Replace(csv, "bob,bob@example.com,,,0,", "Bobby,bob@example.com,,editor,1,", 1)
		upd := runImport(t, svc, accounts.FormatCSV, edited, false)
		if upd.Updated != 1 || upd.Unchanged != 2 {
			t.Errorf("import of an edited row: %+v, want 1 updated", upd)
		}
		bob, _ := st.FindUserByLogin(ctx, "bob@example.com")
		if bob.Username != "Bobby" || !bob.EmailVerified || !cmp.Equal(bob.Roles, []string{"editor"}) {
			t.Errorf("bob after the update = %+v", bob)
		}
	})
}

// Imported users sign in with their old passwords, and their hashes are
// replaced by argon2id ones; a later import keeps the new hash.
func TestImportedUsersSignIn(t *testing.T) {
	st := storetest.OpenSQLite(t)
	svc := newImportService(t, st)
	ctx := context.Background()
	h := werkzeugHash(t, "flask era secret", "0123456789abcdef", 600000)
	jsonl := `{"username":"alice","email":"alice@example.com","password_hash":"` + h + `","roles":["user"],"email_verified":true,"created_at":"2018-02-03T04:05:06Z"}` + "\n" +
		"\n" +
		`{"username":"bob","email":"bob@example.com","password_hash":null,"roles":"user editor","email_verified":"1"}` + "\n" +
		`{"username":"carol","email":"carol@example.com","extra":1}` + "\n" +
		`not json` + "\n"
	rep := runImport(t, svc, accounts.FormatJSONLines, jsonl, false)
	got := []string{}
	for _, p := range rep.Problems {
		got = append(got, p.String())
	}
	if d := cmp.Diff([]string{"line 4: extra: unknown field", "line 5: not a JSON object"}, got); d != "" || rep.Created != 2 {
		t.Errorf("JSON lines import: created %d, problems (-want +got):\n%s", rep.Created, d)
	}
	u, err := svc.Authenticate(ctx, "alice@example.com", "flask era secret")
	if err != nil {
		t.Fatalf("sign-in with the old password = %v", err)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Errorf("hash after sign-in = %.20s…, want argon2id", u.PasswordHash)
	}
	if _, err := svc.Authenticate(ctx, "alice", "flask era secret"); err != nil {
		t.Errorf("sign-in with the upgraded hash = %v", err)
	}
	again := runImport(t, svc, accounts.FormatJSONLines, jsonl, false)
	if again.Updated != 0 || again.Unchanged != 2 {
		t.Errorf("re-import after the upgrade: %+v, want nothing changed", again)
	}
	if cur, _ := st.FindUserByLogin(ctx, "alice"); !strings.HasPrefix(cur.PasswordHash, "$argon2id$") {
		t.Error("a re-import put the legacy hash back over the upgraded one")
	}
}

// The header must name known columns, with username and email.
func TestImportReaderHeader(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"", "the file is empty"},
		{"username,mail\n", `unknown column "mail"`},
		{"username,password_hash\n", `the column "email" is missing`},
		{"email,email,username\n", `column "email" appears twice`},
	} {
		_, err := accounts.NewImportReader(strings.NewReader(tc.data), accounts.FormatCSV)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewImportReader(%q) = %v, want %q", tc.data, err, tc.want)
		}
	}
	if r, err := accounts.NewImportReader(strings.NewReader(`{"email":"a@b.c"}`), ""); err != nil || r.Format() != accounts.FormatJSONLines {
		t.Errorf("format guess for a JSON object = %v, %v", r, err)
	}
}
