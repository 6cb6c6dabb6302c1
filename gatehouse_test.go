package gatehouse_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

func newJar() http.CookieJar { j, _ := cookiejar.New(nil); return j }

// The embedding middleware: 401 without a session, 403 without the role,
// through for the right role; a POST without a session is not redirected.
func TestEmbeddingMiddleware(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dbURL := ""
			if backend == "postgres" {
				dbURL = storetest.PostgresURL(t)
			}
			testEmbeddingMiddleware(t, dbURL)
		})
	}
}

func testEmbeddingMiddleware(t *testing.T, databaseURL string) {
	gh, done := newTestGatehouseOn("http://localhost:8080", databaseURL)
	defer done()
	const pw = "correct horse battery staple"
	for name, roles := range map[string][]string{"reader": {"user"}, "chief": {"user", "admin"}} {
		if _, err := gh.Accounts().Register(t.Context(), accounts.Registration{Username: name, Email: name + "@example.com", Password: pw, Roles: roles}); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/", gh.Handler())
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, found := gatehouse.UserFrom(r.Context())
		if !found || gatehouse.CurrentUser(r) != u {
			t.Error("UserFrom and CurrentUser disagree inside a protected handler")
		}
		w.Write([]byte("hello " + u.Username))
	})
	mux.Handle("/app/private", gh.RequireLogin(ok))
	mux.Handle("/app/admin", gh.RequireRole("admin", "editor")(ok))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		who, method, path, accept string
		status                    int
	}{
		{"", "GET", "/app/private", "text/html", 303},
		{"", "GET", "/app/private", "application/json", 401},
		{"", "POST", "/app/private", "text/html", 401},
		{"", "GET", "/app/admin", "application/json", 401},
		{"reader", "GET", "/app/private", "text/html", 200},
		{"reader", "GET", "/app/admin", "text/html", 403},
		{"reader", "GET", "/app/admin", "application/json", 403},
		{"chief", "GET", "/app/admin", "text/html", 200},
	} {
		c := &http.Client{Jar: newJar(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if tc.who != "" {
			resp, err := c.PostForm(srv.URL+"/login", url.Values{"login": {tc.who}, "password": {pw}})
			if err != nil || resp.StatusCode != 303 {
				t.Fatalf("sign in %s: %v %v", tc.who, resp, err)
			}
			resp.Body.Close()
		}
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		req.Header.Set("Accept", tc.accept)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s as %q (%s) = %d, want %d", tc.method, tc.path, tc.who, tc.accept, resp.StatusCode, tc.status)
		}
		if tc.status == 401 && tc.accept == "application/json" && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: 401 is not JSON", tc.method, tc.path)
		}
	}
}
