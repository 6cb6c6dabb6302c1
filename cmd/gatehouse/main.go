// Command gatehouse runs the Gatehouse server and manages its users.
//
//	gatehouse serve                 run the server
//	gatehouse migrate               apply database migrations
//	gatehouse user create|list|show|set-roles|disable|enable|reset-mfa|delete
//	gatehouse users import FILE     create and update users from a file
//	gatehouse keys list|rotate      the access-token signing keys
//	gatehouse audit tail            print (and --follow) the audit log
//	gatehouse completion bash|zsh|fish
//	gatehouse version
//	gatehouse help [command | config]
//
// The commands, their flags, their help, docs/cli.md and the completion
// scripts all come from one table (commands.go).
//
// Every command reads the same configuration: a YAML file (--config), then
// GATEHOUSE_* environment variables, then flags. Only serve and migrate create
// an installation (the database and the master secret); the others open an
// existing one or stop (openForCLI).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// env is the outside world a command sees, so tests can run commands in
// process with their own streams and environment.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
	// onListen, when set, learns the address serve listens on.
	onListen func(addr string)
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, lookupEnv: os.LookupEnv}))
}

// run executes one command line and returns the exit status: 0, 1 for a
// failure, 2 for a mistake on the command line. Help goes to stdout; errors
// are one line on stderr; nothing panics out of here.
func run(ctx context.Context, args []string, e *env) (status int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(e.stderr, "%s internal error: %v\n", errorPrefix(e), p)
			status = 1
		}
	}()
	err := dispatch(ctx, commandTable(), args, e)
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case err == errUsageShown:
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "%s %v\n", errorPrefix(e), err)
		return 2
	default:
		fmt.Fprintf(e.stderr, "%s %s\n", errorPrefix(e), oneLine(err.Error()))
		return 1
	}
}

// oneLine folds a multi-line error into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// parse parses flags, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp // run prints the help, once
		}
		return &usageError{err.Error()}
	}
	return nil
}
