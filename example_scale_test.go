package gatehouse_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
)

// Serve the Prometheus metrics on an address of their own, away from the
// public listener (which answers /metrics with 404 unless metrics.enabled).
func ExampleGatehouse_MetricsHandler() {
	gh, done := newTestGatehouseOn("http://localhost:8080", "")
	defer done()

	private := http.NewServeMux()
	private.Handle("GET /metrics", gh.MetricsHandler())
	// go http.ListenAndServe("10.0.0.5:9090", private)

	rec := httptest.NewRecorder()
	private.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), "gatehouse_hash_pool_workers"))
	// Output: 200 true
}

// The password hash pool: how many hashes run at once, and how many sign-ins
// it has refused because it was full.
func ExampleGatehouse_HashPoolStats() {
	gh, done := newTestGatehouseOn("http://localhost:8080", "")
	defer done()
	s := gh.HashPoolStats()
	fmt.Println(s.Workers > 0, s.QueueLimit == 4*s.Workers, s.Rejected)
	// Output: true true 0
}
