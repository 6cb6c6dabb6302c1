package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// completeBash loads the bash script and asks it to complete line, where
// the cursor is at the end of line (a trailing space starts a new word).
// It returns the proposals.
func completeBash(t *testing.T, script, dir, line string) []string {
	t.Helper()
	words := strings.Fields(line)
	if strings.HasSuffix(line, " ") {
		words = append(words, "")
	}
	var quoted []string
	for _, w := range words {
		quoted = append(quoted, "'"+w+"'")
	}
	prog := `source "$1" || exit 1
complete -p gatehouse >/dev/null || exit 1
COMP_WORDS=(` + strings.Join(quoted, " ") + `)
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="` + line + `"
COMP_POINT=${#COMP_LINE}
_gatehouse
printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", prog, "bash", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("completing %q: %v\n%s", line, err, out)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			got = append(got, l)
		}
	}
	return got
}

// The bash script, loaded in a real bash, completes commands, subcommands,
// flags, and file names where a file is wanted.
func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash on the PATH")
	}
	status, script, errOut := cli(t, nil, "", "completion", "bash")
	if status != 0 {
		t.Fatalf("completion bash = %d, stderr %q", status, errOut)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "gatehouse.bash")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "users.csv"), nil, 0o644)

	for _, tt := range []struct {
		line      string
		want      []string // each must be proposed
		wantExact bool     // and nothing else
	}{
		{"gatehouse us", []string{"user", "users"}, true},
		{"gatehouse ", []string{"serve", "migrate", "user", "users", "keys", "audit", "completion", "version", "help"}, true},
		{"gatehouse user create --us", []string{"--username"}, true},
		{"gatehouse user create --", []string{"--username", "--email", "--role", "--password-stdin", "--verified", "--config", "--database-url", "--help"}, false},
		{"gatehouse user ", []string{"create", "list", "show", "set-roles", "disable", "enable", "reset-mfa", "delete", "import"}, true},
		{"gatehouse users im", []string{"import"}, true},
		{"gatehouse users import ", []string{"users.csv", "gatehouse.bash"}, true},
		{"gatehouse users import --dr", []string{"--dry-run"}, true},
		{"gatehouse keys r", []string{"rotate"}, true},
		{"gatehouse audit tail --f", []string{"--follow"}, true},
		{"gatehouse audit tail -", []string{"-n", "--type", "--user"}, false},
		{"gatehouse completion ", []string{"bash", "zsh", "fish"}, true},
		{"gatehouse help us", []string{"user", "users"}, true},
		{"gatehouse help co", []string{"completion", "config"}, true},
		{"gatehouse serve --config us", []string{"users.csv"}, true},
		{"gatehouse serve --li", []string{"--listen"}, true},
		// A flag's value is not a subcommand, and is not completed.
		{"gatehouse user create --role ", nil, true},
		{"gatehouse user list --role admin --j", []string{"--json"}, true},
		// Nothing to propose after a command that takes none.
		{"gatehouse version ", nil, true},
	} {
		got := completeBash(t, path, dir, tt.line)
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("completing %q = %q, want it to propose %q", tt.line, got, w)
			}
		}
		if tt.wantExact && len(got) != len(tt.want) {
			t.Errorf("completing %q = %q, want exactly %q", tt.line, got, tt.want)
		}
	}
}

// The scripts for every shell are derived from the table: each names every
// command and every flag of a command.
func TestCompletionScriptsCoverTable(t *testing.T) {
	root := commandTable()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		status, script, errOut := cli(t, nil, "", "completion", shell)
		if status != 0 || errOut != "" {
			t.Fatalf("completion %s = %d, stderr %q", shell, status, errOut)
		}
		root.walk(func(c *command) {
			if c.parent != nil && !strings.Contains(script, c.name) {
				t.Errorf("%s script does not mention %s", shell, c.path())
			}
			if c.flags == nil {
				return
			}
			fs, _ := c.flagSet()
			fs.VisitAll(func(f *flag.Flag) {
				name := flagName(f.Name)
				if shell == "fish" {
					name = f.Name // fish writes -l username
				}
				if !strings.Contains(script, name) {
					t.Errorf("%s script does not mention %s of %s", shell, name, c.path())
				}
			})
		})
		// Shells that are installed check the syntax.
		if _, err := exec.LookPath(shell); err == nil {
			f := filepath.Join(t.TempDir(), "script")
			os.WriteFile(f, []byte(script), 0o644)
			if out, err := exec.Command(shell, "-n", f).CombinedOutput(); err != nil {
				t.Errorf("%s -n on the %s script: %v\n%s", shell, shell, err, out)
			}
		}
	}
}

// TestFishCompletion asks a real fish for completions, when fish is
// installed (.ci/run installs it).
func TestFishCompletion(t *testing.T) {
	if _, err := exec.LookPath("fish"); err != nil {
		t.Skip("fish is not installed")
	}
	_, script, _ := cli(t, nil, "", "completion", "fish")
	f := filepath.Join(t.TempDir(), "gatehouse.fish")
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ line, want string }{
		{"gatehouse us", "user"},
		{"gatehouse user cr", "create"},
		{"gatehouse user create --us", "--username"},
		{"gatehouse completion ", "zsh"},
	} {
		out, err := exec.Command("fish", "--no-config", "-c", "source "+f+"; complete -C '"+tt.line+"'").CombinedOutput()
		if err != nil {
			t.Fatalf("fish complete -C %q: %v\n%s", tt.line, err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			got = append(got, strings.SplitN(l, "\t", 2)[0])
		}
		if !slices.Contains(got, tt.want) {
			t.Errorf("fish completing %q = %q, want it to propose %q", tt.line, got, tt.want)
		}
	}
}
