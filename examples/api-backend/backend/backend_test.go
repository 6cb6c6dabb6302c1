package backend_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/examples/api-backend/backend"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// The contract's token flow end to end with a backend that verifies offline:
// register, log in, call the backend; log out at Gatehouse, and within the
// feed's poll interval the backend refuses the token too. On SQLite and,
// when configured, PostgreSQL.
func TestBackendTrustsTokensAndLearnsRevocations(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			ctx := context.Background()
			gs := httptest.NewUnstartedServer(nil)
			cfg := gatehouse.DefaultConfig()
			cfg.PublicURL = "http://" + gs.Listener.Addr().String()
			cfg.DataDir = t.TempDir()
			cfg.DatabaseURL = "sqlite://" + filepath.Join(cfg.DataDir, "g.db")
			if store == "postgres" {
				cfg.DatabaseURL = storetest.PostgresURL(t)
			}
			cfg.Password.Argon2MemoryKiB, cfg.Password.Argon2Iterations = 1024, 1
			gh, err := gatehouse.New(cfg, gatehouse.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			if err != nil {
				t.Fatal(err)
			}
			defer gh.Close()
			gs.Config.Handler = gh.Handler()
			gs.Start()
			defer gs.Close()

			const pw = "correct horse battery staple"
			admin, _ := gh.Accounts().Register(ctx, accounts.Registration{Username: "ops", Email: "ops@example.com", Password: pw, Roles: []string{"user", "admin"}})
			_, key, err := gh.Accounts().CreateAPIKey(ctx, admin, "api-backend", []string{"revocations"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			c, err := backend.NewClient(ctx, cfg.PublicURL, key, 200*time.Millisecond)
			if err != nil {
				t.Fatalf("newClient() = %v", err)
			}
			defer c.Close()
			backendSrv := httptest.NewServer(backend.Routes(c))
			defer backendSrv.Close()

			post := func(path string, body any, token string) (int, map[string]any) {
				b, _ := json.Marshal(body)
				req, _ := http.NewRequest("POST", gs.URL+path, strings.NewReader(string(b)))
				req.Header.Set("Content-Type", "application/json")
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var out map[string]any
				json.NewDecoder(resp.Body).Decode(&out)
				return resp.StatusCode, out
			}
			get := func(url, token string) int {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}

			if status, _ := post("/api/auth/register", map[string]string{"username": "nina", "email": "nina@example.com", "password": pw}, ""); status != 201 {
				t.Fatalf("register = %d", status)
			}
			status, pair := post("/api/auth/login", map[string]string{"login": "nina", "password": pw}, "")
			if status != 200 {
				t.Fatalf("login = %d", status)
			}
			at := pair["access_token"].(string)
			if got := get(backendSrv.URL+"/api/hello", at); got != 200 {
				t.Fatalf("backend with a fresh token = %d, want 200", got)
			}
			if got := get(backendSrv.URL+"/api/reports", at); got != 403 {
				t.Errorf("backend reports as a plain user = %d, want 403", got)
			}
			if got := get(backendSrv.URL+"/api/hello", at+"x"); got != 401 {
				t.Errorf("backend with a tampered token = %d, want 401", got)
			}
			if status, _ := post("/api/auth/logout", nil, at); status != 204 {
				t.Fatalf("logout = %d", status)
			}
			if got := get(gs.URL+"/api/me", at); got != 401 {
				t.Errorf("Gatehouse /api/me after logout = %d, want 401 at once", got)
			}
			deadline := time.Now().Add(2 * time.Second)
			for get(backendSrv.URL+"/api/hello", at) != 401 {
				if time.Now().After(deadline) {
					t.Fatal("the backend still accepts the token 2 s after logout (poll interval 200 ms)")
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
