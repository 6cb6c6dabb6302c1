package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// With metrics.listen, /metrics is served there, and is a 404 on the main
// listener unless metrics.enabled.
func TestServeMetricsListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	base, stop := serve(t, map[string]string{
		"GATEHOUSE_DATABASE_URL":   "sqlite://" + filepath.Join(dir, "gatehouse.db"),
		"GATEHOUSE_DATA_DIR":       dir,
		"GATEHOUSE_METRICS_LISTEN": metricsAddr,
	})
	defer stop()
	get(t, base+"/healthz")
	status, body := get(t, fmt.Sprintf("http://%s/metrics", metricsAddr))
	if status != 200 || !strings.Contains(body, `gatehouse_http_request_duration_seconds_count{code="200",route="GET /healthz"} 1`) {
		t.Errorf("GET /metrics on metrics.listen = %d, want 200 with the count of /healthz:\n%s", status, body)
	}
	if status, _ := get(t, base+"/metrics"); status != 404 {
		t.Errorf("GET /metrics on the main listener = %d, want 404", status)
	}
}
