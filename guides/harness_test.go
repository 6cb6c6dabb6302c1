//go:build integration

package guides

import (
	"bytes"
	"context"
	"flag"
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

// The flows run the documents' commands as a reader would, with bash, each
// against Gatehouse processes of its own on 127.0.0.1. A flow may make three
// kinds of change to a command, always stated in the flow: a replacement of
// text (the documents' fixed addresses and paths, such as localhost:8080 or
// /etc/gatehouse, become the test's ports and temporary directories), extra
// flags appended to a long-running command (a free port instead of a fixed
// one), and the environment it runs in (GATEHOUSE_* variables pointing at
// temporary files). `go install ./cmd/gatehouse` runs once, in TestMain, into
// a directory on the flows' PATH; `go run ./examples/notes` runs as a build of
// that package started in a scratch directory, because the example keeps its
// files in the current directory and the tree must stay clean.

var (
	binDir string // holds gatehouse (go install ./cmd/gatehouse) and notes

	ranMu sync.Mutex
	ran   = map[string]bool{} // keys of the commands the flows ran
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "gatehouse-guides-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = filepath.Join(dir, "bin")
	build := func(args ...string) {
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOBIN="+binDir)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "go %s: %v\n", strings.Join(args, " "), err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	build(strings.Fields(commandText("install"))[1:]...) // go install ./cmd/gatehouse
	ran["install"] = true
	build("build", "-o", filepath.Join(binDir, "notes"), "./examples/notes")
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		for _, c := range commands {
			if !c.ci && !ran[c.key] {
				fmt.Fprintf(os.Stderr, "FAIL: no flow ran the command %s: %s\n", c.key, c.text)
				code = 1
			}
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// commandText returns the text of the command with the given key.
func commandText(key string) string {
	for _, c := range commands {
		if c.key == key {
			return c.text
		}
	}
	panic("no command " + key)
}

// shell runs documented commands one after another as in one terminal: the
// variables a command sets are there for the next. Each command runs in its
// own bash, which restores the variables the previous ones left.
type shell struct {
	t     *testing.T
	dir   string   // working directory
	state string   // the variables, as export -p writes them
	env   []string // the environment the terminal starts with
	repl  []string // old, new pairs applied to each command
}

// newShell starts a terminal in dir, with binDir first on the PATH, no
// GATEHOUSE_* variables but env, and replacements old, new, … applied to
// every command.
func newShell(t *testing.T, dir string, env map[string]string, repl ...string) *shell {
	t.Helper()
	s := &shell{t: t, dir: dir, state: filepath.Join(t.TempDir(), "state"), repl: repl}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GATEHOUSE_") || strings.HasPrefix(kv, "PATH=") {
			continue
		}
		s.env = append(s.env, kv)
	}
	s.env = append(s.env, "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	for k, v := range env {
		s.env = append(s.env, k+"="+v)
	}
	return s
}

// command returns the text of a documented command with the replacements
// applied, and records that it ran.
func (s *shell) command(key string) string {
	s.t.Helper()
	text := commandText(key)
	if len(s.repl) > 0 {
		text = strings.NewReplacer(s.repl...).Replace(text)
	}
	ranMu.Lock()
	ran[key] = true
	ranMu.Unlock()
	return text
}

// script wraps a command so that it sees the variables set before it.
func (s *shell) script(cmd string, save bool) string {
	var b strings.Builder
	b.WriteString("set -a\n")
	fmt.Fprintf(&b, "[ -f %q ] && . %q 2>/dev/null\n", s.state, s.state)
	b.WriteString("set -o pipefail\n")
	if !save {
		b.WriteString(cmd + "\n")
		return b.String()
	}
	b.WriteString(cmd + "\n")
	fmt.Fprintf(&b, "rc=$?\nexport -p > %q\nexit $rc\n", s.state)
	return b.String()
}

// run runs a documented command in the shell's directory and returns its
// output; it fails the test unless the command exits 0 within a minute.
func (s *shell) run(key string) string {
	s.t.Helper()
	return s.runIn(s.dir, key)
}

// runIn is run in another directory (the repository, for go run).
func (s *shell) runIn(dir, key string) string {
	s.t.Helper()
	return s.exec(dir, s.command(key), key)
}

// sh runs a helper command that is not from a document (setting up what a
// reader would have done by hand).
func (s *shell) sh(cmd string) string {
	s.t.Helper()
	return s.exec(s.dir, cmd, "helper")
}

func (s *shell) exec(dir, cmd, what string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", "-c", s.script(cmd, true))
	c.Dir, c.Env = dir, s.env
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Run(); err != nil {
		s.t.Fatalf("%s: %s\n  %v\n  stdout: %s\n  stderr: %s", what, cmd, err, out.String(), errOut.String())
	}
	s.t.Logf("$ %s\n%s", cmd, out.String())
	return out.String()
}

// set sets a variable in the terminal, as a reader would by hand.
func (s *shell) set(name, value string) {
	s.t.Helper()
	s.sh(name + "='" + strings.ReplaceAll(value, "'", `'\''`) + "'")
}

// get returns a variable of the terminal.
func (s *shell) get(name string) string {
	s.t.Helper()
	return s.sh(`printf %s "$` + name + `"`)
}

// proc is a long-running command, stopped when the test ends.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// start runs a documented long-running command in dir with extra arguments
// appended.
func (s *shell) start(dir, key string, extra ...string) *proc {
	s.t.Helper()
	cmd := s.command(key)
	if len(extra) > 0 {
		cmd += " " + strings.Join(extra, " ")
	}
	return s.startCmd(dir, cmd)
}

// startCmd runs any long-running command (a helper's or a document's).
func (s *shell) startCmd(dir, cmd string) *proc {
	s.t.Helper()
	p := &proc{out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command("bash", "-c", s.script(cmd, false))
	p.cmd.Dir, p.cmd.Env = dir, s.env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // go run's child too
	if err := p.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", cmd, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	s.t.Logf("$ %s &", cmd)
	t := s.t
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("output of %s:\n%s", cmd, p.out.String())
		}
	})
	return p
}

// stop ends the process group with SIGTERM, or SIGKILL after ten seconds.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// waitHTTP waits until u answers at all (any status), for at most a minute
// (go run may be compiling), and fails if the process exits first.
func waitHTTP(t *testing.T, p *proc, u string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-p.done:
			t.Fatalf("the process serving %s exited:\n%s", u, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer within a minute:\n%s", u, p.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitOutput waits up to ten seconds for the process to print want.
func waitOutput(t *testing.T, p *proc, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the process did not print %q; its output:\n%s", want, p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
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

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freeAddr returns a 127.0.0.1 address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// do sends a request and returns the status, the Location and the body.
func do(t *testing.T, c *http.Client, method, u string, body io.Reader, headers ...string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func postForm(t *testing.T, c *http.Client, u string, v url.Values) (int, string, string) {
	t.Helper()
	return do(t, c, http.MethodPost, u, strings.NewReader(v.Encode()), "Content-Type", "application/x-www-form-urlencoded")
}

// must fails the test unless out contains every one of wants.
func must(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Fatalf("%s: output %q does not contain %q", what, out, w)
		}
	}
}
