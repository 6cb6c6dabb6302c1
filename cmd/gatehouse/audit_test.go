package main

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// Every event type package auth defines is in auditEventTypes, so the event
// column of audit tail is wide enough for each of them.
func TestAuditEventTypesComplete(t *testing.T) {
	files, err := filepath.Glob("../../auth/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sources of package auth: %v", err)
	}
	fset := token.NewFileSet()
	n := 0
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(node ast.Node) bool {
			spec, ok := node.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range spec.Names {
				if !strings.HasPrefix(name.Name, "Event") || i >= len(spec.Values) {
					continue
				}
				lit, ok := spec.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				typ, _ := strconv.Unquote(lit.Value)
				n++
				if !slices.Contains(auditEventTypes, typ) {
					t.Errorf("auth.%s = %q is missing from auditEventTypes", name.Name, typ)
				}
			}
			return true
		})
	}
	if n < 40 {
		t.Errorf("found %d event types in package auth, want at least 40: is the parsing broken?", n)
	}
}

// audit tail's columns line up whatever the length of the event types, in
// one batch and across the batches of --follow.
func TestAuditTailColumnsAligned(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ev := func(typ string) *auth.Event {
		return &auth.Event{Type: typ, IP: "192.0.2.1", CreatedAt: at, Data: map[string]string{"k": "v"}}
	}
	var out bytes.Buffer
	p := &eventPrinter{w: &out, names: map[string]string{}}
	batches := [][]*auth.Event{
		{ev(auth.EventLogout), ev(auth.EventVerificationSent), ev(auth.EventLoginFailed)},
		{ev(auth.EventRecoveryCodesRenewed)}, // --follow: a later, longer one
		{ev(auth.EventEmailLoginRequested), ev(auth.EventPasskeyCloneWarning)},
	}
	for _, b := range batches {
		if err := p.print(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 7 {
		t.Fatalf("printed %d lines, want a header and 6 events:\n%s", len(lines), out.String())
	}
	for _, col := range []string{"ACTOR", "IP", "DETAILS"} {
		want := strings.Index(lines[0], col)
		for _, line := range lines[1:] {
			var got int
			switch col {
			case "ACTOR":
				got = strings.Index(line, "  -  ") + 2
			case "IP":
				got = strings.Index(line, "192.0.2.1")
			case "DETAILS":
				got = strings.Index(line, "k=v")
			}
			if got != want {
				t.Errorf("%s starts at column %d in %q, want %d as in the header %q", col, got, line, want, lines[0])
			}
		}
	}

	// A type this binary does not know widens the column rather than
	// pushing its own line out of line with the header.
	out.Reset()
	p = &eventPrinter{w: &out, names: map[string]string{}}
	long := "some.future_event_type_with_a_long_name"
	p.print(context.Background(), []*auth.Event{ev(long), ev(auth.EventLogout)})
	lines = strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := strings.Index(lines[0], "ACTOR")
	for _, line := range lines[1:] {
		if got := strings.Index(line, "  -  ") + 2; got != want {
			t.Errorf("ACTOR starts at column %d in %q, want %d as in the header", got, line, want)
		}
	}
}
