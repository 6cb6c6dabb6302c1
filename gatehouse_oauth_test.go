package gatehouse_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
)

// The providers file and the environment's secrets reach the pages; a
// provider configured wrongly stops New with its name.
func TestNewWithProviders(t *testing.T) {
	dir := t.TempDir()
	providers := filepath.Join(dir, "providers.yaml")
	write := func(s string) {
		if err := os.WriteFile(providers, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := gatehouse.DefaultConfig()
	cfg.PublicURL = "http://localhost:8080"
	cfg.DatabaseURL = "sqlite://" + filepath.Join(dir, "gatehouse.db")
	cfg.DataDir = dir
	cfg.OAuth.ProvidersFile = providers
	quiet := gatehouse.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

	write("providers:\n  - {name: github, kind: github, client_id: Iv1.abc}\n")
	if _, err := gatehouse.New(cfg, quiet); err == nil || !strings.Contains(err.Error(), "github: client_secret is required") {
		t.Fatalf("New(GitHub without a secret) = %v, want an error naming the provider", err)
	}
	t.Setenv("GATEHOUSE_OAUTH_GITHUB_CLIENT_SECRET", "from-the-environment")
	gh, err := gatehouse.New(cfg, quiet)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	defer gh.Close()
	rec := httptest.NewRecorder()
	gh.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	if !strings.Contains(rec.Body.String(), `href="/oauth/github/start"`) {
		t.Errorf("/login lacks the GitHub button")
	}
	rec = httptest.NewRecorder()
	gh.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/oauth/github/start", nil))
	if loc := rec.Header().Get("Location"); rec.Code != 302 || !strings.HasPrefix(loc, "https://github.com/login/oauth/authorize?") ||
		!strings.Contains(loc, "redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Foauth%2Fgithub%2Fcallback") {
		t.Errorf("GET /oauth/github/start = %d to %q, want GitHub with the callback on the public URL", rec.Code, loc)
	}
}
