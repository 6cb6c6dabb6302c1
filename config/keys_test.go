package config

import (
	"flag"
	"github.com/gatehouse-dev/gatehouse/internal/golden"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md from Reference()")

const referencePath = "../docs/configuration.md"

func TestReferenceUpToDate(t *testing.T) {
	golden.Check(t, referencePath, Reference(), *update, "go test ./config -run TestReferenceUpToDate -update")
}

// A key added without a description fails here rather than reaching users
// as an empty row in the reference.
func TestEveryKeyHasHelp(t *testing.T) {
	for _, k := range Keys() {
		switch {
		case strings.TrimSpace(k.Help) == "":
			t.Errorf("key %s has no help tag; add help:\"...\" to its field", k.Path)
		case strings.ContainsAny(k.Help, "\n\r"):
			t.Errorf("key %s has a help tag of more than one line", k.Path)
		}
	}
}

func TestKeyNames(t *testing.T) {
	for _, k := range Keys() {
		if k.Env != "" && (!strings.HasPrefix(k.Env, "GATEHOUSE_") || k.Env != strings.ToUpper(k.Env)) {
			t.Errorf("key %s: env %q, want GATEHOUSE_ and capitals", k.Path, k.Env)
		}
		if k.Flag != "" && (k.Flag != strings.ToLower(k.Flag) || strings.ContainsAny(k.Flag, "_. ")) {
			t.Errorf("key %s: flag %q, want lowercase words joined by -", k.Path, k.Flag)
		}
	}
}

// Every check must name a key; a misspelt path would silently never run.
func TestChecksNameKeys(t *testing.T) {
	for path := range checks {
		if schema.byPath[path] == nil {
			t.Errorf("checks has an entry for %q, which is not a key", path)
		}
	}
}

// Each Key.Default must read back as the default itself, since the reference
// invites users to copy it into the environment or onto the command line.
func TestDefaultsParse(t *testing.T) {
	d := Default()
	for _, f := range schema.fields {
		t.Run(f.Path, func(t *testing.T) {
			var c Config
			if err := f.set(f.value(&c), f.Default); err != nil {
				t.Fatalf("set(%q) = %v, want no error", f.Default, err)
			}
			// Compared as printed, so that a nil list equals an empty one.
			got, want := f.format(f.value(&c)), f.format(f.value(&d))
			if got != want {
				t.Errorf("set(%q) = %v, want %v", f.Default, got, want)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		path string
		raw  string
		want any
	}{
		{"dev", "yes", true},
		{"dev", "OFF", false},
		{"http.read_timeout", "1m30s", "1m30s"},
		{"http.max_body_bytes", " 1024 ", 1024},
		{"users.default_roles", " a , b,,c ", []string{"a", "b", "c"}},
		{"users.default_roles", "", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.path+"="+tt.raw, func(t *testing.T) {
			f := schema.byPath[tt.path]
			var c Config
			if err := f.set(f.value(&c), tt.raw); err != nil {
				t.Fatalf("set(%q) = %v, want no error", tt.raw, err)
			}
			v := f.value(&c)
			var got any = v.Interface()
			switch f.kind {
			case kindAutoBool:
				got = v.Elem().Bool()
			case kindDuration:
				got = f.format(v)
			case kindInt:
				got = int(v.Int())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("set(%q) = %#v, want %#v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestListFlagAccumulates(t *testing.T) {
	v := &flagValue{raw: "user", list: true}
	for _, s := range []string{"a", "b,c"} {
		v.Set(s)
	}
	if got, want := v.String(), "a,b,c"; got != want {
		t.Errorf("after Set(a), Set(b,c): String() = %q, want %q", got, want)
	}
	s := &flagValue{raw: "x"}
	s.Set("a")
	s.Set("b")
	if got, want := s.String(), "b"; got != want {
		t.Errorf("after Set(a), Set(b) on a scalar flag: String() = %q, want %q", got, want)
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct{ in, want string }{
		{"lisen", "listen"},
		{"publicurl", "public_url"},
		{"htp", "http"},
		{"session.idle_timeot", "session.idle_timeout"},
		{"idle_timeout", ""}, // in two sections: no guess
		{"algorithm", "token.algorithm"},
		{"zzzzzzzz", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"2h", "2h"}, {"90m", "1h30m"}, {"336h", "336h"}, {"5s", "5s"}, {"1m", "1m"},
		{"0s", "0s"}, {"1500ms", "1.5s"}, {"-5s", "-5s"}, {"1h0m1s", "1h0m1s"},
	}
	for _, tt := range tests {
		var c Config
		f := schema.byPath["http.read_timeout"]
		if err := f.set(f.value(&c), tt.in); err != nil {
			t.Fatal(err)
		}
		if got := f.format(f.value(&c)); got != tt.want {
			t.Errorf("formatDuration(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// No key is a float64 yet; this keeps the support for one working.
func TestFloatKind(t *testing.T) {
	f := &field{kind: kindFloat}
	var x float64
	v := reflect.ValueOf(&x).Elem()
	if err := f.set(v, "0.25"); err != nil || x != 0.25 {
		t.Errorf("set(%q) = %v, %v; want 0.25, nil", "0.25", x, err)
	}
	if got := f.format(v); got != "0.25" {
		t.Errorf("format(0.25) = %q, want %q", got, "0.25")
	}
	if err := f.set(v, "a quarter"); err == nil || err.Error() != `invalid number "a quarter"` {
		t.Errorf("set(%q) = %v, want %q", "a quarter", err, `invalid number "a quarter"`)
	}
}
