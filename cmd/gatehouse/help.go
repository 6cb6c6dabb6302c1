package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gatehouse-dev/gatehouse/config"
)

// helpWidth is the width help text is wrapped to.
const helpWidth = 80

// writeHelp writes c's help: the usage line, the summary, what it does, its
// subcommands or flags, and examples. The configuration flags, the same for
// every command that takes them, are listed in full only where c.allConfig
// asks for it (serve); elsewhere a paragraph names a few and points to
// 'gatehouse help config', so a command's own flags are not lost below them.
func writeHelp(w io.Writer, c *command) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s", c.path())
	if c.args != "" {
		fmt.Fprintf(&b, " %s", c.args)
	}
	b.WriteString("\n\n")
	if c.parent == nil {
		b.WriteString("Gatehouse: " + strings.ToLower(c.summary[:1]) + c.summary[1:] + ".\n")
	} else {
		b.WriteString(c.summary + ".\n")
	}
	if c.about != "" {
		b.WriteString("\n" + c.about + "\n")
	}
	if c.via != "" {
		// Documented under the parent's alias, but the parent's own name
		// selects it too.
		fmt.Fprintf(&b, "\n'%s %s' works too.\n", c.parent.path(), c.name)
	}

	switch {
	case c.parent == nil:
		b.WriteString("\nCommands:\n")
		var rows [][2]string
		for _, l := range c.leaves() {
			rows = append(rows, [2]string{strings.TrimPrefix(l.path(), "gatehouse "), l.summary})
		}
		writeColumns(&b, rows)
		b.WriteString("\nHelp topics:\n")
		rows = nil
		for _, t := range helpTopics() {
			rows = append(rows, [2]string{t.name, t.summary})
		}
		writeColumns(&b, rows)
		b.WriteString(`
Run 'gatehouse help <command>' or 'gatehouse <command> --help' for its flags
and examples. Every command that opens the database reads the same
configuration: a YAML file (--config FILE), then GATEHOUSE_* environment
variables, then flags; see 'gatehouse help config'.
`)
	case c.subs != nil:
		b.WriteString("\nSubcommands:\n")
		var rows [][2]string
		var others []*command
		for _, s := range c.subs {
			if s.via != "" {
				others = append(others, s)
				continue
			}
			rows = append(rows, [2]string{s.name, s.summary})
		}
		writeColumns(&b, rows)
		fmt.Fprintf(&b, "\nRun '%s <subcommand> --help' for its flags and examples.\n", c.path())
		// A subcommand documented under the alias (users import) is named
		// as people type it, and not listed as one of c's.
		for _, s := range others {
			text := fmt.Sprintf("Also '%s': %s ('%s %s' works too).", s.path(), lowerFirst(s.summary), c.path(), s.name)
			b.WriteString("\n" + strings.Join(wrap(text, helpWidth), "\n") + "\n")
		}
	default:
		fs, _ := c.flagSet()
		own, cfg := splitFlags(fs)
		if len(own) > 0 {
			b.WriteString("\nFlags:\n")
			writeFlags(&b, own)
		}
		switch {
		case c.config && c.allConfig:
			b.WriteString("\nConfiguration flags (they override the configuration file and GATEHOUSE_*\nvariables; see 'gatehouse help config'):\n")
			writeFlags(&b, cfg)
		case c.config:
			b.WriteString(configParagraph)
		}
	}

	if len(c.examples) > 0 {
		b.WriteString("\nExamples:\n")
		for _, ex := range c.examples {
			b.WriteString("  " + strings.ReplaceAll(ex, "\n", "\n  ") + "\n")
		}
	}
	io.WriteString(w, b.String())
}

// configParagraph stands for the configuration flags in the help of every
// command that takes them but serve.
const configParagraph = `
It also takes the configuration flags (--config, --database-url, --data-dir,
…): see 'gatehouse help config'.
`

// configFlags returns the configuration flags, in name order.
func configFlags() []*flag.Flag {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	config.RegisterFlags(fs)
	_, cfg := splitFlags(fs)
	return cfg
}

// writeConfigTopic writes 'gatehouse help config': the configuration flags,
// each with its environment variable and default, as serve's help lists
// them, and what the commands need to find before they start.
func writeConfigTopic(b *strings.Builder) {
	b.WriteString(`Configuration flags: taken by every command that opens the database.

serve, migrate, and the user, users import, keys and audit commands read the
same configuration: a YAML file (--config FILE), then GATEHOUSE_* environment
variables, then these flags. Each flag overrides its key in the file and its
variable. Every key, with those that have no flag, is in docs/configuration.md.

An installation is a database (--database-url) and a master secret, which
seals the signing keys and other secrets in it: GATEHOUSE_SECRET_KEY, or else
the file gatehouse.key in the data directory (--data-dir). Where there is no
database yet, the first command run (serve, migrate, or say user create)
creates both. A command pointed at an existing database whose master secret
is not found (GATEHOUSE_SECRET_KEY unset and no gatehouse.key in the data
directory) stops with exit status 1 and writes no new secret, which could not
open what the real one sealed.

Flags:
`)
	writeFlags(b, configFlags())
	b.WriteString(`
Examples:
  gatehouse user list --database-url sqlite:///var/lib/gatehouse/gatehouse.db \
      --data-dir /var/lib/gatehouse
  GATEHOUSE_DATABASE_URL=postgres://db.internal/gatehouse gatehouse keys list
  gatehouse audit tail --config /etc/gatehouse/gatehouse.yaml
`)
}

// writeColumns writes name/summary rows with the summaries aligned.
func writeColumns(b *strings.Builder, rows [][2]string) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for _, r := range rows {
		fmt.Fprintf(b, "  %-*s  %s\n", width, r[0], r[1])
	}
}

// configFlagNames are the flags config.RegisterFlags defines.
func configFlagNames() map[string]bool {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	config.RegisterFlags(fs)
	names := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { names[f.Name] = true })
	return names
}

// splitFlags separates a command's own flags from the configuration flags,
// each in name order.
func splitFlags(fs *flag.FlagSet) (own, cfg []*flag.Flag) {
	names := configFlagNames()
	fs.VisitAll(func(f *flag.Flag) {
		if names[f.Name] {
			cfg = append(cfg, f)
		} else {
			own = append(own, f)
		}
	})
	return own, cfg
}

// flagName is how help writes a flag: --name, or -n for one letter (Go's
// flag package takes either form; help shows the usual one).
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// isBool reports whether a flag needs no value.
func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// placeholder names a flag's value: the word in backquotes in its usage,
// or the last word of its name (--database-url URL, --role ROLE).
func placeholder(f *flag.Flag) string {
	if isBool(f) {
		return ""
	}
	if strings.Count(f.Usage, "`") >= 2 {
		name, _ := flag.UnquoteUsage(f)
		return strings.ToUpper(name)
	}
	words := strings.Split(f.Name, "-")
	switch last := words[len(words)-1]; last {
	case "listen":
		return "ADDR"
	case "from":
		return "ADDRESS"
	default:
		return strings.ToUpper(last)
	}
}

// writeFlags writes flags as an aligned list: the flag and its value, then
// the usage wrapped beside it, and the default where there is one.
func writeFlags(b *strings.Builder, flags []*flag.Flag) {
	const maxCol = 26
	col := 0
	heads := make([]string, len(flags))
	for i, f := range flags {
		heads[i] = flagName(f.Name)
		if p := placeholder(f); p != "" {
			heads[i] += " " + p
		}
		if len(heads[i]) <= maxCol {
			col = max(col, len(heads[i]))
		}
	}
	indent := strings.Repeat(" ", 2+col+2)
	for i, f := range flags {
		_, usage := flag.UnquoteUsage(f)
		if d := f.DefValue; d != "" && !(isBool(f) && d == "false") {
			usage += " (default " + d + ")"
		}
		lines := wrap(usage, helpWidth-len(indent))
		if len(heads[i]) > col {
			fmt.Fprintf(b, "  %s\n", heads[i])
		} else {
			fmt.Fprintf(b, "  %-*s  %s\n", col, heads[i], lines[0])
			lines = lines[1:]
		}
		for _, l := range lines {
			b.WriteString(indent + l + "\n")
		}
	}
}

// wrap breaks s into lines of at most width characters, at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) > width:
			lines = append(lines, line)
			line = w
		default:
			line += " " + w
		}
	}
	return append(lines, line)
}

// cliReference is docs/cli.md: the help of every command, from the same
// table and the same writer as --help, so the page cannot drift from the
// binary (TestCLIReferenceUpToDate fails when it does).
func cliReference(root *command) string {
	var b strings.Builder
	b.WriteString(`# Command line

<!-- Generated from the command table in cmd/gatehouse; do not edit. Regenerate with:
     go test ./cmd/gatehouse -run TestCLIReferenceUpToDate -update -->

Gatehouse is one binary, ` + "`gatehouse`" + `, that runs the server and manages its users,
signing keys and audit log. Each section below is what ` + "`gatehouse help <command>`" + `
(or ` + "`gatehouse <command> --help`" + `) prints.

- **Configuration.** Every command that opens the database reads the same
  configuration: a YAML file (` + "`--config FILE`" + `), then ` + "`GATEHOUSE_*`" + ` environment
  variables, then flags. The flags are listed under ` + "`gatehouse serve`" + ` and on
  their own page, [gatehouse help config](#gatehouse-help-config); every key is in
  [configuration.md](configuration.md).
- **The master secret.** Where there is no database yet, the first command run
  creates it and the master secret. A command pointed at an existing database
  whose secret is not found (` + "`GATEHOUSE_SECRET_KEY`" + ` unset and no ` + "`gatehouse.key`" + ` in
  the data directory) stops with exit status 1 and writes no new secret.
- **Flags** may be written ` + "`--name value`, `--name=value` or `-name value`" + `; the
  user subcommands also take them after their arguments (` + "`gatehouse user show alice --json`" + `).
- **Output.** Answers go to standard output, and nothing else does, so scripts
  can use them (` + "`user create`" + ` prints only the new user's ID). The error that
  stops a command is one line on standard error, starting ` + "`gatehouse:`" + `. Help goes
  to standard output.
- **Exit status.** 0 on success (and for ` + "`--help`" + `), 1 when the command failed,
  2 for a mistake on the command line (an unknown command or flag, a missing
  argument).
- **Colour.** Errors, the server's start-up message and ` + "`audit tail`" + ` use colour
  only when writing to a terminal, and never when ` + "`NO_COLOR`" + ` is set (to any value) or
  ` + "`TERM=dumb`" + `. Piped or redirected output is plain text.
- **Shell completion.** ` + "`gatehouse completion bash|zsh|fish`" + ` prints a script that
  completes commands, subcommands and flags; see [gatehouse completion](#gatehouse-completion).

## Commands

`)
	var all []*command
	root.walk(func(c *command) { all = append(all, c) })
	for _, c := range all {
		fmt.Fprintf(&b, "- [%s](#%s): %s\n", c.path(), strings.ReplaceAll(c.path(), " ", "-"), lowerFirst(c.summary))
	}
	for _, t := range helpTopics() {
		fmt.Fprintf(&b, "- [gatehouse help %s](#gatehouse-help-%s): %s\n", t.name, t.name, lowerFirst(t.summary))
	}
	for _, c := range all {
		fmt.Fprintf(&b, "\n## %s\n\n```text\n", c.path())
		writeHelp(&b, c)
		b.WriteString("```\n")
	}
	for _, t := range helpTopics() {
		fmt.Fprintf(&b, "\n## gatehouse help %s\n\n```text\n", t.name)
		t.write(&b)
		b.WriteString("```\n")
	}
	return b.String()
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
