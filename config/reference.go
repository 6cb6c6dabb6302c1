package config

import (
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Redacted returns a copy of c with secrets masked: the secret key and the
// passwords (and password-like query parameters) inside the database, Redis
// and SMTP URLs read "xxxxx". An empty secret stays empty, which shows that
// it will be generated.
func (c Config) Redacted() Config {
	r := c
	if c.Dev != nil {
		dev := *c.Dev
		r.Dev = &dev
	}
	for _, f := range schema.fields {
		v := f.value(&r)
		switch {
		case f.kind == kindList:
			v.Set(reflect.ValueOf(slices.Clone(v.Interface().([]string))))
		case f.secret == "value" && v.String() != "":
			v.SetString("xxxxx")
		case f.secret == "url":
			v.SetString(redactURL(v.String()))
		}
	}
	return r
}

// String prints the configuration, with secrets masked as by Redacted, as a
// YAML file that Load would read back (apart from the masks). Because it
// masks, printing a Config with fmt never shows a secret.
func (c Config) String() string {
	r := c.Redacted()
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(r.yamlNode("")); err != nil {
		return fmt.Sprintf("config: %v", err) // cannot happen: every node is a plain scalar, list or mapping
	}
	enc.Close()
	return b.String()
}

// yamlNode builds the mapping for the section at prefix ("" for the top).
func (c *Config) yamlNode(prefix string) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for name, f := range c.members(prefix) {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: name})
		if f == nil {
			m.Content = append(m.Content, c.yamlNode(prefix+name+"."))
			continue
		}
		v := f.value(c)
		if f.kind == kindList {
			seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, s := range v.Interface().([]string) {
				seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s})
			}
			m.Content = append(m.Content, seq)
			continue
		}
		tag := "!!str"
		switch f.kind {
		case kindBool:
			tag = "!!bool"
		case kindInt:
			tag = "!!int"
		case kindFloat:
			tag = "!!float"
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: f.format(v)})
	}
	return m
}

// members yields the direct members of the section at prefix in declaration
// order: each leaf with its field, each subsection once with a nil field.
func (c *Config) members(prefix string) func(yield func(string, *field) bool) {
	return func(yield func(string, *field) bool) {
		done := map[string]bool{}
		for _, f := range schema.fields {
			rest, ok := strings.CutPrefix(f.Path, prefix)
			if !ok {
				continue
			}
			if section, _, nested := strings.Cut(rest, "."); nested {
				if !done[section] {
					done[section] = true
					if !yield(section, nil) {
						return
					}
				}
				continue
			}
			if !yield(rest, f) {
				return
			}
		}
	}
}

// LogValue makes a Config log as a group of its keys, with secrets masked as
// by Redacted, so that serve can log the effective configuration at debug level.
func (c Config) LogValue() slog.Value {
	r := c.Redacted()
	return slog.GroupValue(r.logAttrs("")...)
}

func (c *Config) logAttrs(prefix string) []slog.Attr {
	var attrs []slog.Attr
	for name, f := range c.members(prefix) {
		if f == nil {
			attrs = append(attrs, slog.Attr{Key: name, Value: slog.GroupValue(c.logAttrs(prefix + name + ".")...)})
			continue
		}
		v := f.value(c)
		switch f.kind {
		case kindBool:
			attrs = append(attrs, slog.Bool(name, v.Bool()))
		case kindInt:
			attrs = append(attrs, slog.Int(name, int(v.Int())))
		case kindFloat:
			attrs = append(attrs, slog.Float64(name, v.Float()))
		case kindDuration:
			attrs = append(attrs, slog.String(name, formatDuration(time.Duration(v.Int()))))
		case kindList:
			attrs = append(attrs, slog.Any(name, v.Interface()))
		default:
			attrs = append(attrs, slog.String(name, f.format(v)))
		}
	}
	return attrs
}

// Reference returns the Markdown reference of every key, the text of
// docs/configuration.md: how the layers combine, how values are written, a
// table of the keys and the defaults written out as a file.
func Reference() string {
	var b strings.Builder
	b.WriteString(referenceHeader)
	b.WriteString("| Key | Environment | Flag | Type | Default | Description |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, k := range Keys() {
		flagName := ""
		if k.Flag != "" {
			flagName = "--" + k.Flag
		}
		def := code(k.Default)
		if k.Default == "" {
			def = "*empty*"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n",
			code(k.Path), code(k.Env), code(flagName), k.Type, def, cell(k.Help))
	}
	b.WriteString(referenceFooter)
	b.WriteString("```yaml\n")
	b.WriteString(Default().String())
	b.WriteString("```\n")
	return b.String()
}

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + cell(s) + "`"
}

// cell escapes the one character that would end a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

const referenceHeader = "# Configuration\n\n" +
	"<!-- Generated from package config by `go test ./config -run TestReferenceUpToDate -update`.\n" +
	"     Change the struct tags and Default in config/config.go, not this file. -->\n\n" +
	"Gatehouse reads its configuration in layers, each overriding the one before: the built-in\n" +
	"defaults, then the YAML file named by `--config`, then environment variables, then command-line\n" +
	"flags (only those given explicitly). So a file holds a deployment's settings, the environment\n" +
	"adjusts them per host or container, and a flag adjusts them for one run. A key left out of the\n" +
	"file, or written there with no value, keeps its default.\n\n" +
	"After every layer is applied the configuration is checked as a whole. The first problem stops\n" +
	"Gatehouse with one line naming where the value came from and what is wrong with it, e.g.\n" +
	"`config file gatehouse.yaml: line 4: unknown key \"lisen\" (did you mean \"listen\"?)` or\n" +
	"`GATEHOUSE_PUBLIC_URL: \"ftp://x\": must be an http or https URL`.\n\n" +
	"How values are written:\n\n" +
	"- In the file, keys nest by section: `http.read_timeout` is `read_timeout` under `http:`. Unknown\n" +
	"  keys are errors, so a misspelt key cannot be silently ignored.\n" +
	"- Durations use Go's notation: `90s`, `15m`, `2h30m`; `336h` is 14 days. A bare number is refused.\n" +
	"- Lists are YAML sequences in the file (`[a, b]`) and comma-separated in environment variables\n" +
	"  and flags (`a,b`); a list flag may also be repeated.\n" +
	"- Booleans are `true` or `false` (`1`/`0`, `yes`/`no` and `on`/`off` work too); `dev` also takes\n" +
	"  `auto`, and `--dev` alone means `--dev=true`.\n" +
	"- `secret_key` has no flag, so that it never shows in a process listing: set it in the environment\n" +
	"  or in a file readable only by Gatehouse. Passwords inside URLs and the secret key are masked\n" +
	"  whenever the configuration is logged or reported in an error.\n\n"

const referenceFooter = "\n## The defaults as a file\n\n" +
	"A configuration file that spells out every default; any subset of it is a valid file.\n\n"
