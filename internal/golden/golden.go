// Package golden keeps files that are generated from code, such as the
// configuration and command-line references in docs/, equal to what
// generates them.
package golden

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// Check fails t unless the file at path holds want; with update it writes
// want to the file instead. regenerate is the command that rewrites the file,
// for the failure message, which names the first line that differs rather
// than printing both texts.
func Check(t testing.TB, path, want string, update bool, regenerate string) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v; create it with: %s", path, err, regenerate)
	}
	if string(got) != want {
		t.Errorf("%s differs from what generates it (%s); regenerate it with: %s", path, FirstDifference(string(got), want), regenerate)
	}
}

// FirstDifference describes the first line where got and want disagree.
func FirstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d is %q, want %q", i+1, gl, wl)
		}
	}
	return "they differ"
}
