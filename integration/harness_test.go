//go:build integration

// Package integration runs the gatehouse binary as a deployment does: built
// once, started as separate processes on loopback ports, sharing
// PostgreSQL and Redis. It checks what only several processes can show:
// that nodes behave as one, and that Gatehouse rides out outages of Redis
// and PostgreSQL. Run it with `make integration` (it needs
// GATEHOUSE_TEST_POSTGRES_URL, and redis-server on the PATH for a Redis of
// its own that it can stop and start).
package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the gatehouse command, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", binary, "github.com/gatehouse-dev/gatehouse/cmd/gatehouse")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gatehouse:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// secretKey is the master secret every node of a test shares.
const secretKey = "integration-secret-key-0123456789abcdef"

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// node is one running gatehouse serve process.
type node struct {
	t    *testing.T
	name string
	URL  string
	cmd  *exec.Cmd
	logs *syncBuffer
}

// startNode runs `gatehouse serve` with env added to a minimal environment,
// on a free port, and waits until /healthz answers. It stops when the test
// ends.
func startNode(t *testing.T, name string, env map[string]string) *node {
	t.Helper()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	n := &node{t: t, name: name, URL: "http://" + addr, logs: &syncBuffer{}}
	dir := t.TempDir()
	full := map[string]string{
		"GATEHOUSE_LISTEN":     addr,
		"GATEHOUSE_PUBLIC_URL": "http://" + addr,
		"GATEHOUSE_SECRET_KEY": secretKey,
		"GATEHOUSE_DATA_DIR":   dir,
		"GATEHOUSE_LOG_FORMAT": "json",
		"GATEHOUSE_LOG_LEVEL":  "info",
		"PATH":                 os.Getenv("PATH"),
		"HOME":                 dir,
	}
	for k, v := range env {
		full[k] = v
	}
	args := []string{"serve"}
	if cfg, ok := full["CONFIG"]; ok {
		args = append(args, "--config", cfg)
		delete(full, "CONFIG")
	}
	n.cmd = exec.Command(binary, args...)
	for k, v := range full {
		n.cmd.Env = append(n.cmd.Env, k+"="+v)
	}
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start node %s: %v", name, err)
	}
	t.Cleanup(n.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(n.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s did not answer /healthz within 30s; its log:\n%s", name, n.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the process gracefully (SIGTERM), or kills it after a while.
func (n *node) stop() {
	if n.cmd.ProcessState != nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { n.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		n.cmd.Process.Kill()
		<-done
		n.t.Errorf("node %s did not stop within 20s of SIGTERM", n.name)
	}
	if n.t.Failed() {
		n.t.Logf("log of node %s:\n%s", n.name, n.logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a process's output and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   string
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
	return m
}

// client is an HTTP client with a cookie jar that does not follow
// redirects, and the client IP it claims through X-Forwarded-For (used only
// where a node trusts the loopback proxy).
type client struct {
	hc *http.Client
}

func newClient() *client {
	jar, _ := cookiejar.New(nil)
	return &client{hc: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request; headers alternate names and values.
func (c *client) do(t *testing.T, method, u string, body io.Reader, headers ...string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return response{status: 0, body: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (c *client) postJSON(t *testing.T, u string, v any, headers ...string) response {
	t.Helper()
	b, _ := json.Marshal(v)
	return c.do(t, http.MethodPost, u, bytes.NewReader(b), append([]string{"Content-Type", "application/json"}, headers...)...)
}

func (c *client) postForm(t *testing.T, u string, v url.Values, headers ...string) response {
	t.Helper()
	return c.do(t, http.MethodPost, u, strings.NewReader(v.Encode()),
		append([]string{"Content-Type", "application/x-www-form-urlencoded"}, headers...)...)
}

// cookie returns the value of the named cookie the jar holds for u.
func (c *client) cookie(u, name string) string {
	pu, _ := url.Parse(u)
	for _, ck := range c.hc.Jar.Cookies(pu) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// eventually retries check until it returns "" or the time is up, and
// fails the test with check's last complaint.
func eventually(t *testing.T, within time.Duration, what string, check func() string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		problem := check()
		if problem == "" {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v: %s", what, within, problem)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// redisServer is a redis-server of the test's own, which the test may stop
// and start again on the same port. The machine's shared Redis is never
// touched.
type redisServer struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

// startRedis starts a redis-server on a free loopback port, with nothing
// persisted, stopped when the test ends. It skips the test when
// redis-server is not installed.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("skipping: redis-server is not on the PATH (apt-get install -y redis-server)")
	}
	r := &redisServer{t: t, port: freePort(t), dir: t.TempDir()}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// URL is the redis:// URL of the server.
func (r *redisServer) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--protected-mode", "yes")
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "Ready to accept connections") {
				close(ready)
				signalled = true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		r.t.Fatal("redis-server did not start within 10s")
	}
}

// stop ends the server at once (SIGKILL, like a crash): clients see their
// connections drop.
func (r *redisServer) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// proxy forwards TCP connections from a loopback port to target, and can
// cut every connection and refuse new ones, then take them again: an
// outage of what is behind it, as its clients see one.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	p.addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.restore()
	t.Cleanup(p.cut)
	return p
}

// restore listens again and forwards new connections.
func (p *proxy) restore() {
	p.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after cut
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *proxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// cut closes the listener and every connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// postgresURL returns url with its host replaced by addr.
func viaProxy(t *testing.T, raw, addr string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// postgresHost returns the host:port of a postgres:// URL.
func postgresHost(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == "" {
		return u.Hostname() + ":5432"
	}
	return u.Host
}

var errNoToken = errors.New("no token in the answer")
