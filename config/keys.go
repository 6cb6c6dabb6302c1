package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Key describes one configuration key, as declared on Config's fields.
type Key struct {
	// Path is the key's dotted YAML path, e.g. "http.read_timeout".
	Path string
	// Env is the environment variable that sets the key, or "" for none.
	Env string
	// Flag is the command-line flag name without dashes, or "" for none.
	Flag string
	// Type names the kind of value: string, boolean, "boolean or auto",
	// integer, number, duration or list.
	Type string
	// Default is the default value as it would be written in an environment
	// variable; lists are comma-separated.
	Default string
	// Help is the one-line description.
	Help string
}

// Keys returns every key, in the order Config declares them. It is the one
// source of truth for the loader, the flags and the reference.
func Keys() []Key {
	out := make([]Key, len(schema.fields))
	for i, f := range schema.fields {
		out[i] = f.Key
	}
	return out
}

// kind is how a leaf's value is parsed and printed.
type kind int

const (
	kindString   kind = iota
	kindBool          // bool
	kindAutoBool      // *bool: nil is "auto"
	kindInt           // int
	kindFloat         // float64
	kindDuration      // time.Duration
	kindList          // []string
)

var kindNames = map[kind]string{
	kindString:   "string",
	kindBool:     "boolean",
	kindAutoBool: "boolean or auto",
	kindInt:      "integer",
	kindFloat:    "number",
	kindDuration: "duration",
	kindList:     "list",
}

// field is a leaf of Config: its Key plus what the loader needs to reach it.
type field struct {
	Key
	index  []int // for reflect.Value.FieldByIndex on a Config
	kind   kind
	secret string // "" for none, "value" for a secret as a whole, "url" for a URL's password
}

// schema is derived from Config's declaration once, at start-up, and never
// changed after.
var schema = buildSchema()

type schemaT struct {
	fields []*field
	byPath map[string]*field
	byFlag map[string]*field
	groups map[string]bool // paths of sections, such as "http"
}

// buildSchema walks Config's fields. A mistake in a tag is a programming
// error caught by any test of this package, so it panics.
func buildSchema() *schemaT {
	s := &schemaT{
		byPath: map[string]*field{},
		byFlag: map[string]*field{},
		groups: map[string]bool{},
	}
	env := map[string]bool{}
	defaults := reflect.ValueOf(Default())
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			name := sf.Tag.Get("yaml")
			if name == "" || name == "-" || strings.Contains(name, ",") {
				panic(fmt.Sprintf("config: field %s needs a plain yaml tag", sf.Name))
			}
			path := name
			if prefix != "" {
				path = prefix + "." + name
			}
			idx := append(append([]int(nil), index...), i)
			if sf.Type.Kind() == reflect.Struct {
				s.groups[path] = true
				walk(sf.Type, path, idx)
				continue
			}
			k, ok := kindOf(sf.Type)
			if !ok {
				panic(fmt.Sprintf("config: field %s has unsupported type %s", path, sf.Type))
			}
			f := &field{
				Key: Key{
					Path: path,
					Env:  sf.Tag.Get("env"),
					Flag: sf.Tag.Get("flag"),
					Type: kindNames[k],
					Help: sf.Tag.Get("help"),
				},
				index:  idx,
				kind:   k,
				secret: sf.Tag.Get("secret"),
			}
			f.Default = f.format(defaults.FieldByIndex(idx))
			if s.byPath[path] != nil || s.groups[path] {
				panic("config: duplicate key " + path)
			}
			if f.Env != "" {
				if env[f.Env] {
					panic("config: duplicate env " + f.Env)
				}
				env[f.Env] = true
			}
			if f.Flag != "" {
				if s.byFlag[f.Flag] != nil || f.Flag == "config" {
					panic("config: duplicate flag " + f.Flag)
				}
				s.byFlag[f.Flag] = f
			}
			s.byPath[path] = f
			s.fields = append(s.fields, f)
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	return s
}

func kindOf(t reflect.Type) (kind, bool) {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return kindDuration, true
	case t == reflect.TypeFor[*bool]():
		return kindAutoBool, true
	case t == reflect.TypeFor[[]string]():
		return kindList, true
	}
	switch t.Kind() {
	case reflect.String:
		return kindString, true
	case reflect.Bool:
		return kindBool, true
	case reflect.Int:
		return kindInt, true
	case reflect.Float64:
		return kindFloat, true
	}
	return 0, false
}

// value returns the field's settable value inside the Config that v points to.
func (f *field) value(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(f.index)
}

// set parses raw, as written in an environment variable or a flag, into dst.
// The error is the problem alone, e.g. `invalid duration "abc"`; the caller
// says where raw came from.
func (f *field) set(dst reflect.Value, raw string) error {
	switch f.kind {
	case kindString:
		dst.SetString(raw)
	case kindBool:
		b, ok := parseBool(raw)
		if !ok {
			return fmt.Errorf("invalid boolean %q (use true or false)", raw)
		}
		dst.SetBool(b)
	case kindAutoBool:
		if s := strings.ToLower(strings.TrimSpace(raw)); s == "" || s == "auto" {
			dst.SetZero()
			return nil
		}
		b, ok := parseBool(raw)
		if !ok {
			return fmt.Errorf("invalid value %q (use true, false or auto)", raw)
		}
		dst.Set(reflect.ValueOf(&b))
	case kindInt:
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("invalid integer %q", raw)
		}
		dst.SetInt(int64(n))
	case kindFloat:
		x, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil {
			return fmt.Errorf("invalid number %q", raw)
		}
		dst.SetFloat(x)
	case kindDuration:
		d, err := time.ParseDuration(strings.TrimSpace(raw))
		if err != nil {
			if _, nerr := strconv.Atoi(strings.TrimSpace(raw)); nerr == nil {
				return fmt.Errorf("invalid duration %q (missing unit, e.g. %q)", raw, raw+"s")
			}
			return fmt.Errorf("invalid duration %q", raw)
		}
		dst.SetInt(int64(d))
	case kindList:
		dst.Set(reflect.ValueOf(splitList(raw)))
	}
	return nil
}

// parseBool accepts what strconv.ParseBool does plus yes/no and on/off, in
// any case, since all of them turn up in environment files.
func parseBool(raw string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "1", "t", "true", "yes", "y", "on":
		return true, true
	case "0", "f", "false", "no", "n", "off":
		return false, true
	}
	return false, false
}

// splitList reads a comma-separated list, dropping spaces around items and
// empty items, so "a, b," is [a b] and "" is the empty list.
func splitList(raw string) []string {
	out := []string{}
	for item := range strings.SplitSeq(raw, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// format prints v, the field's value, the way set reads it back.
func (f *field) format(v reflect.Value) string {
	switch f.kind {
	case kindBool:
		return strconv.FormatBool(v.Bool())
	case kindAutoBool:
		if v.IsNil() {
			return "auto"
		}
		return strconv.FormatBool(v.Elem().Bool())
	case kindInt:
		return strconv.FormatInt(v.Int(), 10)
	case kindFloat:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case kindDuration:
		return formatDuration(time.Duration(v.Int()))
	case kindList:
		return strings.Join(v.Interface().([]string), ",")
	}
	return v.String()
}

// formatDuration prints d as time.Duration.String does but without zero
// trailing units: "2h" rather than "2h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
