package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gatehouse-dev/gatehouse/config"
)

// A command is one command or subcommand of gatehouse. The table built by
// commandTable is the one source that dispatch, help, docs/cli.md and the
// shell completion scripts read, so none of them can forget a command or a
// flag the others know.
type command struct {
	name    string   // the word that selects it: "create"
	aliases []string // other words that select it, offered by completion too: "users"
	// via, when set, is the parent's word shown in this command's path, for a
	// subcommand documented under its parent's alias: "users import".
	via     string
	summary string // one line, no final period, for the command lists
	args    string // what follows the command path on a usage line
	about   string // what it does, in a few lines
	// examples are realistic invocations, one per entry; an entry may run
	// over several lines ending in a backslash.
	examples []string

	// flags defines the command's own flags on fs and returns the action that
	// parses args with fs and runs the command; nil for a group, which only
	// holds subcommands.
	flags  func(fs *flag.FlagSet) action
	config bool // also takes the configuration flags (--config, --listen, …)
	// allConfig lists the configuration flags in full in the command's
	// help; other commands name a few and point to 'gatehouse help config'.
	allConfig bool
	// Completion of positional arguments: file names, one of fixed
	// choices, or command names (for help).
	fileArgs    bool
	choices     []string
	commandArgs bool

	subs   []*command
	parent *command
}

// An action parses its arguments with the flag set it was made with and runs.
type action func(ctx context.Context, args []string, e *env) error

// commandTable returns the root of the command tree.
func commandTable() *command {
	root := &command{
		name:    "gatehouse",
		summary: "Authentication and authorization for web applications",
		args:    "<command> [arguments] [flags]",
		examples: []string{
			"gatehouse serve",
			"echo 'a long passphrase' | gatehouse user create --username alice \\\n    --email alice@example.com --role admin --password-stdin",
			"gatehouse help user create",
		},
		subs: []*command{
			{
				name:    "serve",
				summary: "Run the server, creating or migrating the database as needed",
				args:    "[flags]",
				about: `Runs the Gatehouse server. With no configuration it keeps its data in
./gatehouse.db, generates its secret key into ./gatehouse.key, and listens on
127.0.0.1:8080. When no admin account exists it prints a one-time setup link.
SIGINT or SIGTERM stops it gracefully, finishing requests in flight.`,
				examples: []string{
					"gatehouse serve",
					"gatehouse serve --config /etc/gatehouse/gatehouse.yaml",
					"GATEHOUSE_PUBLIC_URL=https://auth.example.com gatehouse serve --listen :8080",
				},
				flags:     serveFlags,
				config:    true,
				allConfig: true, // most of them are about serving
			},
			{
				name:    "migrate",
				summary: "Apply pending database migrations and exit",
				args:    "[flags]",
				about: `Applies pending database migrations, all in one transaction: if one fails, the
database is left as it was. 'gatehouse serve' does this on start too.

For a new database (a SQLite file that did not exist yet, or an empty
PostgreSQL database) it also generates the master secret into the data
directory, as the first 'gatehouse serve' does, unless GATEHOUSE_SECRET_KEY is
set or the file exists. The migrations themselves need no secret, so an
existing database never gets a new one.`,
				examples: []string{
					"gatehouse migrate",
					"GATEHOUSE_DATABASE_URL=postgres://db.internal/gatehouse gatehouse migrate",
				},
				flags:  migrateFlags,
				config: true,
			},
			{
				name:    "user",
				aliases: []string{"users"},
				summary: "Manage users: create, list, show, set-roles, disable, enable, reset-mfa, delete",
				args:    "<subcommand> [flags] [arguments]",
				about:   "USER, where a subcommand takes one, is an ID, a username or an email address.",
				examples: []string{
					"echo \"$PASSWORD\" | gatehouse user create --username alice \\\n    --email alice@example.com --role admin --password-stdin",
					"gatehouse user list --role admin",
					"gatehouse user set-roles alice user editor",
				},
				subs: []*command{
					{
						name:    "create",
						summary: "Create a user; prints only the new user's ID",
						args:    "--username U --email E [--role R]... [--password-stdin] [--verified] [flags]",
						about: `Creates a user with the configured default roles plus each --role, and prints
only the new user's ID and a newline, so scripts can capture it. Without
--password-stdin the account has no password: its owner signs in with a
passkey, an email link or a reset link.`,
						examples: []string{
							"echo \"$PASSWORD\" | gatehouse user create --username alice \\\n    --email alice@example.com --role admin --password-stdin",
							"gatehouse user create --username bob --email bob@example.com --verified",
							"id=$(gatehouse user create --username carol --email carol@example.com)",
						},
						flags:  userCreateFlags,
						config: true,
					},
					{
						name:    "list",
						summary: "List users, by username",
						args:    "[--query Q] [--role R] [--json] [flags]",
						about: `Prints a table of users sorted by username, or JSON lines with --json. When
more users match than --limit, a note on stderr says how many.`,
						examples: []string{
							"gatehouse user list",
							"gatehouse user list --role admin",
							"gatehouse user list --query ali --json | jq -r .email",
						},
						flags:  userListFlags,
						config: true,
					},
					{
						name:    "show",
						summary: "Show one user",
						args:    "USER [--json] [flags]",
						about:   "Shows a user's details: roles, whether they are active, and their last sign-in.",
						examples: []string{
							"gatehouse user show alice",
							"gatehouse user show alice@example.com --json",
						},
						flags:  userShowFlags,
						config: true,
					},
					{
						name:    "set-roles",
						summary: "Replace a user's roles",
						args:    "USER ROLE... [flags]",
						about: `Gives USER exactly the roles listed, taking away any others. Each role must
exist; the change is recorded in the audit log.`,
						examples: []string{
							"gatehouse user set-roles alice user admin",
							"gatehouse user set-roles bob@example.com user",
						},
						flags:  userSetRolesFlags,
						config: true,
					},
					{
						name:    "disable",
						summary: "Disable a user: sign-in is refused and their sessions end",
						args:    "USER [flags]",
						about: `Disables USER's account: sign-in is refused and their sessions and tokens
are revoked. Nothing is deleted; 'gatehouse user enable' undoes it. The last
active admin cannot be disabled.`,
						examples: []string{
							"gatehouse user disable bob",
							"gatehouse user disable bob@example.com",
						},
						flags:  userDisableFlags,
						config: true,
					},
					{
						name:     "enable",
						summary:  "Enable a disabled user again",
						args:     "USER [flags]",
						about:    "Lets USER sign in again after 'gatehouse user disable'.",
						examples: []string{"gatehouse user enable bob"},
						flags:    userEnableFlags,
						config:   true,
					},
					{
						name:    "reset-mfa",
						summary: "Turn off a user's two-step verification, for a lost phone",
						args:    "USER [flags]",
						about: `Turns off USER's two-step verification without a code, for a user who lost
their authenticator app and their recovery codes: the secret and the
recovery codes are deleted, every session and token of the user is revoked
(a lost phone may still be signed in), and the user is mailed a notice.
Check by some other channel that the request comes from the user first:
afterwards their password alone signs in. A user whose role requires
two-step verification sets it up again at the next sign-in. The reset is
recorded in the audit log as mfa.totp_reset. This also works for the last
admin, who cannot do it from the admin panel.`,
						examples: []string{
							"gatehouse user reset-mfa bob",
							"gatehouse user reset-mfa bob@example.com",
						},
						flags:  userResetMFAFlags,
						config: true,
					},
					{
						name:    "delete",
						summary: "Delete a user and everything they own",
						args:    "USER [flags]",
						about: `Deletes USER and everything that belongs to them: sessions, tokens,
passkeys, linked sign-in accounts and the API keys they created. Their events
stay in the audit log, under their ID. There is no undo. The last active
admin cannot be deleted.`,
						examples: []string{
							"gatehouse user delete bob",
							"gatehouse user delete 7q3xk2m4c5v6b7n8p9r2s3t4u5",
						},
						flags:  userDeleteFlags,
						config: true,
					},
					{
						name:     "import",
						via:      "users",
						summary:  "Create and update users from a CSV or JSON lines file",
						args:     "FILE [--format csv|jsonl] [--dry-run] [--skip-invalid] [flags]",
						about:    importAbout,
						examples: []string{"gatehouse users import --dry-run users.csv", "gatehouse users import users.csv", "gatehouse users import --format jsonl --skip-invalid export.jsonl"},
						flags:    userImportFlags,
						config:   true,
						fileArgs: true,
					},
				},
			},
			{
				name:    "keys",
				summary: "List or rotate the access-token signing keys",
				args:    "<subcommand> [flags]",
				examples: []string{
					"gatehouse keys list",
					"gatehouse keys rotate",
				},
				subs: []*command{
					{
						name:     "list",
						summary:  "List the signing keys published in the JWKS",
						args:     "[flags]",
						about:    "Lists each signing key: its ID (kid), algorithm, creation time, and whether it\nsigns new tokens or is retired and only still published.",
						examples: []string{"gatehouse keys list"},
						flags:    keysListFlags,
						config:   true,
					},
					{
						name:    "rotate",
						summary: "Make a new signing key active now",
						args:    "[flags]",
						about: `Makes a new signing key active now. The old one stays published in the JWKS
until every token it signed has expired, so no signed-in user notices.
Running servers pick the new key up within a minute.`,
						examples: []string{
							"gatehouse keys rotate",
							"gatehouse keys rotate --config /etc/gatehouse/gatehouse.yaml",
						},
						flags:  keysRotateFlags,
						config: true,
					},
				},
			},
			{
				name:    "audit",
				summary: "Read the audit log",
				args:    "<subcommand> [flags]",
				examples: []string{
					"gatehouse audit tail --follow",
				},
				subs: []*command{
					{
						name:    "tail",
						summary: "Print the latest audit events, and with --follow new ones",
						args:    "[--follow] [--user U] [--type T] [-n N] [--json] [flags]",
						about:   auditAbout,
						examples: []string{
							"gatehouse audit tail -n 100 --type login.failed",
							"gatehouse audit tail --user alice --follow",
							"gatehouse audit tail --json | jq -r .type",
						},
						flags:  auditTailFlags,
						config: true,
					},
				},
			},
			{
				name:    "completion",
				summary: "Print a shell completion script for bash, zsh or fish",
				args:    "bash|zsh|fish",
				about: `Prints a script that completes gatehouse's commands, subcommands and flags
in the named shell. Load it in the current shell, or install it where the
shell looks for completions.`,
				examples: []string{
					"source <(gatehouse completion bash)",
					"gatehouse completion zsh > \"${fpath[1]}/_gatehouse\"",
					"gatehouse completion fish > ~/.config/fish/completions/gatehouse.fish",
				},
				flags:   completionFlags,
				choices: []string{"bash", "zsh", "fish"},
			},
			{
				name:     "version",
				summary:  "Print the version",
				args:     "",
				about:    "Prints the version of Gatehouse this binary was built from.",
				examples: []string{"gatehouse version"},
				flags:    versionFlags,
			},
			{
				name:        "help",
				summary:     "Show help for gatehouse, one of its commands, or a topic",
				args:        "[command [subcommand] | topic]",
				about:       "Prints the same help as 'gatehouse <command> --help', or a topic: 'gatehouse\nhelp config' lists the configuration flags every command that opens the\ndatabase takes.",
				examples:    []string{"gatehouse help", "gatehouse help user create", "gatehouse help config"},
				flags:       helpFlags,
				commandArgs: true,
			},
		},
	}
	root.link(nil)
	return root
}

// link sets every command's parent.
func (c *command) link(parent *command) {
	c.parent = parent
	for _, s := range c.subs {
		s.link(c)
	}
}

// path is how a user types the command: "gatehouse users import".
func (c *command) path() string {
	if c.parent == nil {
		return c.name
	}
	parent := c.parent.path()
	if c.via != "" {
		parent = strings.TrimSuffix(parent, c.parent.name) + c.via
	}
	return parent + " " + c.name
}

// sub finds the subcommand that word selects.
func (c *command) sub(word string) *command {
	for _, s := range c.subs {
		if s.name == word {
			return s
		}
		for _, a := range s.aliases {
			if a == word {
				return s
			}
		}
	}
	return nil
}

// walk calls f for c and every command under it, parents first.
func (c *command) walk(f func(*command)) {
	f(c)
	for _, s := range c.subs {
		s.walk(f)
	}
}

// leaves returns the commands under c that run something, in table order.
func (c *command) leaves() []*command {
	var out []*command
	c.walk(func(c *command) {
		if c.flags != nil {
			out = append(out, c)
		}
	})
	return out
}

// flagSet builds the flag set of a runnable command and the action that
// uses it. Parsing errors come back as errors; help is printed by run, once.
func (c *command) flagSet() (*flag.FlagSet, action) {
	fs := flag.NewFlagSet(c.path(), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	act := c.flags(fs)
	if c.config {
		config.RegisterFlags(fs)
	}
	return fs, act
}

// isHelpWord reports whether a word in a subcommand's place asks for help.
func isHelpWord(w string) bool {
	return w == "help" || w == "-h" || w == "-help" || w == "--help"
}

// dispatch finds the command args name and runs it. Help goes to stdout
// and is not an error; a missing or unknown subcommand is a usage error.
func dispatch(ctx context.Context, root *command, args []string, e *env) error {
	c := root
	for c.subs != nil {
		if len(args) == 0 {
			if c == root {
				writeHelp(e.stderr, root)
				return errUsageShown
			}
			writeHelp(e.stderr, c)
			fmt.Fprintln(e.stderr)
			return &usageError{fmt.Sprintf("%s needs a subcommand: %s", c.name, subNames(c))}
		}
		w := args[0]
		s := c.sub(w)
		switch {
		case c == root && isHelpWord(w):
			s = c.sub("help") // gatehouse --help [command]
		case c == root && w == "--version":
			s = c.sub("version")
		case isHelpWord(w):
			writeHelp(e.stdout, c)
			return nil
		}
		if s == nil {
			if c == root && findTopic(w) != nil {
				return &usageError{fmt.Sprintf("%q is a help topic, not a command: run 'gatehouse help %s'", w, w)}
			}
			if c == root {
				return &usageError{fmt.Sprintf("unknown command %q; run 'gatehouse help' for the list", w)}
			}
			return &usageError{fmt.Sprintf("unknown %s subcommand %q; run '%s --help'", c.name, w, c.path())}
		}
		c, args = s, args[1:]
	}
	_, act := c.flagSet()
	err := act(ctx, args, e)
	if errors.Is(err, flag.ErrHelp) {
		writeHelp(e.stdout, c)
		return nil
	}
	return err
}

// errUsageShown is a usage error whose explanation is already on stderr.
var errUsageShown = &usageError{}

// subNames lists the subcommands of c, leaving out those documented under
// the parent's alias (users import), which are not typed after c's name.
func subNames(c *command) string {
	var names []string
	for _, s := range c.subs {
		if s.via == "" {
			names = append(names, s.name)
		}
	}
	return strings.Join(names, ", ")
}

// A topic is a page of 'gatehouse help TOPIC' that documents something other
// than one command. It runs nothing: 'gatehouse TOPIC' is a usage error that
// points to the page.
type topic struct {
	name    string
	summary string // one line, no final period
	write   func(b *strings.Builder)
}

// helpTopics are the topics, in the order help lists them.
func helpTopics() []topic {
	return []topic{
		{name: "config", summary: "The configuration flags, their environment variables and defaults", write: writeConfigTopic},
	}
}

// findTopic returns the topic named name, or nil.
func findTopic(name string) *topic {
	for _, t := range helpTopics() {
		if t.name == name {
			return &t
		}
	}
	return nil
}

// helpFlags makes 'gatehouse help [command...]'.
func helpFlags(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, e *env) error {
		if err := parse(fs, args); err != nil {
			return err
		}
		c := commandTable()
		if fs.NArg() > 0 {
			if t := findTopic(fs.Arg(0)); t != nil {
				if fs.NArg() > 1 {
					return &usageError{fmt.Sprintf("help %s takes nothing after it", t.name)}
				}
				var b strings.Builder
				t.write(&b)
				io.WriteString(e.stdout, b.String())
				return nil
			}
		}
		for _, w := range fs.Args() {
			s := c.sub(w)
			if s == nil {
				if c.parent == nil {
					return &usageError{fmt.Sprintf("unknown command %q; run 'gatehouse help' for the list", w)}
				}
				return &usageError{fmt.Sprintf("unknown %s subcommand %q; run 'gatehouse help %s'", c.name, w, strings.TrimPrefix(c.path(), "gatehouse "))}
			}
			c = s
		}
		writeHelp(e.stdout, c)
		return nil
	}
}

// versionFlags makes 'gatehouse version'.
func versionFlags(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, e *env) error {
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return &usageError{"version takes no arguments"}
		}
		fmt.Fprintf(e.stdout, "gatehouse %s\n", version())
		return nil
	}
}
