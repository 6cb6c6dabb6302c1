package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gatehouse": func() {
			os.Exit(run(context.Background(), os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, lookupEnv: os.LookupEnv}))
		},
	})
}

// TestScripts runs the command-line scripts in testdata/script on SQLite.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/script",
		Cmds: scriptCmds, // mfa_test.go
		Setup: func(e *testscript.Env) error {
			e.Setenv("GATEHOUSE_DATABASE_URL", "sqlite://"+filepath.Join(e.WorkDir, "gatehouse.db"))
			e.Setenv("GATEHOUSE_DATA_DIR", e.WorkDir)
			return nil
		},
	})
}

// cli runs one command in process and returns its exit status and output.
func cli(t *testing.T, environ map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	status := run(context.Background(), args, &env{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		lookupEnv: func(k string) (string, bool) { v, ok := environ[k]; return v, ok },
	})
	return status, out.String(), errb.String()
}

// serve starts `gatehouse serve` in process on a free loopback port and
// returns its base URL and a function that stops it gracefully and waits.
func serve(t *testing.T, environ map[string]string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan int, 1)
	var out, errb syncBuffer
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, &env{
			stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
			lookupEnv: func(k string) (string, bool) { v, ok := environ[k]; return v, ok },
			onListen:  func(a string) { addrc <- a },
		})
	}()
	select {
	case a := <-addrc:
		return "http://" + a, func() {
			cancel()
			if status := <-done; status != 0 {
				t.Errorf("serve exited with %d; stderr:\n%s", status, errb.String())
			}
		}
	case status := <-done:
		cancel()
		t.Fatalf("serve exited with %d before listening; stderr:\n%s", status, errb.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("serve did not start; stderr:\n%s", errb.String())
	}
	return "", nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The whole program, on both stores: serve answers /healthz and /readyz,
// users made by the CLI in between survive a restart, and list shows roles.
func TestServeKeepsUsersAcrossRestarts(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			environ := map[string]string{"GATEHOUSE_DATA_DIR": dir}
			if backend == "sqlite" {
				environ["GATEHOUSE_DATABASE_URL"] = "sqlite://" + filepath.Join(dir, "gatehouse.db")
			} else {
				environ["GATEHOUSE_DATABASE_URL"] = storetest.PostgresURL(t)
			}
			base, stop := serve(t, environ)
			if status, body := get(t, base+"/healthz"); status != http.StatusOK {
				t.Errorf("GET /healthz = %d %s, want 200", status, body)
			}
			if status, body := get(t, base+"/readyz"); status != http.StatusOK || !strings.Contains(body, `"database":"ok"`) {
				t.Errorf("GET /readyz = %d %s, want 200 with the database ok", status, body)
			}
			status, out, errOut := cli(t, environ, "correct horse battery staple\n",
				"user", "create", "--username", "alice", "--email", "alice@example.com", "--role", "admin", "--password-stdin")
			if status != 0 {
				t.Fatalf("user create = %d, stderr %q", status, errOut)
			}
			id := strings.TrimSpace(out)
			if out != id+"\n" || len(id) < 20 {
				t.Errorf("user create printed %q, want only the ID and a newline", out)
			}
			stop()

			if _, err := os.Stat(filepath.Join(dir, "gatehouse.key")); err != nil {
				t.Errorf("secret key file: %v", err)
			}
			base, stop = serve(t, environ)
			defer stop()
			if status, _ := get(t, base+"/healthz"); status != http.StatusOK {
				t.Errorf("GET /healthz after restart = %d", status)
			}
			status, out, errOut = cli(t, environ, "", "user", "list")
			if status != 0 || !strings.Contains(out, id) || !regexpLine(out, "alice", "admin") {
				t.Errorf("user list after restart = %d %q (stderr %q), want alice with role admin", status, out, errOut)
			}
		})
	}
}

// regexpLine reports whether some line of s holds every word.
func regexpLine(s string, words ...string) bool {
	for _, line := range strings.Split(s, "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			return true
		}
	}
	return false
}

// A second start reuses the generated secret: tokens sealed by the first run
// open in the second (the key file is not rewritten).
func TestSecretKeyReused(t *testing.T) {
	dir := t.TempDir()
	environ := map[string]string{"GATEHOUSE_DATA_DIR": dir, "GATEHOUSE_DATABASE_URL": "sqlite://" + filepath.Join(dir, "g.db")}
	_, stop := serve(t, environ)
	stop()
	first, err := os.ReadFile(filepath.Join(dir, "gatehouse.key"))
	if err != nil {
		t.Fatal(err)
	}
	_, stop = serve(t, environ)
	stop()
	second, _ := os.ReadFile(filepath.Join(dir, "gatehouse.key"))
	if !bytes.Equal(first, second) {
		t.Error("the secret key file changed between starts")
	}
	fi, _ := os.Stat(filepath.Join(dir, "gatehouse.key"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret key mode = %o, want 600", fi.Mode().Perm())
	}
}

// Graceful shutdown lets a request in flight finish.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	environ := map[string]string{"GATEHOUSE_DATA_DIR": dir, "GATEHOUSE_DATABASE_URL": "sqlite://" + filepath.Join(dir, "g.db")}
	base, stop := serve(t, environ)
	// A slow upload keeps a request in flight while the server stops.
	pr, pw := io.Pipe()
	respc := make(chan int, 1)
	go func() {
		// The setup form handler reads the whole body before answering.
		resp, err := http.Post(base+"/setup/ghsetup_x", "application/x-www-form-urlencoded", pr)
		if err != nil {
			respc <- -1
			return
		}
		resp.Body.Close()
		respc <- resp.StatusCode
	}()
	pw.Write([]byte("username=x"))
	time.Sleep(200 * time.Millisecond)
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	time.Sleep(200 * time.Millisecond)
	pw.Close()
	if got := <-respc; got <= 0 {
		t.Errorf("request in flight during shutdown got %d, want a response", got)
	}
	<-stopped
}
