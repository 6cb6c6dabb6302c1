package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/masterkey"
	"github.com/gatehouse-dev/gatehouse/store"
)

// migrateFlags makes 'gatehouse migrate', which takes only the
// configuration flags.
func migrateFlags(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, e *env) error { return cmdMigrate(ctx, fs, args, e) }
}

func cmdMigrate(ctx context.Context, fs *flag.FlagSet, args []string, e *env) error {
	cfg, err := loadConfig(fs, args, e)
	if err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()
	before, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(e.stdout, "The database is up to date (schema version %d).\n", v)
	} else {
		fmt.Fprintf(e.stdout, "Applied %d migration(s); schema version is now %d.\n", len(applied), v)
	}
	// The migrations seal nothing, so they need no master secret. A new
	// installation gets one all the same, as serve's first start would give
	// it, so that the user commands (which never generate one) work before
	// the first serve. An existing database never gets one: it may hold values
	// sealed under a secret kept elsewhere, which a new one would not open.
	if before != 0 {
		return nil
	}
	_, generated, err := masterkey.Load(cfg.SecretKey, cfg.DataDir)
	if err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(e.stdout, "Generated the master secret into %s; back it up, apart from the database.\n",
			cfg.DataDir+"/"+masterkey.FileName)
	}
	return nil
}

// version is the module version the binary was built from, or the VCS
// revision for a development build.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && (v == "" || v == "(devel)") {
			v = "devel-" + s.Value[:min(12, len(s.Value))]
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v
}

// roleList collects repeated --role flags.
type roleList []string

func (r *roleList) String() string     { return strings.Join(*r, ",") }
func (r *roleList) Set(v string) error { *r = append(*r, v); return nil }

// openForCLI builds a Gatehouse for a management command, with a quiet log
// so that stdout carries only the command's answer. Where there is no
// database yet it makes the installation, as serve would (user create may be
// the first command run); but a command pointed at an existing database
// without its secret stops with a line that says what is missing, instead of
// writing a stray secret that cannot open the signing keys the real one
// sealed.
func openForCLI(cfgArgs []string, fs *flag.FlagSet, e *env) (*gatehouse.Gatehouse, error) {
	cfg, err := loadConfig(fs, cfgArgs, e)
	if err != nil {
		return nil, err
	}
	if err := noArgs(fs); err != nil {
		return nil, err
	}
	if cfg.Log.Level == "info" || cfg.Log.Level == "debug" {
		cfg.Log.Level = "warn"
	}
	g, err := gatehouse.New(*cfg, gatehouse.WithLogger(newLogger(cfg, e.stderr)), gatehouse.OpenExisting())
	switch {
	case errors.Is(err, masterkey.ErrNoSecret):
		return nil, fmt.Errorf("no master secret: %s is not in the data directory (%s); pass --data-dir or set GATEHOUSE_SECRET_KEY",
			masterkey.FileName, cfg.DataDir)
	}
	return g, err
}

// findUser looks a user up by ID, then by username or email.
func findUser(ctx context.Context, s auth.Store, ref string) (*auth.User, error) {
	u, err := s.FindUserByID(ctx, ref)
	if auth.IsNotFound(err) {
		u, err = s.FindUserByLogin(ctx, ref)
	}
	if auth.IsNotFound(err) {
		return nil, fmt.Errorf("no user %q", ref)
	}
	return u, err
}

// cliError turns a domain error into the one line the command prints.
func cliError(err error) error {
	var e *auth.Error
	if !errors.As(err, &e) || e.Code == auth.EInternal {
		return err
	}
	if len(e.Fields) > 0 {
		var parts []string
		for _, f := range []string{"username", "email", "password", "roles"} {
			if msg, ok := e.Fields[f]; ok {
				parts = append(parts, f+": "+msg)
			}
		}
		return errors.New(strings.Join(parts, "; "))
	}
	return errors.New(e.Message)
}

// interleave lets flags come after positional arguments (gatehouse user show
// alice --json), which the flag package alone does not allow.
func interleave(fs *flag.FlagSet, args []string) (flags, positional []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") {
				if f := fs.Lookup(name); f != nil {
					if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !bf.IsBoolFlag() {
						if i+1 < len(args) {
							flags = append(flags, args[i+1])
							i++
						}
					}
				}
			}
			continue
		}
		positional = append(positional, a)
	}
	return flags, positional
}

// userCreateFlags makes 'gatehouse user create'.
func userCreateFlags(fs *flag.FlagSet) action {
	username := fs.String("username", "", "the new user's username (required)")
	email := fs.String("email", "", "the new user's email address (required)")
	var roles roleList
	fs.Var(&roles, "role", "a role to give, besides the default roles (repeatable)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input (without it the account has no password)")
	verified := fs.Bool("verified", false, "mark the email address as verified")
	return func(ctx context.Context, args []string, e *env) error {
		g, err := openForCLI(args, fs, e)
		if err != nil {
			return err
		}
		defer g.Close()
		if *username == "" || *email == "" {
			return &usageError{"user create needs --username and --email"}
		}
		reg := accounts.Registration{Username: *username, Email: *email, EmailVerified: *verified}
		if *pwStdin {
			pw, err := readPassword(e.stdin)
			if err != nil {
				return err
			}
			reg.Password = pw
		} else {
			reg.AllowNoPassword = true
		}
		if len(roles) > 0 {
			cfgRoles := append([]string{}, g.Config().Users.DefaultRoles...)
			reg.Roles = append(cfgRoles, roles...)
		}
		u, err := g.Accounts().Register(ctx, reg)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintln(e.stdout, u.ID)
		return nil
	}
}

// readPassword reads one line (or everything, without a newline) from r.
func readPassword(r io.Reader) (string, error) {
	br := bufio.NewReader(io.LimitReader(r, 64<<10))
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on stdin")
	}
	return line, nil
}

// userListFlags makes 'gatehouse user list'.
func userListFlags(fs *flag.FlagSet) action {
	query := fs.String("query", "", "only users whose username or email starts with this")
	role := fs.String("role", "", "only users with this role")
	asJSON := fs.Bool("json", false, "print JSON lines instead of a table")
	limit := fs.Int("limit", 500, "at most `N` users")
	return func(ctx context.Context, args []string, e *env) error {
		g, err := openForCLI(args, fs, e)
		if err != nil {
			return err
		}
		defer g.Close()
		users, total, err := g.Store().FindUsers(ctx, auth.UserFilter{Query: *query, Role: *role, Sort: "username", Limit: *limit})
		if err != nil {
			return cliError(err)
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			for _, u := range users {
				enc.Encode(u)
			}
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tROLES\tACTIVE\tVERIFIED\tCREATED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Username, u.Email, strings.Join(u.Roles, ","),
				yesNo(u.Active), yesNo(u.EmailVerified), u.CreatedAt.UTC().Format(time.RFC3339))
		}
		tw.Flush()
		if total > len(users) {
			fmt.Fprintf(e.stderr, "(%d of %d users shown; use --query, --role or --limit)\n", len(users), total)
		}
		return nil
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// oneUser parses flags around one USER argument and finds the user.
func oneUser(ctx context.Context, fs *flag.FlagSet, args []string, e *env, name string) (*gatehouse.Gatehouse, *auth.User, []string, error) {
	flags, pos := interleave(fs, args)
	g, err := openForCLI(append(flags, "--"), fs, e)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(pos) == 0 {
		g.Close()
		return nil, nil, nil, &usageError{fmt.Sprintf("user %s needs a USER (an ID, username or email)", name)}
	}
	u, err := findUser(ctx, g.Store(), pos[0])
	if err != nil {
		g.Close()
		return nil, nil, nil, err
	}
	return g, u, pos[1:], nil
}

// userShowFlags makes 'gatehouse user show'.
func userShowFlags(fs *flag.FlagSet) action {
	asJSON := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, args []string, e *env) error {
		g, u, rest, err := oneUser(ctx, fs, args, e, "show")
		if err != nil {
			return err
		}
		defer g.Close()
		if len(rest) > 0 {
			return &usageError{"user show takes one USER"}
		}
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(u)
		}
		last := "never"
		if u.LastLoginAt != nil {
			last = u.LastLoginAt.UTC().Format(time.RFC3339)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		for _, kv := range [][2]string{
			{"id", u.ID}, {"username", u.Username}, {"email", u.Email}, {"email verified", yesNo(u.EmailVerified)},
			{"roles", strings.Join(u.Roles, ", ")}, {"active", yesNo(u.Active)}, {"password", yesNo(u.HasPassword())},
			{"created", u.CreatedAt.UTC().Format(time.RFC3339)}, {"last sign-in", last},
		} {
			fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
		}
		return tw.Flush()
	}
}

// userSetRolesFlags makes 'gatehouse user set-roles'.
func userSetRolesFlags(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, e *env) error {
		g, u, roles, err := oneUser(ctx, fs, args, e, "set-roles")
		if err != nil {
			return err
		}
		defer g.Close()
		u, err = g.Accounts().SetRoles(ctx, nil, u.ID, roles)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "%s now has roles: %s\n", u.Username, strings.Join(u.Roles, ", "))
		return nil
	}
}

// userDisableFlags makes 'gatehouse user disable'.
func userDisableFlags(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, e *env) error { return userSetActive(ctx, fs, args, e, false) }
}

// userEnableFlags makes 'gatehouse user enable'.
func userEnableFlags(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, e *env) error { return userSetActive(ctx, fs, args, e, true) }
}

func userSetActive(ctx context.Context, fs *flag.FlagSet, args []string, e *env, active bool) error {
	name := "disable"
	if active {
		name = "enable"
	}
	g, u, rest, err := oneUser(ctx, fs, args, e, name)
	if err != nil {
		return err
	}
	defer g.Close()
	if len(rest) > 0 {
		return &usageError{"user " + name + " takes one USER"}
	}
	if _, err := g.Accounts().SetActive(ctx, nil, u.ID, active); err != nil {
		return cliError(err)
	}
	g.Logger().LogAttrs(ctx, slog.LevelWarn, "user "+name+"d from the command line", slog.String("user_id", u.ID))
	fmt.Fprintf(e.stdout, "%s is now %s.\n", u.Username, map[bool]string{true: "enabled", false: "disabled"}[active])
	return nil
}

// userResetMFAFlags makes 'gatehouse user reset-mfa'.
func userResetMFAFlags(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, e *env) error {
		g, u, rest, err := oneUser(ctx, fs, args, e, "reset-mfa")
		if err != nil {
			return err
		}
		defer g.Close()
		if len(rest) > 0 {
			return &usageError{"user reset-mfa takes one USER"}
		}
		if err := g.Accounts().ResetMFA(ctx, nil, u.ID); err != nil {
			return cliError(err)
		}
		g.Logger().LogAttrs(ctx, slog.LevelWarn, "two-step verification reset from the command line", slog.String("user_id", u.ID))
		fmt.Fprintf(e.stdout, "Two-step verification is off for %s, who was signed out everywhere.\n", u.Username)
		return nil
	}
}

// userDeleteFlags makes 'gatehouse user delete'.
func userDeleteFlags(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, e *env) error {
		g, u, rest, err := oneUser(ctx, fs, args, e, "delete")
		if err != nil {
			return err
		}
		defer g.Close()
		if len(rest) > 0 {
			return &usageError{"user delete takes one USER"}
		}
		if err := g.Accounts().DeleteUser(ctx, nil, u.ID); err != nil {
			return cliError(err)
		}
		g.Logger().LogAttrs(ctx, slog.LevelWarn, "user deleted from the command line", slog.String("user_id", u.ID))
		fmt.Fprintf(e.stdout, "Deleted %s (%s).\n", u.Username, u.ID)
		return nil
	}
}
