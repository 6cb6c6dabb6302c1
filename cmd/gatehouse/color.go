package main

import (
	"io"
	"os"
	"strings"
)

// A style is an ANSI SGR parameter list: "1" is bold, "31" red.
type style string

const (
	bold              style = "1"
	boldRed           style = "1;31"
	red               style = "31"
	yellow            style = "33"
	boldCyanUnderline style = "1;4;36"
)

// A painter adds ANSI colour to text bound for one stream, or leaves it
// plain. Colour is for people at a terminal; anything else (a pipe, a file,
// a log collector, a test) gets plain text, so no script ever has to strip
// escape codes.
type painter struct{ on bool }

// newPainter colours only when w is a terminal and the user has not asked
// for plain text: NO_COLOR set, to any value (https://no-color.org), or
// TERM=dumb.
func newPainter(w io.Writer, lookupEnv func(string) (string, bool)) painter {
	if _, set := lookupEnv("NO_COLOR"); set {
		return painter{}
	}
	if t, _ := lookupEnv("TERM"); t == "dumb" {
		return painter{}
	}
	return painter{on: isTerminal(w)}
}

// isTerminal reports whether w is a character device, as a terminal is.
// (So is /dev/null, where colour does no harm.) It needs no terminal
// library: the mode bit is enough to tell a terminal from a pipe or a file.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// paint returns text in style s, or text as it is when colour is off.
func (p painter) paint(s style, text string) string {
	if !p.on || s == "" || text == "" {
		return text
	}
	return "\x1b[" + string(s) + "m" + text + "\x1b[0m"
}

// pad paints text and pads it with spaces to width columns, so that
// colour does not upset the alignment of a table.
func (p painter) pad(s style, text string, width int) string {
	return p.paint(s, text) + strings.Repeat(" ", max(0, width-len(text)))
}

// errorPrefix is what starts an error line on stderr: "gatehouse:", in red
// on a terminal.
func errorPrefix(e *env) string {
	return newPainter(e.stderr, e.lookupEnv).paint(boldRed, "gatehouse:")
}

// eventStyle picks the colour of an audit event type: red for what may be
// an attack, yellow for changes to accounts, roles and keys, none for the
// rest.
func eventStyle(typ string) style {
	switch {
	case strings.Contains(typ, "failed"), strings.HasSuffix(typ, ".reused"),
		strings.HasSuffix(typ, ".denied"), strings.HasSuffix(typ, "_warning"):
		return red
	case strings.HasPrefix(typ, "account."), strings.HasPrefix(typ, "role."),
		strings.HasPrefix(typ, "api_key."), typ == "sessions.revoked":
		return yellow
	}
	return ""
}
