package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/cli.md from the command table")

const cliReferencePath = "../../docs/cli.md"

// docs/cli.md is generated from the command table; a command, flag or
// example changed without regenerating it fails here.
func TestCLIReferenceUpToDate(t *testing.T) {
	want := cliReference(commandTable())
	if *update {
		if err := os.WriteFile(cliReferencePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(cliReferencePath)
	if err != nil {
		t.Fatalf("read %s: %v; create it with: go test ./cmd/gatehouse -run TestCLIReferenceUpToDate -update", cliReferencePath, err)
	}
	if string(got) != want {
		t.Errorf("%s differs from the command table (%s); regenerate it with: go test ./cmd/gatehouse -run TestCLIReferenceUpToDate -update",
			cliReferencePath, firstDifference(string(got), want))
	}
}

// firstDifference describes the first line where two texts disagree.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d is %q, want %q", i+1, gl, wl)
		}
	}
	return "they differ"
}

// words splits a command's path into the words that run it.
func words(c *command) []string { return strings.Fields(c.path())[1:] }

// Every command and group, whichever way help is asked for, prints its
// help to stdout and exits 0: the usage line, a summary, and examples.
func TestHelpEveryCommand(t *testing.T) {
	commandTable().walk(func(c *command) {
		t.Run(c.path(), func(t *testing.T) {
			want := ""
			for _, args := range [][]string{
				append(words(c), "--help"),
				append(words(c), "-h"),
				append([]string{"help"}, words(c)...),
			} {
				status, out, errOut := cli(t, nil, "", args...)
				if status != 0 || errOut != "" {
					t.Errorf("gatehouse %s = %d, stderr %q; want 0 and nothing on stderr", strings.Join(args, " "), status, errOut)
				}
				if want == "" {
					want = out
				} else if out != want {
					t.Errorf("gatehouse %s printed other help than --help (%s)", strings.Join(args, " "), firstDifference(out, want))
				}
			}
			if !strings.HasPrefix(want, "Usage: "+c.path()) {
				t.Errorf("help does not start with the usage line %q:\n%s", "Usage: "+c.path(), want)
			}
			if !strings.Contains(want, "\n"+c.summary+".\n") && c.parent != nil {
				t.Errorf("help lacks the summary %q:\n%s", c.summary, want)
			}
			if n := strings.Count(want, "\nExamples:\n"); n != 1 || len(c.examples) == 0 || len(c.examples) > 3 {
				t.Errorf("help has %d Examples sections and %d examples, want one with 1 to 3:\n%s", n, len(c.examples), want)
			}
			for _, line := range strings.Split(want, "\n") {
				if len(line) > helpWidth && !strings.HasPrefix(line, "Usage: ") && !strings.HasPrefix(line, "  gatehouse") {
					t.Errorf("help line longer than %d columns: %q", helpWidth, line)
				}
			}
			if c.flags != nil {
				fs, _ := c.flagSet()
				fs.VisitAll(func(f *flag.Flag) {
					if !strings.Contains(want, flagName(f.Name)) {
						t.Errorf("help does not mention %s", flagName(f.Name))
					}
				})
			}
		})
	})
}

// The top-level help lists every command with its summary.
func TestHelpListsCommands(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		status, out, _ := cli(t, nil, "", args...)
		if status != 0 {
			t.Errorf("gatehouse %s = %d, want 0", args[0], status)
		}
		for _, l := range commandTable().leaves() {
			if !regexpLine(out, strings.TrimPrefix(l.path(), "gatehouse "), l.summary) {
				t.Errorf("gatehouse %s does not list %q with its summary", args[0], l.path())
			}
		}
	}
}

// Mistakes on the command line exit 2 with the explanation on stderr and
// nothing on stdout.
func TestUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "Usage: gatehouse <command>"},
		{[]string{"frobnicate"}, `gatehouse: unknown command "frobnicate"; run 'gatehouse help' for the list`},
		{[]string{"help", "frobnicate"}, `gatehouse: unknown command "frobnicate"`},
		{[]string{"help", "user", "frobnicate"}, `gatehouse: unknown user subcommand "frobnicate"; run 'gatehouse help user'`},
		{[]string{"user"}, "gatehouse: user needs a subcommand: create, list,"},
		{[]string{"keys"}, "Usage: gatehouse keys <subcommand>"},
		{[]string{"keys", "spin"}, `gatehouse: unknown keys subcommand "spin"; run 'gatehouse keys --help'`},
		{[]string{"version", "extra"}, "gatehouse: version takes no arguments"},
		{[]string{"version", "--nope"}, "gatehouse: flag provided but not defined: -nope"},
		{[]string{"completion"}, "gatehouse: completion needs one shell: bash, zsh or fish"},
		{[]string{"completion", "tcsh"}, `gatehouse: completion: unknown shell "tcsh"`},
		{[]string{"serve", "--nope"}, "gatehouse: flag provided but not defined: -nope"},
	} {
		status, out, errOut := cli(t, nil, "", tt.args...)
		if status != 2 || out != "" || !strings.Contains(errOut, tt.want) {
			t.Errorf("gatehouse %s = %d, stdout %q, stderr %q; want 2, nothing on stdout, and %q on stderr",
				strings.Join(tt.args, " "), status, out, errOut, tt.want)
		}
	}
}

// Help is printed once, not once by the flag package and again by run.
func TestHelpPrintedOnce(t *testing.T) {
	_, out, _ := cli(t, nil, "", "serve", "--help")
	if n := strings.Count(out, "Usage: gatehouse serve"); n != 1 {
		t.Errorf("serve --help printed the usage line %d times, want 1", n)
	}
}

func TestWrap(t *testing.T) {
	for _, tt := range []struct {
		in    string
		width int
		want  string
	}{
		{"", 10, ""},
		{"one two three", 7, "one two|three"},
		{"unbreakablelongword x", 5, "unbreakablelongword|x"},
	} {
		if got := strings.Join(wrap(tt.in, tt.width), "|"); got != tt.want {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}
