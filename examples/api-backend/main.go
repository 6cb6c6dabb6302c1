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
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatehouse-dev/gatehouse/examples/api-backend/backend"
)

func main() {
	issuer := flag.String("issuer", "http://localhost:8080", "Gatehouse's public URL")
	listen := flag.String("listen", "127.0.0.1:8090", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	c, err := backend.NewClient(ctx, *issuer, os.Getenv("GATEHOUSE_API_KEY"), 0)
	if err != nil {
		log.Fatalf("connect to Gatehouse at %s: %v", *issuer, err)
	}
	defer c.Close()
	srv := &http.Server{Addr: *listen, Handler: backend.Routes(c), ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
	log.Printf("api-backend listening on http://%s, trusting tokens from %s", *listen, *issuer)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
