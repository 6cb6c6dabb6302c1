package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// completionFlags makes 'gatehouse completion bash|zsh|fish'.
func completionFlags(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, e *env) error {
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return &usageError{"completion needs one shell: bash, zsh or fish"}
		}
		root := commandTable()
		switch fs.Arg(0) {
		case "bash":
			writeBashCompletion(e.stdout, root)
		case "zsh":
			writeZshCompletion(e.stdout, root)
		case "fish":
			writeFishCompletion(e.stdout, root)
		default:
			return &usageError{fmt.Sprintf("completion: unknown shell %q; gatehouse completes in bash, zsh and fish", fs.Arg(0))}
		}
		return nil
	}
}

// The scripts are static: everything they know is written out from the
// command table when they are printed, so completing costs no run of
// gatehouse, and the scripts work with the binary anywhere on the PATH.
// Each script finds where on the command line the cursor is by walking the
// words typed so far through the same transitions, named by keys such as
// "gatehouse/user/create".

// compNode is what completion offers at one command.
type compNode struct {
	key   string
	words []compItem // subcommands, or the choices of an argument
	flags []compFlag
	files bool // positional arguments are file names
}

type compItem struct{ word, desc string }

type compFlag struct {
	name  string // with its dashes: --username, -n
	desc  string
	value string // the placeholder of a flag that takes a value: FILE, DIR, ROLE; "" for a boolean
}

// compTransition says that word, typed at the command from, leads to to.
type compTransition struct{ from, word, to string }

// completionModel flattens the command table for the script writers.
func completionModel(root *command) (nodes []compNode, trans []compTransition) {
	key := func(c *command) string {
		var names []string
		for ; c != nil; c = c.parent {
			names = append([]string{c.name}, names...)
		}
		return strings.Join(names, "/")
	}
	help := compFlag{name: "--help", desc: "show help"}
	root.walk(func(c *command) {
		n := compNode{key: key(c), files: c.fileArgs}
		for _, s := range c.subs {
			for _, w := range append([]string{s.name}, s.aliases...) {
				n.words = append(n.words, compItem{w, s.summary})
				trans = append(trans, compTransition{n.key, w, key(s)})
			}
		}
		for _, ch := range c.choices {
			n.words = append(n.words, compItem{ch, ch})
		}
		if c.commandArgs {
			for _, s := range root.subs {
				for _, w := range append([]string{s.name}, s.aliases...) {
					n.words = append(n.words, compItem{w, s.summary})
				}
			}
			for _, t := range helpTopics() {
				n.words = append(n.words, compItem{t.name, t.summary})
			}
		}
		if c.flags != nil {
			// The command's own flags first: zsh and fish show them in this
			// order.
			fs, _ := c.flagSet()
			own, cfg := splitFlags(fs)
			for _, f := range append(own, cfg...) {
				_, usage := flag.UnquoteUsage(f)
				n.flags = append(n.flags, compFlag{name: flagName(f.Name), desc: shortDesc(usage), value: placeholder(f)})
			}
		}
		n.flags = append(n.flags, help)
		nodes = append(nodes, n)
	})
	return nodes, trans
}

// shortDesc cuts a flag's usage to its first clause, for the one line a
// shell shows beside it.
func shortDesc(s string) string {
	if i := strings.Index(s, " (env "); i >= 0 {
		s = s[:i]
	}
	for _, sep := range []string{". ", "; ", ": "} {
		for i := 0; i < len(s); {
			j := strings.Index(s[i:], sep)
			if j < 0 {
				break
			}
			if end := s[:i+j]; sep == ". " && (strings.HasSuffix(end, "e.g") || strings.HasSuffix(end, "i.e")) {
				i += j + len(sep)
				continue
			}
			s = s[:i+j]
			break
		}
	}
	return strings.TrimSuffix(s, ".")
}

// valueFlags sorts the flags that take a value, across every command, by
// what their value is: files, directories, or anything else.
func valueFlags(nodes []compNode) (files, dirs, other []string) {
	for _, n := range nodes {
		for _, f := range n.flags {
			var list *[]string
			switch f.value {
			case "":
				continue
			case "FILE":
				list = &files
			case "DIR":
				list = &dirs
			default:
				list = &other
			}
			if !slices.Contains(*list, f.name) {
				*list = append(*list, f.name)
			}
		}
	}
	slices.Sort(files)
	slices.Sort(dirs)
	slices.Sort(other)
	return files, dirs, other
}

// casePatterns writes one branch of a shell case statement, when there is
// anything to match.
func casePatterns(b *strings.Builder, patterns []string, then string) {
	if len(patterns) > 0 {
		fmt.Fprintf(b, "    %s) %s ;;\n", strings.Join(patterns, "|"), then)
	}
}

func flagNames(fl []compFlag) []string {
	var out []string
	for _, f := range fl {
		out = append(out, f.name)
	}
	return out
}

func itemWords(items []compItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.word)
	}
	return out
}

func writeBashCompletion(w io.Writer, root *command) {
	nodes, trans := completionModel(root)
	files, dirs, other := valueFlags(nodes)
	var b strings.Builder
	b.WriteString(`# bash completion for gatehouse, written by 'gatehouse completion bash'.
# Load it in the current shell:   source <(gatehouse completion bash)
# or for every shell:             gatehouse completion bash > /etc/bash_completion.d/gatehouse

_gatehouse_files() {
    local f
    compopt -o filenames 2>/dev/null
    while IFS= read -r f; do COMPREPLY+=("$f"); done < <(compgen "$1" -- "$cur")
}

_gatehouse() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmd=gatehouse i words= files=
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "$cmd/${COMP_WORDS[i]}" in
`)
	for _, t := range trans {
		fmt.Fprintf(&b, "        %s/%s) cmd=%s ;;\n", t.from, t.word, t.to)
	}
	b.WriteString("        esac\n    done\n    case $prev in\n")
	casePatterns(&b, files, "_gatehouse_files -f; return")
	casePatterns(&b, dirs, "_gatehouse_files -d; return")
	casePatterns(&b, other, "return")
	b.WriteString("    esac\n    if [[ $cur == -* ]]; then\n        case $cmd in\n")
	for _, n := range nodes {
		fmt.Fprintf(&b, "        %s) words='%s' ;;\n", n.key, strings.Join(flagNames(n.flags), " "))
	}
	b.WriteString("        esac\n    else\n        case $cmd in\n")
	for _, n := range nodes {
		if len(n.words) > 0 {
			fmt.Fprintf(&b, "        %s) words='%s' ;;\n", n.key, strings.Join(itemWords(n.words), " "))
		} else if n.files {
			fmt.Fprintf(&b, "        %s) files=1 ;;\n", n.key)
		}
	}
	b.WriteString(`        esac
    fi
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    if [[ -n $files ]]; then _gatehouse_files -f; fi
}

complete -F _gatehouse gatehouse
`)
	io.WriteString(w, b.String())
}

// zshItem writes name and desc as one single-quoted item for _describe,
// escaping the colons it would take for the end of the name.
func zshItem(name, desc string) string {
	item := strings.ReplaceAll(name, ":", `\:`) + ":" + desc
	return "'" + strings.ReplaceAll(item, "'", `'\''`) + "'"
}

func writeZshCompletion(w io.Writer, root *command) {
	nodes, trans := completionModel(root)
	files, dirs, other := valueFlags(nodes)
	var b strings.Builder
	b.WriteString(`#compdef gatehouse
# zsh completion for gatehouse, written by 'gatehouse completion zsh'.
# Install it as _gatehouse in a directory on $fpath:
#   gatehouse completion zsh > "${fpath[1]}/_gatehouse"
# or load it in the current shell (after compinit):
#   source <(gatehouse completion zsh)

_gatehouse() {
    local cmd=gatehouse i
    local -a items
    for ((i = 2; i < CURRENT; i++)); do
        case "$cmd/${words[i]}" in
`)
	for _, t := range trans {
		fmt.Fprintf(&b, "        %s/%s) cmd=%s ;;\n", t.from, t.word, t.to)
	}
	b.WriteString("        esac\n    done\n    case ${words[CURRENT-1]} in\n")
	casePatterns(&b, files, "_files; return")
	casePatterns(&b, dirs, "_files -/; return")
	casePatterns(&b, other, "_message value; return")
	b.WriteString("    esac\n    if [[ $PREFIX == -* ]]; then\n        case $cmd in\n")
	for _, n := range nodes {
		var items []string
		for _, f := range n.flags {
			items = append(items, zshItem(f.name, f.desc))
		}
		fmt.Fprintf(&b, "        %s) items=(%s) ;;\n", n.key, strings.Join(items, " "))
	}
	b.WriteString("        esac\n        _describe -t flags flag items\n        return\n    fi\n    case $cmd in\n")
	for _, n := range nodes {
		if len(n.words) > 0 {
			var items []string
			for _, it := range n.words {
				items = append(items, zshItem(it.word, it.desc))
			}
			fmt.Fprintf(&b, "    %s) items=(%s); _describe -t commands command items ;;\n", n.key, strings.Join(items, " "))
		} else if n.files {
			fmt.Fprintf(&b, "    %s) _files ;;\n", n.key)
		}
	}
	b.WriteString(`    esac
}

if [[ $funcstack[1] == _gatehouse ]]; then
    _gatehouse "$@"
else
    compdef _gatehouse gatehouse
fi
`)
	io.WriteString(w, b.String())
}

// fishQuote quotes s as a single-quoted fish string.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func writeFishCompletion(w io.Writer, root *command) {
	nodes, trans := completionModel(root)
	var b strings.Builder
	b.WriteString(`# fish completion for gatehouse, written by 'gatehouse completion fish'.
# Install it:  gatehouse completion fish > ~/.config/fish/completions/gatehouse.fish

# __gatehouse_cmd prints the command the words typed so far have reached,
# such as gatehouse/user/create.
function __gatehouse_cmd
    set -l cmd gatehouse
    set -l words (commandline -opc)
    set -e words[1]
    for w in $words
        switch "$cmd/$w"
`)
	for _, t := range trans {
		fmt.Fprintf(&b, "            case %s\n                set cmd %s\n", fishQuote(t.from+"/"+t.word), t.to)
	}
	b.WriteString(`        end
    end
    echo $cmd
end

function __gatehouse_at
    test (__gatehouse_cmd) = $argv[1]
end

complete -c gatehouse -f
`)
	for _, n := range nodes {
		cond := fishQuote("__gatehouse_at " + n.key)
		for _, it := range n.words {
			fmt.Fprintf(&b, "complete -c gatehouse -n %s -a %s -d %s\n", cond, fishQuote(it.word), fishQuote(it.desc))
		}
		if n.files {
			fmt.Fprintf(&b, "complete -c gatehouse -n %s -F\n", cond)
		}
		for _, f := range n.flags {
			opt := "-l " + strings.TrimPrefix(f.name, "--")
			if !strings.HasPrefix(f.name, "--") {
				opt = "-s " + strings.TrimPrefix(f.name, "-")
			}
			switch f.value {
			case "":
			case "FILE":
				opt += " -r -F"
			case "DIR":
				opt += " -x -a '(__fish_complete_directories)'"
			default:
				opt += " -x"
			}
			fmt.Fprintf(&b, "complete -c gatehouse -n %s %s -d %s\n", cond, opt, fishQuote(f.desc))
		}
	}
	io.WriteString(w, b.String())
}
