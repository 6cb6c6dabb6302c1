// Command api-backend is a small API that trusts Gatehouse's access tokens
// without calling Gatehouse on every request: it verifies each token against
// Gatehouse's published keys with the client package, and learns of logouts
// and revocations from the revocation feed.
//
//	GATEHOUSE_API_KEY=gh_… go run ./examples/api-backend --issuer http://localhost:8080
//
// The API key needs the "revocations" scope (create one at /admin/api-keys).
// Without it the backend still verifies tokens, but a revoked token keeps
// working here until it expires (15 minutes by default).
//
// Routes: GET /api/hello (any signed-in user), GET /api/reports (role
// editor or admin). Send the token as Authorization: Bearer, or let the
// browser send the gatehouse_token cookie on the same site.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatehouse-dev/gatehouse/client"
)

func main() {
	issuer := flag.String("issuer", "http://localhost:8080", "Gatehouse's public URL")
	listen := flag.String("listen", "127.0.0.1:8090", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	c, err := newClient(ctx, *issuer, os.Getenv("GATEHOUSE_API_KEY"), 0)
	if err != nil {
		log.Fatalf("connect to Gatehouse at %s: %v", *issuer, err)
	}
	defer c.Close()
	srv := &http.Server{Addr: *listen, Handler: routes(c), ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
	log.Printf("api-backend listening on http://%s, trusting tokens from %s", *listen, *issuer)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// newClient connects to Gatehouse; with an API key it follows the revocation
// feed every interval (0 for the default 10 s).
func newClient(ctx context.Context, issuer, apiKey string, interval time.Duration) (*client.Client, error) {
	opts := []client.Option{client.WithLogger(slog.Default()), client.WithRefreshRedirect(true)}
	if apiKey != "" {
		opts = append(opts, client.WithRevocationFeed(apiKey, interval))
	}
	return client.New(ctx, issuer, opts...)
}

// routes is the backend's API.
func routes(c *client.Client) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/hello", c.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := client.ClaimsFrom(r.Context())
		writeJSON(w, map[string]any{"hello": claims.Username, "user_id": claims.Subject, "roles": claims.Roles})
	})))
	mux.Handle("GET /api/reports", c.RequireRole("editor", "admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"reports": []string{"Q1", "Q2"}})
	})))
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
