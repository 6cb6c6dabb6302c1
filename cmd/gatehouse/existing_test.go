package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every command that opens the database, serve and migrate aside, pointed
// at an existing database whose master secret is not in its data directory,
// stops with exit status 1 and the line that says what is missing, and
// writes no stray secret.
func TestCommandsWriteNoStraySecret(t *testing.T) {
	file := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(file, []byte("username,email\nbob,bob@example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// What each command needs to get as far as opening the database.
	args := map[string][]string{
		"gatehouse user create":    {"--username", "bob", "--email", "bob@example.com"},
		"gatehouse user show":      {"bob"},
		"gatehouse user set-roles": {"bob", "user"},
		"gatehouse user disable":   {"bob"},
		"gatehouse user enable":    {"bob"},
		"gatehouse user reset-mfa": {"bob"},
		"gatehouse user delete":    {"bob"},
		"gatehouse users import":   {file},
	}
	home := t.TempDir()
	db := "sqlite://" + filepath.Join(home, "gatehouse.db")
	if status, _, errOut := cli(t, map[string]string{"GATEHOUSE_DATABASE_URL": db, "GATEHOUSE_DATA_DIR": home}, "", "migrate"); status != 0 {
		t.Fatalf("migrate = %d: %s", status, errOut)
	}
	elsewhere := t.TempDir()
	environ := map[string]string{"GATEHOUSE_DATABASE_URL": db, "GATEHOUSE_DATA_DIR": elsewhere}
	n := 0
	for _, c := range commandTable().leaves() {
		if !c.config || c.name == "serve" || c.name == "migrate" {
			continue
		}
		n++
		line := append(words(c), args[c.path()]...)
		status, out, errOut := cli(t, environ, "", line...)
		want := "gatehouse: no master secret: gatehouse.key is not in the data directory (" + elsewhere + "); pass --data-dir or set GATEHOUSE_SECRET_KEY\n"
		if status != 1 || out != "" || errOut != want {
			t.Errorf("gatehouse %s without the secret = %d, stdout %q, stderr %q; want 1, nothing on stdout, and %q",
				strings.Join(line, " "), status, out, errOut, want)
		}
		if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
			t.Fatalf("gatehouse %s without the secret wrote %v", strings.Join(line, " "), entries)
		}
	}
	if n < 10 {
		t.Errorf("checked %d commands, want every user, keys and audit command", n)
	}
}
