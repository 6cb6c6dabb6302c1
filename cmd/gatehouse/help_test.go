package main

import (
	"flag"
	"github.com/gatehouse-dev/gatehouse/internal/golden"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/cli.md from the command table")

const cliReferencePath = "../../docs/cli.md"

// docs/cli.md is generated from the command table; a command, flag or
// example changed without regenerating it fails here.
func TestCLIReferenceUpToDate(t *testing.T) {
	golden.Check(t, cliReferencePath, cliReference(commandTable()), *update, "go test ./cmd/gatehouse -run TestCLIReferenceUpToDate -update")
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
					t.Errorf("gatehouse %s printed other help than --help (%s)", strings.Join(args, " "), golden.FirstDifference(out, want))
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
				// The command's own flags are listed; the configuration
				// flags in full only in serve's help, and elsewhere by a
				// pointer to 'gatehouse help config' (TestHelpConfigTopic
				// checks that it lists them all).
				fs, _ := c.flagSet()
				own, cfg := splitFlags(fs)
				for _, f := range own {
					if !hasFlagLine(want, f) {
						t.Errorf("help does not list %s", flagName(f.Name))
					}
				}
				for _, f := range cfg {
					if got := hasFlagLine(want, f); got != c.allConfig {
						t.Errorf("help lists configuration flag %s: %v, want %v", flagName(f.Name), got, c.allConfig)
					}
				}
				if c.config && !strings.Contains(want, "'gatehouse help config'") {
					t.Errorf("help takes the configuration flags but does not point to 'gatehouse help config':\n%s", want)
				}
			}
		})
	})
}

// hasFlagLine reports whether help has a line that starts with flag f, as
// the flag lists have.
func hasFlagLine(help string, f *flag.Flag) bool {
	for _, line := range strings.Split(help, "\n") {
		if line == "  "+flagName(f.Name) || strings.HasPrefix(line, "  "+flagName(f.Name)+" ") {
			return true
		}
	}
	return false
}

// 'gatehouse help config' lists every configuration flag, with its
// environment variable and default, exactly as serve's help does; the
// topic is not a command.
func TestHelpConfigTopic(t *testing.T) {
	status, out, errOut := cli(t, nil, "", "help", "config")
	if status != 0 || errOut != "" {
		t.Fatalf("gatehouse help config = %d, stderr %q; want 0 and nothing on stderr", status, errOut)
	}
	var flags strings.Builder
	writeFlags(&flags, configFlags())
	if !strings.Contains(out, "\nFlags:\n"+flags.String()) {
		t.Errorf("gatehouse help config does not list the configuration flags as serve's help does:\n%s", out)
	}
	_, serveHelp, _ := cli(t, nil, "", "serve", "--help")
	if !strings.Contains(serveHelp, flags.String()) {
		t.Errorf("serve --help does not list the configuration flags in full:\n%s", serveHelp)
	}
	for _, f := range configFlags() {
		if !hasFlagLine(out, f) {
			t.Errorf("gatehouse help config does not list %s", flagName(f.Name))
		}
	}
	flat := strings.Join(strings.Fields(out), " ") // as wrapping left it
	for _, env := range []string{"GATEHOUSE_DATABASE_URL", "GATEHOUSE_DATA_DIR", "GATEHOUSE_LISTEN", "GATEHOUSE_PUBLIC_URL"} {
		if !strings.Contains(flat, "(env "+env+")") {
			t.Errorf("gatehouse help config does not name the variable %s", env)
		}
	}
	if !strings.Contains(flat, "(default 127.0.0.1:8080)") {
		t.Errorf("gatehouse help config does not give the defaults")
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > helpWidth && !strings.HasPrefix(line, "  gatehouse") {
			t.Errorf("help config line longer than %d columns: %q", helpWidth, line)
		}
	}
	for _, args := range [][]string{{"config"}, {"config", "--help"}, {"help", "config", "extra"}} {
		status, out, errOut := cli(t, nil, "", args...)
		if status != 2 || out != "" || !strings.Contains(errOut, "gatehouse help config") && !strings.Contains(errOut, "takes nothing") {
			t.Errorf("gatehouse %s = %d, stdout %q, stderr %q; want a usage error", strings.Join(args, " "), status, out, errOut)
		}
	}
	if _, out, _ := cli(t, nil, "", "help"); !regexpLine(out, "config", "configuration flags") {
		t.Errorf("gatehouse help does not list the config topic:\n%s", out)
	}
}

// allHelp is every help page: each command's and each topic's.
func allHelp(t *testing.T) map[string]string {
	pages := map[string]string{}
	commandTable().walk(func(c *command) {
		var b strings.Builder
		writeHelp(&b, c)
		pages[c.path()] = b.String()
	})
	for _, tp := range helpTopics() {
		var b strings.Builder
		tp.write(&b)
		pages["gatehouse help "+tp.name] = b.String()
	}
	return pages
}

// Every docs/….md the help mentions exists, relative to the repository root.
func TestHelpDocPathsExist(t *testing.T) {
	docPath := regexp.MustCompile(`docs/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md`)
	n := 0
	for page, text := range allHelp(t) {
		for _, p := range docPath.FindAllString(text, -1) {
			n++
			b, err := os.ReadFile(filepath.Join("..", "..", p))
			switch {
			case err != nil:
				t.Errorf("%s help mentions %s: %v", page, p, err)
			case strings.Contains(string(b), "has moved to"):
				// A stub left where a page used to be.
				t.Errorf("%s help mentions %s, which only says where the page has moved; name the new place", page, p)
			}
		}
	}
	if n == 0 {
		t.Error("no help page mentions a docs/….md path; is the pattern broken?")
	}
}

// users import is documented under 'users'; 'gatehouse help user' does not
// list it as 'user import', but names it as people type it.
func TestHelpUserNamesUsersImport(t *testing.T) {
	_, out, _ := cli(t, nil, "", "help", "user")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "import ") {
			t.Errorf("gatehouse help user lists import as a user subcommand: %q", line)
		}
	}
	if !strings.Contains(out, "'gatehouse users import'") {
		t.Errorf("gatehouse help user does not name 'gatehouse users import':\n%s", out)
	}
	_, out, _ = cli(t, nil, "", "help", "users", "import")
	if !strings.HasPrefix(out, "Usage: gatehouse users import ") || !strings.Contains(out, "'gatehouse user import' works too") {
		t.Errorf("gatehouse help users import does not show 'users import' as the usual form and 'user import' as an alias:\n%s", out)
	}
}

// An example that creates an admin gives them a password: an admin without
// one cannot sign in with a password.
func TestExampleAdminsHavePasswords(t *testing.T) {
	for page, text := range allHelp(t) {
		for _, ex := range strings.Split(strings.ReplaceAll(text, "\\\n", " "), "\n") {
			if strings.Contains(ex, "user create") && strings.Contains(ex, "--role admin") && !strings.Contains(ex, "--password-stdin") {
				t.Errorf("%s help creates an admin without --password-stdin: %q", page, strings.TrimSpace(ex))
			}
		}
	}
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
