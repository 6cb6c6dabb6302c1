package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load builds the configuration from Default, then the YAML file at path (if
// path is not empty), then the environment as seen through lookupEnv (pass
// os.LookupEnv; nil reads no environment), then the flags in fs that were set
// explicitly on the command line (fs may be nil). fs must already be parsed,
// and its flags defined by RegisterFlags.
//
// A file named explicitly must exist. Unknown keys in the file are errors, as
// are values of the wrong shape; a key written with no value (null) keeps its
// default. After every layer is applied, Load trims a trailing slash from the
// public URL and validates the result.
//
// The error, if any, is one line that says where the bad value came from and
// what is wrong with it, e.g.
//
//	config file gatehouse.yaml: line 4: unknown key "lisen" (did you mean "listen"?)
//	GATEHOUSE_PUBLIC_URL: "ftp://x": must be an http or https URL
//	--listen: "nonsense": must be host:port
func Load(path string, lookupEnv func(string) (string, bool), fs *flag.FlagSet) (*Config, error) {
	c := Default()
	l := &loader{cfg: &c, from: map[*field]string{}}
	if path != "" {
		if err := l.file(path); err != nil {
			return nil, err
		}
	}
	if lookupEnv != nil {
		if err := l.env(lookupEnv); err != nil {
			return nil, err
		}
	}
	if fs != nil {
		if err := l.flags(fs); err != nil {
			return nil, err
		}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if fe := c.validate(); fe != nil {
		// Name the source the user wrote the value in, not the key, when
		// they differ: it is where they will look to fix it.
		if where, ok := l.from[fe.field]; ok {
			return nil, errors.New(where + ": " + fe.problem)
		}
		return nil, fe
	}
	return &c, nil
}

// loader applies the layers to cfg, remembering where each value came from.
type loader struct {
	cfg  *Config
	from map[*field]string // "config file F: line N: key", "GATEHOUSE_X" or "--flag"
}

func (l *loader) file(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("config file %s: file does not exist", path)
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("config file %s: %v", path, err)
	}
	d := &decoder{l: l, file: path}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file, or one with only comments
		}
		return d.errorf(0, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		return d.errorf(more.Line, "only one YAML document is allowed")
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return d.mapping(doc.Content[0], "")
}

// decoder walks a YAML file against the key table. It does not rely on
// yaml.v3's struct decoding, so that every problem has the same shape and a
// line number.
type decoder struct {
	l    *loader
	file string
}

func (d *decoder) errorf(line int, format string, args ...any) error {
	prefix := "config file " + d.file + ": "
	if line > 0 {
		prefix += fmt.Sprintf("line %d: ", line)
	}
	return errors.New(prefix + fmt.Sprintf(format, args...))
}

// resolve follows aliases (*anchor) to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's shape for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("the value %q", n.Value)
}

func (d *decoder) mapping(n *yaml.Node, prefix string) error {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		if prefix == "" {
			return d.errorf(n.Line, "expected a mapping of keys to values, got %s", describe(n))
		}
		return d.errorf(n.Line, "%s: expected a mapping of keys to values, got %s", prefix, describe(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return d.errorf(k.Line, "keys must be plain names, got %s", describe(k))
		}
		path := k.Value
		if prefix != "" {
			path = prefix + "." + k.Value
		}
		if first, ok := seen[k.Value]; ok {
			return d.errorf(k.Line, "duplicate key %q (first on line %d)", path, first)
		}
		seen[k.Value] = k.Line
		switch f := schema.byPath[path]; {
		case schema.groups[path]:
			if err := d.mapping(v, path); err != nil {
				return err
			}
		case f != nil:
			if err := d.leaf(f, v); err != nil {
				return err
			}
		default:
			if s := suggest(path); s != "" {
				return d.errorf(k.Line, "unknown key %q (did you mean %q?)", path, s)
			}
			return d.errorf(k.Line, "unknown key %q", path)
		}
	}
	return nil
}

func (d *decoder) leaf(f *field, n *yaml.Node) error {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	dst := f.value(d.l.cfg)
	if f.kind == kindList {
		if n.Kind != yaml.SequenceNode {
			return d.errorf(n.Line, "%s: expected a list, got %s", f.Path, describe(n))
		}
		items := []string{}
		for _, item := range n.Content {
			item = resolve(item)
			if item.Kind != yaml.ScalarNode {
				return d.errorf(item.Line, "%s: expected a list of strings, got %s in it", f.Path, describe(item))
			}
			s := item.Value
			if isNull(item) {
				s = "" // not "null" or "~"; validation then names the empty item
			}
			items = append(items, s)
		}
		dst.Set(reflect.ValueOf(items))
	} else {
		if n.Kind != yaml.ScalarNode {
			return d.errorf(n.Line, "%s: expected %s %s, got %s", f.Path, article(f.Type), f.Type, describe(n))
		}
		if err := f.set(dst, n.Value); err != nil {
			return d.errorf(n.Line, "%s: %v", f.Path, err)
		}
	}
	d.l.from[f] = fmt.Sprintf("config file %s: line %d: %s", d.file, n.Line, f.Path)
	return nil
}

func article(noun string) string {
	if strings.ContainsAny(noun[:1], "aeiou") {
		return "an"
	}
	return "a"
}

// suggest returns the known key closest to an unknown one, or "" when none
// is close: a misspelling of a path, or a key put in the wrong section.
func suggest(path string) string {
	best, bestDist := "", 3
	var sameName []string
	name := path[strings.LastIndexByte(path, '.')+1:]
	for _, f := range schema.fields {
		if dist := levenshtein(path, f.Path); dist < bestDist {
			best, bestDist = f.Path, dist
		}
		if f.Path[strings.LastIndexByte(f.Path, '.')+1:] == name {
			sameName = append(sameName, f.Path)
		}
	}
	for g := range schema.groups {
		if dist := levenshtein(path, g); dist < bestDist {
			best, bestDist = g, dist
		}
	}
	if best == "" && len(sameName) == 1 {
		best = sameName[0]
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (l *loader) env(lookupEnv func(string) (string, bool)) error {
	for _, f := range schema.fields {
		if f.Env == "" {
			continue
		}
		raw, ok := lookupEnv(f.Env)
		if !ok {
			continue
		}
		if err := f.set(f.value(l.cfg), raw); err != nil {
			return fmt.Errorf("%s: %v", f.Env, err)
		}
		l.from[f] = f.Env
	}
	return nil
}

func (l *loader) flags(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(fl *flag.Flag) {
		f := schema.byFlag[fl.Name]
		if f == nil || err != nil {
			return
		}
		if e := f.set(f.value(l.cfg), fl.Value.String()); e != nil {
			err = fmt.Errorf("--%s: %v", f.Flag, e)
			return
		}
		l.from[f] = "--" + f.Flag
	})
	return err
}

// RegisterFlags defines on fs the flag --config (the YAML file to read) and
// one flag for every key that has a flag name. The key flags hold their text
// unparsed until Load, so that a bad value is reported the same way whether it
// came from a flag, the environment or the file. A list flag given more than
// once accumulates, so --x a --x b is the same as --x a,b.
func RegisterFlags(fs *flag.FlagSet) {
	fs.String("config", "", "read configuration from the YAML `file`")
	for _, f := range schema.fields {
		if f.Flag == "" {
			continue
		}
		usage := strings.ReplaceAll(f.Help, "`", "")
		if f.Env != "" {
			usage += " (env " + f.Env + ")"
		}
		fs.Var(&flagValue{raw: f.Default, list: f.kind == kindList, boolean: f.kind == kindBool || f.kind == kindAutoBool}, f.Flag, usage)
	}
}

// flagValue is a flag.Value that keeps its text for Load to parse.
type flagValue struct {
	raw     string
	list    bool // later values append rather than replace
	boolean bool // may be given without a value
	set     bool
}

func (v *flagValue) String() string {
	if v == nil {
		return ""
	}
	return v.raw
}

func (v *flagValue) Set(s string) error {
	if v.list && v.set {
		v.raw += "," + s
	} else {
		v.raw = s
	}
	v.set = true
	return nil
}

// IsBoolFlag lets a boolean key be given as plain --dev.
func (v *flagValue) IsBoolFlag() bool { return v.boolean }
