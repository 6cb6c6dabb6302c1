package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/config"
)

// loadConfig parses args with fs, which holds the configuration flags
// (command.flagSet defines them), and loads the configuration.
func loadConfig(fs *flag.FlagSet, args []string, e *env) (*config.Config, error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	path := ""
	if f := fs.Lookup("config"); f != nil {
		path = f.Value.String()
	}
	return config.Load(path, e.lookupEnv, fs)
}

// newLogger builds the server's logger: text on a terminal, JSON otherwise,
// unless the configuration says which.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.Log.Format
	if format == "auto" || format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// noArgs refuses positional arguments left after the flags.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// serveFlags makes 'gatehouse serve', which takes only the configuration
// flags.
func serveFlags(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, e *env) error { return cmdServe(ctx, fs, args, e) }
}

func cmdServe(ctx context.Context, fs *flag.FlagSet, args []string, e *env) error {
	cfg, err := loadConfig(fs, args, e)
	if err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	log := newLogger(cfg, e.stderr)
	defer setMemoryLimit(cfg, e.lookupEnv, log)() // memory.go
	g, err := gatehouse.New(*cfg, gatehouse.WithLogger(log))
	if err != nil {
		return err
	}
	defer g.Close()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	addr := ln.Addr().String()
	log.Info("Gatehouse is listening", "address", "http://"+addr, "public_url", cfg.PublicURL, "dev", cfg.DevMode())
	out := newPainter(e.stdout, e.lookupEnv)
	fmt.Fprintf(e.stdout, "Gatehouse is listening on %s (public URL %s)\n", out.paint(bold, "http://"+addr), cfg.PublicURL)
	if link, expires, err := g.SetupLink(ctx); err != nil {
		log.Error("could not create the setup link", "error", err)
	} else if link != "" {
		fmt.Fprintf(e.stdout, "%s Create one at:\n  %s\n(this link works once and expires at %s)\n",
			out.paint(yellow, "No admin account exists yet."), out.paint(boldCyanUnderline, link), expires.UTC().Format(time.RFC3339))
	}
	errc := make(chan error, 2)
	// Every listener is open before anyone is told the server is up.
	if cfg.Metrics.Listen != "" {
		msrv, err := serveMetrics(cfg.Metrics.Listen, g.MetricsHandler(), log, errc)
		if err != nil {
			return err
		}
		defer msrv.Close()
	}
	if e.onListen != nil {
		e.onListen(addr)
	}
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight", "timeout", cfg.HTTP.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
