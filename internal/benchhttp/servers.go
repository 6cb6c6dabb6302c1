package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-dev/gatehouse/client"
)

// The measured servers run in processes of their own: Gatehouse is the
// gatehouse binary, built for the run and started with `gatehouse serve`
// exactly as a deployment starts it; the bare handler (the ceiling) and the
// backend behind the client middleware are this same binary, started with
// -serve. Each listens on a loopback port and serves until told to stop (a
// closed standard input, or SIGTERM for gatehouse serve), so that none
// outlives the benchmark.

// serveChild runs one measured server until standard input closes.
func serveChild(mode string) error {
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
	default:
		return fmt.Errorf("unknown server %q", mode)
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
	stdin io.WriteCloser // nil for gatehouse serve, which stops on SIGTERM
	addr  string
}

// startChild starts a measured server and waits until it listens.
func startChild(mode string, env []string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-serve", mode)
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
	if c.stdin != nil {
		c.stdin.Close()
	} else {
		c.cmd.Process.Signal(syscall.SIGTERM)
	}
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// buildGatehouse builds the gatehouse command into dir.
func buildGatehouse(dir string) (string, error) {
	bin := filepath.Join(dir, "gatehouse")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/gatehouse-dev/gatehouse/cmd/gatehouse")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build gatehouse: %w", err)
	}
	return bin, nil
}

// startGatehouse runs `gatehouse serve` on a free loopback port, with env
// added to this process's environment, and waits until it answers.
func startGatehouse(bin string, env []string) (*child, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(append(os.Environ(), env...), "GATEHOUSE_LISTEN="+addr, "GATEHOUSE_PUBLIC_URL=http://"+addr)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, addr: addr}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := newClient().Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, errors.New("gatehouse serve did not answer within 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// memory returns the server's resident memory now and at its peak, in MiB.
func (c *child) memory() (rss, peak float64) { return memory(c.cmd.Process.Pid) }
