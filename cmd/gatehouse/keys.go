package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"
)

// keysListFlags makes 'gatehouse keys list'.
func keysListFlags(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, e *env) error { return cmdKeys(ctx, fs, args, e, "list") }
}

// keysRotateFlags makes 'gatehouse keys rotate'.
func keysRotateFlags(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, e *env) error { return cmdKeys(ctx, fs, args, e, "rotate") }
}

func cmdKeys(ctx context.Context, fs *flag.FlagSet, args []string, e *env, sub string) error {
	g, err := openForCLI(args, fs, e)
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
