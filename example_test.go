package gatehouse_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/masterkey"
)

// newTestGatehouse builds a Gatehouse on a throw-away SQLite file.
func newTestGatehouse(publicURL string) (*gatehouse.Gatehouse, func()) {
	return newTestGatehouseOn(publicURL, "")
}

// newTestGatehouseOn builds a Gatehouse on databaseURL, or on a throw-away
// SQLite file when it is empty.
func newTestGatehouseOn(publicURL, databaseURL string) (*gatehouse.Gatehouse, func()) {
	dir, err := os.MkdirTemp("", "gatehouse-example")
	if err != nil {
		log.Fatal(err)
	}
	cfg := gatehouse.DefaultConfig()
	cfg.PublicURL = publicURL
	cfg.DatabaseURL = "sqlite://" + filepath.Join(dir, "gatehouse.db")
	if databaseURL != "" {
		cfg.DatabaseURL = databaseURL
	}
	cfg.DataDir = dir
	gh, err := gatehouse.New(cfg, gatehouse.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		log.Fatal(err)
	}
	return gh, func() { gh.Close(); os.RemoveAll(dir) }
}

// Mount Gatehouse under /auth in an app and protect the app's own routes.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "gatehouse-example")
	defer os.RemoveAll(dir)
	cfg := gatehouse.DefaultConfig()
	cfg.PublicURL = "http://localhost:8080/auth" // where Gatehouse's pages live
	cfg.DatabaseURL = "sqlite://" + filepath.Join(dir, "gatehouse.db")
	cfg.DataDir = dir
	gh, err := gatehouse.New(cfg, gatehouse.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		log.Fatal(err)
	}
	defer gh.Close()

	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", gh.Handler()))
	mux.Handle("/dashboard", gh.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Hello, %s", gatehouse.CurrentUser(r).Username)
	})))

	// A browser that is not signed in is sent to the sign-in page.
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/dashboard", nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output: 303 http://localhost:8080/auth/login?return_to=%2Fdashboard
}

// A JSON client without a session gets 401 and a JSON error.
func ExampleGatehouse_RequireLogin() {
	gh, done := newTestGatehouse("http://localhost:8080")
	defer done()
	h := gh.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest("GET", "/api/notes", nil)
	req.Header.Set("Accept", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 401 {"error":"unauthorized","message":"Please sign in."}
}

// Only admins reach the handler; other signed-in users get 403.
func ExampleGatehouse_RequireRole() {
	gh, done := newTestGatehouse("http://localhost:8080")
	defer done()
	ctx := context.Background()
	const pw = "correct horse battery staple"
	gh.Accounts().Register(ctx, accounts.Registration{Username: "reader", Email: "reader@example.com", Password: pw})

	srv := httptest.NewServer(http.NewServeMux())
	defer srv.Close()
	mux := srv.Config.Handler.(*http.ServeMux)
	mux.Handle("/", gh.Handler())
	mux.Handle("/admin", gh.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "admin area")
	})))

	// Sign in as reader through the hosted login form, then ask for /admin.
	client := &http.Client{Jar: newJar(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := client.PostForm(srv.URL+"/login", map[string][]string{"login": {"reader"}, "password": {pw}})
	resp.Body.Close()
	resp, _ = client.Get(srv.URL + "/admin")
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 403
}

// UserFrom reads the signed-in user that RequireLogin found.
func ExampleUserFrom() {
	h := func(w http.ResponseWriter, r *http.Request) {
		if u, ok := gatehouse.UserFrom(r.Context()); ok {
			fmt.Fprintf(w, "signed in as %s with roles %v", u.Username, u.Roles)
		}
	}
	_ = h // wrap it: gh.RequireLogin(http.HandlerFunc(h))
}

// A tool that manages an installation opens it with OpenExisting: pointed at
// an existing database whose master secret is not in its data directory, New
// stops instead of writing a new secret that could not open the old one's
// signing keys.
func ExampleOpenExisting() {
	dir, err := os.MkdirTemp("", "gatehouse-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg := gatehouse.DefaultConfig()
	cfg.DataDir = dir
	cfg.DatabaseURL = "sqlite://" + filepath.Join(dir, "gatehouse.db")
	quiet := gatehouse.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	gh, err := gatehouse.New(cfg, quiet) // a first start: the database and the secret
	if err != nil {
		log.Fatal(err)
	}
	gh.Close()

	elsewhere := cfg
	elsewhere.DataDir = filepath.Join(dir, "elsewhere") // no gatehouse.key there
	_, err = gatehouse.New(elsewhere, quiet, gatehouse.OpenExisting())
	fmt.Println(errors.Is(err, masterkey.ErrNoSecret))
	// Output: true
}
