package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// serveMetrics serves the Prometheus metrics, and nothing else, on their
// own address (metrics.listen), so that a scraper on a private network can
// reach them while the public listener answers /metrics with 404. A serving
// error goes to errc, which stops the server like one of the main listener.
func serveMetrics(addr string, h http.Handler, log *slog.Logger, errc chan<- error) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving metrics", "address", "http://"+ln.Addr().String()+"/metrics")
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			errc <- fmt.Errorf("serve metrics: %w", err)
		}
	}()
	return srv, nil
}
