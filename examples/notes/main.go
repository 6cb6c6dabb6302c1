// Command notes is a small web app that embeds Gatehouse: its own pages and
// routes, with Gatehouse mounted under /auth for sign-in, registration and
// the account page.
//
//	go run ./examples/notes
//
// then open http://localhost:8081. The home page is public, /dashboard needs
// a signed-in user, and /admin needs the admin role. On first start it prints
// a one-time link that creates the first admin account.
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"html/template"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

//go:embed templates/*.html
var templates embed.FS

func main() {
	addr := flag.String("listen", "127.0.0.1:8081", "address to listen on")
	public := flag.String("public-url", "", "the URL people use to reach the app (default http://localhost:PORT)")
	db := flag.String("database-url", "sqlite://./notes.db", "Gatehouse's database")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *public, *db, func(string) {}); err != nil {
		log.Fatal(err)
	}
}

// run serves the app until ctx ends; ready learns the address it listens on.
func run(ctx context.Context, addr, public, databaseURL string, ready func(string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if public == "" {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		public = "http://localhost:" + port
	}
	app, gh, err := newApp(public, databaseURL, slog.Default())
	if err != nil {
		return err
	}
	defer gh.Close()
	if link, _, err := gh.SetupLink(ctx); err == nil && link != "" {
		fmt.Printf("Create the first admin account: %s\n", link)
	}
	fmt.Printf("Notes is running at %s\n", public)
	ready(ln.Addr().String())
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// newApp wires the app's routes around an embedded Gatehouse.
func newApp(publicURL, databaseURL string, logger *slog.Logger) (http.Handler, *gatehouse.Gatehouse, error) {
	cfg := gatehouse.DefaultConfig()
	cfg.PublicURL = publicURL + "/auth" // Gatehouse lives under /auth
	cfg.DatabaseURL = databaseURL
	cfg.ProductName = "Notes"
	gh, err := gatehouse.New(cfg, gatehouse.WithLogger(logger))
	if err != nil {
		return nil, nil, err
	}
	pages := template.Must(template.ParseFS(templates, "templates/*.html"))
	render := func(w http.ResponseWriter, r *http.Request, name string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := pages.ExecuteTemplate(w, name, gatehouse.CurrentUser(r)); err != nil {
			logger.Error("render", "page", name, "error", err)
		}
	}

	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", gh.Handler()))
	mux.Handle("GET /{$}", gh.OptionalLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render(w, r, "home.html")
	})))
	mux.Handle("GET /dashboard", gh.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render(w, r, "dashboard.html")
	})))
	mux.Handle("GET /admin", gh.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render(w, r, "admin.html")
	})))
	return mux, gh, nil
}
