package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runOn runs one command in process with stdout and stderr going to the
// given files, and returns its exit status.
func runOn(t *testing.T, environ map[string]string, stdout, stderr *os.File, args ...string) int {
	t.Helper()
	return run(context.Background(), args, &env{
		stdin: strings.NewReader(""), stdout: stdout, stderr: stderr,
		lookupEnv: func(k string) (string, bool) { v, ok := environ[k]; return v, ok },
	})
}

// terminalReaders holds, for each pseudo-terminal's controlling end, the
// channel its one reader goroutine feeds.
var terminalReaders sync.Map

// readTerminal returns what has been written to a pseudo-terminal since the
// last call: whatever arrives until it has been quiet for 500 ms, and at most
// 5 s in all. One goroutine per terminal does the reading, without relying
// on read deadlines (which not every kernel's pseudo-terminals honour), so a
// read never hangs the test and no data is lost between calls.
func readTerminal(t *testing.T, ctl *os.File) string {
	t.Helper()
	ch, loaded := terminalReaders.LoadOrStore(ctl, make(chan []byte, 256))
	out := ch.(chan []byte)
	if !loaded {
		go func() {
			buf := make([]byte, 4096)
			for {
				n, err := ctl.Read(buf)
				if n > 0 {
					out <- append([]byte(nil), buf[:n]...)
				}
				switch {
				case err == nil:
				case errors.Is(err, syscall.EAGAIN) || errors.Is(err, os.ErrDeadlineExceeded):
					time.Sleep(10 * time.Millisecond)
				default:
					return // closed
				}
			}
		}()
	}
	var b strings.Builder
	deadline := time.After(5 * time.Second)
	for {
		select {
		case p := <-out:
			b.Write(p)
		case <-time.After(500 * time.Millisecond):
			return b.String()
		case <-deadline:
			return b.String()
		}
	}
}

// An error line is red on a terminal, and plain when piped, or on a
// terminal with NO_COLOR set.
func TestErrorColourOnlyOnTerminal(t *testing.T) {
	dir := t.TempDir()
	environ := map[string]string{"GATEHOUSE_DATA_DIR": dir, "GATEHOUSE_DATABASE_URL": "sqlite://" + filepath.Join(dir, "g.db")}
	if status, _, errOut := cli(t, environ, "", "migrate"); status != 0 {
		t.Fatalf("migrate = %d, stderr %q", status, errOut)
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	status := runOn(t, environ, pw, pw, "user", "show", "nobody")
	pw.Close()
	piped, _ := io.ReadAll(pr)
	if status != 1 || !strings.Contains(string(piped), "gatehouse: no user \"nobody\"\n") || strings.Contains(string(piped), "\x1b") {
		t.Errorf("user show nobody, piped = %d %q; want 1 and the plain error line", status, piped)
	}

	term, ctl := openTerminal(t)
	runOn(t, environ, term, term, "user", "show", "nobody")
	if got := readTerminal(t, ctl); !strings.Contains(got, "\x1b[1;31mgatehouse:\x1b[0m no user \"nobody\"") {
		t.Errorf("user show nobody on a terminal wrote %q, want the prefix in red", got)
	}

	environ["NO_COLOR"] = "1"
	runOn(t, environ, term, term, "user", "show", "nobody")
	if got := readTerminal(t, ctl); strings.Contains(got, "\x1b") || !strings.Contains(got, "gatehouse: no user") {
		t.Errorf("user show nobody on a terminal with NO_COLOR wrote %q, want no escape codes", got)
	}
}

// serve's start-up message highlights the setup link on a terminal only.
func TestServeBannerColourOnlyOnTerminal(t *testing.T) {
	term, ctl := openTerminal(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		stdout *os.File
		read   func() string
		colour bool
	}{
		{"piped", pw, func() string { return readUntil(t, pr, "expires at") }, false},
		{"terminal", term, func() string { return readTerminal(t, ctl) }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			listening := make(chan struct{})
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, &env{
					stdin: strings.NewReader(""), stdout: tt.stdout, stderr: io.Discard,
					lookupEnv: func(k string) (string, bool) {
						v, ok := map[string]string{"GATEHOUSE_DATA_DIR": dir, "GATEHOUSE_DATABASE_URL": "sqlite://" + filepath.Join(dir, "g.db")}[k]
						return v, ok
					},
					onListen: func(string) { close(listening) },
				})
			}()
			select {
			case <-listening:
			case status := <-done:
				t.Fatalf("serve exited with %d before listening", status)
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not start")
			}
			got := tt.read()
			cancel()
			<-done
			if !strings.Contains(got, "/setup/") {
				t.Fatalf("serve printed %q, want a setup link", got)
			}
			if has := strings.Contains(got, "\x1b["); has != tt.colour {
				t.Errorf("serve's start-up message has escape codes: %v, want %v:\n%q", has, tt.colour, got)
			}
		})
	}
}

// readUntil reads lines from r until one contains s.
func readUntil(t *testing.T, r io.Reader, s string) string {
	t.Helper()
	var b strings.Builder
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), s) {
			break
		}
	}
	return b.String()
}

func TestPainter(t *testing.T) {
	term, _ := openTerminal(t)
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tt := range []struct {
		name    string
		w       io.Writer
		environ map[string]string
		want    bool
	}{
		{"terminal", term, nil, true},
		{"terminal, NO_COLOR=1", term, map[string]string{"NO_COLOR": "1"}, false},
		{"terminal, NO_COLOR empty", term, map[string]string{"NO_COLOR": ""}, false},
		{"terminal, TERM=dumb", term, map[string]string{"TERM": "dumb"}, false},
		{"file", f, nil, false},
		{"buffer", &strings.Builder{}, nil, false},
	} {
		p := newPainter(tt.w, func(k string) (string, bool) { v, ok := tt.environ[k]; return v, ok })
		if p.on != tt.want {
			t.Errorf("%s: colour = %v, want %v", tt.name, p.on, tt.want)
		}
	}
	on := painter{on: true}
	if got, want := on.pad(red, "login.failed", 14), "\x1b[31mlogin.failed\x1b[0m  "; got != want {
		t.Errorf("pad = %q, want %q", got, want)
	}
	if got := (painter{}).pad(red, "login.failed", 14); got != "login.failed  " {
		t.Errorf("pad without colour = %q", got)
	}
	if got := on.paint("", "plain"); got != "plain" {
		t.Errorf("paint with no style = %q, want plain", got)
	}
}
