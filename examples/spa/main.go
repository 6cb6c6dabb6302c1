// Command spa serves a single-page app on an origin of its own that signs
// users in with Gatehouse's SDK and calls examples/api-backend with the
// access token. The backend is reached through /backend/ on the app's own
// origin, so it needs no CORS of its own.
//
//	go run ./examples/api-backend --issuer http://localhost:8080 &
//	go run ./examples/spa --gatehouse http://localhost:8080 --backend http://127.0.0.1:8090
//
// Gatehouse must list the app's origin (http://localhost:8070 by default) in
// http.allowed_origins, and in passkey.origins for passkeys. See docs/sdk.md.
package main

import (
	"flag"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/gatehouse-dev/gatehouse/examples/spa/app"
)

func main() {
	gatehouse := flag.String("gatehouse", "http://localhost:8080", "Gatehouse's public URL")
	backend := flag.String("backend", "http://127.0.0.1:8090", "the URL of examples/api-backend")
	listen := flag.String("listen", "localhost:8070", "address to listen on")
	mode := flag.String("mode", app.CrossOrigin, "the SDK's mode: same-site (Gatehouse's session and gatehouse_token cookies) or cross-origin (in-memory token, refresh cookie)")
	flag.Parse()
	if *mode != app.SameSite && *mode != app.CrossOrigin {
		log.Fatalf("--mode: want %s or %s, not %q", app.SameSite, app.CrossOrigin, *mode)
	}
	be, err := url.Parse(*backend)
	if err != nil {
		log.Fatalf("--backend: %v", err)
	}
	srv := &http.Server{Addr: *listen, Handler: app.Handler(*gatehouse, *mode, httputil.NewSingleHostReverseProxy(be)), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("spa on http://%s, signing in at %s", *listen, *gatehouse)
	log.Fatal(srv.ListenAndServe())
}
