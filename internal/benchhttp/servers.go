package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/client"
	"github.com/gatehouse-dev/gatehouse/config"
)

// The measured servers run in processes of their own, started from this
// same binary with -serve: Gatehouse as `gatehouse serve` runs it, a bare
// handler (the ceiling), and a backend behind the client middleware. Each
// listens on a loopback port, prints "listening ADDR", and serves until its
// standard input closes, so that none outlives the benchmark.

// serveChild runs one measured server until standard input closes.
func serveChild(mode, cpuprofile string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	var h http.Handler
	var closer func()
	switch mode {
	case "bare":
		// Answers like /api/me: a small JSON body.
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"user":{"id":"bench"}}`)
		})
	case "backend":
		cl, err := client.New(context.Background(), os.Getenv("BENCH_ISSUER"))
		if err != nil {
			return err
		}
		closer = cl.Close
		h = cl.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, _ := client.ClaimsFrom(r.Context())
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"user":{"id":%q}}`, claims.Subject)
		}))
	case "gatehouse":
		cfg, err := config.Load("", os.LookupEnv, nil)
		if err != nil {
			return err
		}
		cfg.Listen, cfg.PublicURL = addr, "http://"+addr
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
		g, err := gatehouse.New(*cfg, gatehouse.WithLogger(log))
		if err != nil {
			return err
		}
		closer = func() { g.Close() }
		h = g.Handler()
	default:
		return fmt.Errorf("unknown server %q", mode)
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("listening %s\n", addr)
	io.Copy(io.Discard, os.Stdin)
	srv.Close()
	if closer != nil {
		closer()
	}
	return nil
}

// child is a measured server's process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

// startChild starts a measured server and waits until it listens.
func startChild(mode string, env []string, cpuprofile string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-serve", mode, "-gatehouse-cpuprofile", cpuprofile)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				line <- addr
			}
		}
		close(line)
	}()
	select {
	case addr, ok := <-line:
		if !ok {
			c.stop()
			return nil, fmt.Errorf("%s server exited before listening", mode)
		}
		c.addr = addr
		return c, nil
	case <-time.After(2 * time.Minute):
		c.stop()
		return nil, errors.New(mode + " server did not start within 2 minutes")
	}
}

// stop asks the server to stop and waits for it, killing it after a while.
func (c *child) stop() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// memory returns the server's resident memory now and at its peak, in MiB.
func (c *child) memory() (rss, peak float64) { return memory(c.cmd.Process.Pid) }
