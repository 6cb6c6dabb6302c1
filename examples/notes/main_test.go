package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/accounts"
)

// The example app: a public home, a dashboard for signed-in users, and an
// admin page that a non-admin gets 403 on and an admin sees.
func TestNotes(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	public := "http://" + srv.Listener.Addr().String()
	app, gh, err := newApp(public, "sqlite://"+filepath.Join(t.TempDir(), "notes.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer gh.Close()
	srv.Config.Handler = app
	srv.Start()
	defer srv.Close()
	ctx := context.Background()
	const pw = "correct horse battery staple"
	for _, u := range []struct {
		name  string
		roles []string
	}{{"reader", []string{"user"}}, {"boss", []string{"user", "admin"}}} {
		if _, err := gh.Accounts().Register(ctx, accounts.Registration{Username: u.name, Email: u.name + "@example.com", Password: pw, Roles: u.roles}); err != nil {
			t.Fatal(err)
		}
	}
	client := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	get := func(c *http.Client, path string) (int, string, string) {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	signIn := func(c *http.Client, name string) {
		resp, err := c.PostForm(srv.URL+"/auth/login", url.Values{"login": {name}, "password": {pw}, "return_to": {"/dashboard"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard" {
			t.Fatalf("sign in %s = %d %q", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	anon := client()
	if status, _, body := get(anon, "/"); status != 200 || !strings.Contains(body, "create an account") {
		t.Errorf("GET / anonymous = %d", status)
	}
	if status, loc, _ := get(anon, "/dashboard"); status != http.StatusSeeOther || loc != public+"/auth/login?return_to=%2Fdashboard" {
		t.Errorf("GET /dashboard anonymous = %d %q, want a redirect to the sign-in page", status, loc)
	}
	// Gatehouse's own pages come back under /auth, not to the app's paths.
	for _, page := range []string{"/auth/account", "/auth/admin"} {
		if status, loc, _ := get(anon, page); status != http.StatusSeeOther || loc != public+"/auth/login?return_to="+url.QueryEscape(page) {
			t.Errorf("GET %s anonymous = %d %q, want sign-in coming back to %s", page, status, loc, page)
		}
	}
	if status, _, body := get(anon, "/auth/login"); status != 200 || !strings.Contains(body, `action="/auth/login"`) || !strings.Contains(body, "/auth/static/gatehouse.css") {
		t.Errorf("GET /auth/login = %d, want the sign-in page with links under /auth", status)
	}

	reader := client()
	signIn(reader, "reader")
	if status, _, body := get(reader, "/dashboard"); status != 200 || !strings.Contains(body, "Hello, reader.") {
		t.Errorf("GET /dashboard as reader = %d", status)
	}
	if status, _, _ := get(reader, "/admin"); status != http.StatusForbidden {
		t.Errorf("GET /admin as a non-admin = %d, want 403", status)
	}
	boss := client()
	signIn(boss, "boss")
	if status, _, body := get(boss, "/admin"); status != 200 || !strings.Contains(body, `id="admin-title"`) {
		t.Errorf("GET /admin as admin = %d, want the page", status)
	}
	if status, _, body := get(boss, "/"); status != 200 || !strings.Contains(body, `<strong id="who">boss</strong>`) {
		t.Errorf("GET / as boss = %d, want the signed-in home", status)
	}
}
