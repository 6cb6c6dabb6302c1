package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A nil *Metrics is a valid no-op.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.Request("GET /x", 200, time.Millisecond)
	m.SignIn("password", Success)
	m.Limited("login")
	m.Refused("hash_pool_full")
	m.WatchCount("x", "y", time.Second, nil)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Metrics Handler = %d, want 404", rec.Code)
	}
}

// A count is queried at most once per maxAge, and a failed query leaves the
// last value.
func TestWatchCountCaches(t *testing.T) {
	m := New()
	calls, fail := 0, false
	m.WatchCount("gatehouse_test_things", "Things.", time.Hour, func(context.Context) (int, error) {
		calls++
		if fail {
			return 0, errors.New("down")
		}
		return 7, nil
	})
	scrape := func() string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	for range 3 {
		if body := scrape(); !strings.Contains(body, "gatehouse_test_things 7") {
			t.Fatalf("metrics lack gatehouse_test_things 7:\n%s", body)
		}
	}
	if calls != 1 {
		t.Errorf("3 scrapes within maxAge made %d queries, want 1", calls)
	}
}

func TestRequestLabels(t *testing.T) {
	m := New()
	m.Request("GET /api/me", 200, 2*time.Millisecond)
	m.Request("unmatched", 404, time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`gatehouse_http_request_duration_seconds_count{code="200",route="GET /api/me"} 1`,
		`gatehouse_http_request_duration_seconds_count{code="404",route="unmatched"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
