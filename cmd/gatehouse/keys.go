package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"
)

const keysUsage = `Usage: gatehouse keys <subcommand> [flags]

Subcommands:
  list     List the signing keys published in the JWKS
  rotate   Make a new signing key active now; the old one stays published
           until every token it signed has expired

Examples:
  gatehouse keys list
  gatehouse keys rotate
`

func cmdKeys(ctx context.Context, args []string, e *env) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(e.stdout, keysUsage)
		if len(args) == 0 {
			return &usageError{"keys needs a subcommand"}
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	if sub != "list" && sub != "rotate" {
		return &usageError{fmt.Sprintf("unknown keys subcommand %q; run 'gatehouse keys --help'", sub)}
	}
	g, err := openForCLI(rest, newFlagSet("keys", keysUsage, e), e)
	if err != nil {
		return err
	}
	defer g.Close()
	if sub == "rotate" {
		if err := g.Keys().Rotate(ctx); err != nil {
			return err
		}
		for _, k := range g.Keys().Keys() {
			if k.Active {
				fmt.Fprintf(e.stdout, "New active signing key %s (%s). Running servers pick it up within a minute.\n", k.ID, k.Algorithm)
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALGORITHM\tCREATED\tSTATUS")
	for _, k := range g.Keys().Keys() {
		status := "active"
		if !k.Active {
			status = "retired, published until " + k.PublishUntil.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339), status)
	}
	return tw.Flush()
}
