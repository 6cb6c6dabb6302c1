package web

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/benchratio"
	"github.com/gatehouse-dev/gatehouse/session"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// seed fills a store with users and sessions in bulk, straight through SQL,
// so that the benchmark measures lookups in a realistically large table.
func seed(b *testing.B, w *sql.DB, users, sessions int) {
	b.Helper()
	start := time.Now()
	tx, err := w.Begin()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UnixMicro()
	uStmt, _ := tx.Prepare(`INSERT INTO users (id, username, username_key, email, email_verified, password_hash, active, created_at) VALUES (?, ?, ?, ?, 1, '', 1, ?)`)
	rStmt, _ := tx.Prepare(`INSERT INTO user_roles (user_id, role_name) VALUES (?, 'user')`)
	sStmt, _ := tx.Prepare(`INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, remember, ip, user_agent, method) VALUES (?, ?, ?, ?, ?, ?, 0, '127.0.0.1', 'bench', 'password')`)
	ids := make([]string, users)
	for i := range users {
		ids[i] = auth.NewID()
		name := "seed" + strconv.Itoa(i)
		if _, err := uStmt.Exec(ids[i], name, name, name+"@example.com", now); err != nil {
			b.Fatal(err)
		}
		rStmt.Exec(ids[i])
	}
	hash := make([]byte, 32)
	for i := range sessions {
		rand.Read(hash)
		if _, err := sStmt.Exec(auth.NewID(), hash, ids[i%users], now, now, now+int64(24*time.Hour/time.Microsecond)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "seeded %d users and %d sessions in %v\n", users, sessions, time.Since(start).Round(time.Second))
}

// BenchmarkRequireLoginRatio: a handler behind RequireLogin with a valid
// session cookie, against the same handler unprotected, both over loopback
// HTTP, with 100,000 users and 1,000,000 sessions in SQLite. Set
// GATEHOUSE_BENCH_SMALL=1 for a quick run on 1,000 and 10,000.
func BenchmarkRequireLoginRatio(b *testing.B) {
	users, sessions := 100_000, 1_000_000
	if os.Getenv("GATEHOUSE_BENCH_SMALL") != "" {
		users, sessions = 1_000, 10_000
	}
	st := storetest.OpenSQLite(b)
	seed(b, st.Writer(), users, sessions)
	ctx := context.Background()
	u := &auth.User{Username: "bench", Email: "bench@example.com", Active: true, Roles: []string{"user"}}
	if err := st.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	mgr, err := session.New(session.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	defer mgr.Close()
	secret, _, err := mgr.Start(ctx, u, session.Options{})
	if err != nil {
		b.Fatal(err)
	}
	env := &testEnv{store: st, sessions: mgr}
	acc := newAccountsForBench(b, st)
	srv, err := New(Config{Accounts: acc, Sessions: mgr, PublicURL: "http://127.0.0.1", Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	_ = env
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	bare := httptest.NewServer(handler)
	defer bare.Close()
	protected := httptest.NewServer(srv.RequireLogin(handler))
	defer protected.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(b *testing.B, url string) {
		for b.Loop() {
			req, _ := http.NewRequest("GET", url, nil)
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: secret})
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	}
	benchratio.Compare(b, fmt.Sprintf("RequireLogin (SQLite, %d users, %d sessions)", users, sessions),
		func(b *testing.B) { get(b, bare.URL) },
		func(b *testing.B) { get(b, protected.URL) })
}
