package guides

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// root is the repository's top directory, seen from this package.
const root = ".."

// docCommand is one shell command line of a document: a line of a ```sh
// block, with continuation lines (ending in a backslash) joined by one space.
type docCommand struct {
	file string // relative to the repository root
	line int    // where the command starts
	text string
}

// documents returns the files whose shell commands must be exercised: the
// README and every guide.
func documents(t *testing.T) []string {
	t.Helper()
	guides, err := filepath.Glob(filepath.Join(root, "docs", "guides", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(guides) == 0 {
		t.Fatal("no guides in docs/guides")
	}
	files := []string{"README.md"}
	for _, g := range guides {
		rel, _ := filepath.Rel(root, g)
		files = append(files, filepath.ToSlash(rel))
	}
	sort.Strings(files[1:])
	return files
}

// shellLanguages are fence languages that hold commands for a shell. Only
// "sh" is allowed in the documents, so that every command is checked; the
// others are refused rather than silently skipped.
var shellLanguages = map[string]bool{"sh": true, "bash": true, "shell": true, "console": true, "zsh": true, "shell-session": true}

// shellCommands parses the ```sh blocks of a document.
func shellCommands(file string) ([]docCommand, error) {
	f, err := os.Open(filepath.Join(root, file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		out      []docCommand
		inFence  bool
		fence    string // the backticks that opened the block
		lang     string
		pending  strings.Builder
		startAt  int
		n        int
		sc       = bufio.NewScanner(f)
		flushErr error
	)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if !inFence {
			if strings.HasPrefix(trimmed, "```") {
				inFence = true
				fence = trimmed[:strings.LastIndex(trimmed, "`")+1]
				fence = fence[:strings.Count(fence[:min(len(fence), 10)], "`")]
				lang = strings.TrimSpace(strings.TrimLeft(trimmed, "`"))
				if shellLanguages[lang] && lang != "sh" {
					return nil, fmt.Errorf("%s:%d: a ```%s block; write shell commands in ```sh blocks so that the guide test checks them", file, n, lang)
				}
			}
			continue
		}
		if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, "`") == "" {
			if pending.Len() > 0 {
				flushErr = fmt.Errorf("%s:%d: the block ends inside a continued command", file, n)
				return nil, flushErr
			}
			inFence = false
			continue
		}
		if lang != "sh" {
			continue
		}
		if pending.Len() == 0 {
			if trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			startAt = n
		} else {
			pending.WriteByte(' ')
		}
		if strings.HasSuffix(trimmed, `\`) {
			pending.WriteString(strings.TrimSpace(strings.TrimSuffix(trimmed, `\`)))
			continue
		}
		pending.WriteString(trimmed)
		out = append(out, docCommand{file: file, line: startAt, text: pending.String()})
		pending.Reset()
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if inFence {
		return nil, fmt.Errorf("%s: a ``` block is never closed", file)
	}
	return out, nil
}

// fencedBlocks returns the bodies of a document's blocks in language lang.
func fencedBlocks(t *testing.T, file, lang string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var cur *strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```"+lang:
			cur = &strings.Builder{}
		case cur != nil && trimmed == "```":
			out = append(out, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	return out
}

// block returns the one block of file in lang that contains marker.
func block(t *testing.T, file, lang, marker string) string {
	t.Helper()
	var found []string
	for _, b := range fencedBlocks(t, file, lang) {
		if strings.Contains(b, marker) {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d ```%s blocks contain %q, want exactly 1", file, len(found), lang, marker)
	}
	return found[0]
}

// TestGuideCommandsAreExercised fails when a shell command of the README or a
// guide is not on the list of commands this package exercises (commands.go),
// so that a command cannot be added without a test that runs it; and when
// the list names a command that no document has any more.
func TestGuideCommandsAreExercised(t *testing.T) {
	known := map[string]command{}
	for _, c := range commands {
		if prev, dup := known[c.text]; dup {
			t.Errorf("commands lists %q twice (keys %s and %s)", c.text, prev.key, c.key)
		}
		known[c.text] = c
	}
	keys := map[string]bool{}
	for _, c := range commands {
		if keys[c.key] {
			t.Errorf("commands uses key %s twice", c.key)
		}
		keys[c.key] = true
	}
	seen := map[string]bool{}
	for _, file := range documents(t) {
		cmds, err := shellCommands(file)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, c := range cmds {
			if _, ok := known[c.text]; !ok {
				t.Errorf("%s:%d: command not exercised by any test; add it to commands in guides/commands_test.go and run it in a flow:\n\t%s", c.file, c.line, c.text)
			}
			seen[c.text] = true
		}
	}
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		if !seen[c.text] {
			t.Errorf("commands lists %s (%q), which no document has any more; remove it", c.key, c.text)
		}
		if c.ci && !containsLine(string(ci), c.text) {
			t.Errorf("commands says .ci/run runs %q, but .ci/run has no such line", c.text)
		}
	}
}

func containsLine(s, line string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// TestPrintCommands lists the parsed commands with -v, for keeping commands
// up to date.
func TestPrintCommands(t *testing.T) {
	if !testing.Verbose() {
		t.Skip("run with -v to list the documents' commands")
	}
	for _, file := range documents(t) {
		cmds, err := shellCommands(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cmds {
			t.Logf("%s:%d\t%s", c.file, c.line, c.text)
		}
	}
}
