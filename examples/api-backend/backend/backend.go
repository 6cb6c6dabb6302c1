// Package backend is the example API that trusts Gatehouse's access tokens:
// its routes, and the client that verifies tokens against Gatehouse's
// published keys and follows its revocation feed. Command api-backend runs
// it; the browser suite serves it behind the single-page app example.
package backend

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/client"
)

// NewClient connects to Gatehouse at issuer; with an API key (scope
// "revocations") it follows the revocation feed every interval (0 for the
// default 10 s).
func NewClient(ctx context.Context, issuer, apiKey string, interval time.Duration) (*client.Client, error) {
	opts := []client.Option{client.WithLogger(slog.Default()), client.WithRefreshRedirect(true)}
	if apiKey != "" {
		opts = append(opts, client.WithRevocationFeed(apiKey, interval))
	}
	return client.New(ctx, issuer, opts...)
}

// Routes is the backend's API: GET /api/hello for any signed-in user, GET
// /api/reports for the roles editor and admin. A token comes as
// Authorization: Bearer, or in the gatehouse_token cookie on the same site.
func Routes(c *client.Client) http.Handler {
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
