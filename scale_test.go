package gatehouse_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
)

// The metrics carry the gauges read from the store and the hash pool, and
// /metrics is a 404 on the main handler unless metrics.enabled is set.
func TestMetricsAndReadiness(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		dir := t.TempDir()
		cfg := gatehouse.DefaultConfig()
		cfg.DatabaseURL = "sqlite://" + dir + "/gatehouse.db"
		cfg.DataDir = dir
		cfg.Metrics.Enabled = enabled
		if url := os.Getenv("GATEHOUSE_TEST_REDIS_URL"); url != "" {
			cfg.RedisURL = url
		}
		procs := runtime.GOMAXPROCS(0)
		g, err := gatehouse.New(cfg, gatehouse.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		g.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		for _, want := range []string{"gatehouse_active_sessions 0", "gatehouse_mail_outbox_depth 0",
			"gatehouse_hash_pool_workers ", "gatehouse_hash_pool_rejected_total 0", "go_goroutines"} {
			if !strings.Contains(rec.Body.String(), want) {
				t.Errorf("metrics lack %q", want)
			}
		}
		rec = httptest.NewRecorder()
		g.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if want := map[bool]int{false: http.StatusNotFound, true: http.StatusOK}[enabled]; rec.Code != want {
			t.Errorf("metrics.enabled %v: GET /metrics on the main handler = %d, want %d", enabled, rec.Code, want)
		}
		rec = httptest.NewRecorder()
		g.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != http.StatusOK || (cfg.RedisURL != "") != strings.Contains(rec.Body.String(), `"redis":"ok"`) {
			t.Errorf("GET /readyz = %d %s; want 200, with redis checked exactly when configured", rec.Code, rec.Body)
		}
		g.Close()
		if got := runtime.GOMAXPROCS(0); got != procs {
			t.Errorf("GOMAXPROCS after Close = %d, want %d as before New", got, procs)
		}
	}
}
