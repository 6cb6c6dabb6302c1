// Command gatehouse runs the Gatehouse server and manages its users.
//
//	gatehouse serve                 run the server
//	gatehouse migrate               apply database migrations
//	gatehouse user create|list|show|set-roles|disable|enable|delete|import
//	gatehouse audit tail            print (and --follow) the audit log
//	gatehouse version
//
// Every command reads the same configuration: a YAML file (--config), then
// GATEHOUSE_* environment variables, then flags.
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

const topUsage = `Gatehouse: authentication and authorization for web applications.

Usage:
  gatehouse <command> [flags]

Commands:
  serve       Run the server (creates and migrates the database on first start)
  migrate     Apply pending database migrations and exit
  user        Manage users: create, list, show, set-roles, disable, enable, delete, import
  keys        List or rotate the access-token signing keys
  audit       Read the audit log: tail [--follow] [--user U] [--type T] [-n N] [--json]
  version     Print the version

Run 'gatehouse <command> --help' for a command's flags.
Configuration: --config FILE (YAML), GATEHOUSE_* variables, flags; see docs/configuration.md.
`

// run executes one command line and returns the exit status. Errors are one
// line on stderr; nothing panics out of here.
func run(ctx context.Context, args []string, e *env) (status int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(e.stderr, "gatehouse: internal error: %v\n", p)
			status = 1
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(e.stderr, topUsage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = cmdServe(ctx, rest, e)
	case "migrate":
		err = cmdMigrate(ctx, rest, e)
	case "user", "users":
		err = cmdUser(ctx, rest, e)
	case "keys":
		err = cmdKeys(ctx, rest, e)
	case "audit":
		err = cmdAudit(ctx, rest, e)
	case "version", "--version":
		err = cmdVersion(rest, e)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(e.stdout, topUsage)
		return 0
	default:
		err = &usageError{fmt.Sprintf("unknown command %q; run 'gatehouse help' for the list", cmd)}
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(*usageError)):
		fmt.Fprintf(e.stderr, "gatehouse: %v\n", err)
		return 2
	default:
		fmt.Fprintf(e.stderr, "gatehouse: %s\n", oneLine(err.Error()))
		return 1
	}
}

// oneLine folds a multi-line error into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// newFlagSet returns a flag set that reports errors through the returned
// error rather than exiting, and prints help to stdout.
func newFlagSet(name, usage string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("gatehouse "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprint(e.stdout, usage)
		fmt.Fprintln(e.stdout, "\nFlags:")
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses flags, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return flag.ErrHelp
		}
		return &usageError{err.Error()}
	}
	return nil
}
