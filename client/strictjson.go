package client

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// go-jose, like encoding/json, lets the last of two members with the same
// name win. RFC 7519 §4 lets a parser do that or reject, and RFC 8725 §2.6
// warns that parsers which differ here let one token mean two things, so
// Gatehouse rejects: checkJSON runs over the decoded header and payload
// before go-jose sees them. It validates the JSON grammar (RFC 8259) as well,
// so that it cannot be fooled by input the decoder would read differently,
// and bounds the nesting depth. It allocates nothing for inputs whose objects
// have few members and no escaped names.

const (
	maxHeaderDepth  = 1  // the header is a flat object of strings
	maxPayloadDepth = 16 // claims are shallow; 16 leaves room for nested ones
	// Objects with more members than this are checked with a map instead of
	// pairwise comparison, so that a crafted object cannot cost O(n²).
	smallObject = 16
)

var (
	errJSONSyntax    = errors.New("invalid JSON")
	errJSONDuplicate = errors.New("duplicate member name")
	errJSONDepth     = errors.New("JSON nested too deeply")
	errJSONNotObject = errors.New("JSON is not an object")
)

// checkJSON returns an error unless data is exactly one JSON object in valid
// UTF-8 whose objects, at every depth, have unique member names (compared
// after unescaping), nested at most maxDepth deep. If top is not nil, it is
// called with each top-level member name, unescaped; an error from it is
// returned as is.
func checkJSON(data []byte, maxDepth int, top func(name []byte) error) error {
	if !utf8.Valid(data) {
		return errJSONSyntax
	}
	c := jsonChecker{data: data, maxDepth: maxDepth}
	c.space()
	if c.pos >= len(data) || data[c.pos] != '{' {
		return errJSONNotObject
	}
	if err := c.object(top); err != nil {
		return err
	}
	c.space()
	if c.pos != len(data) {
		return errJSONSyntax
	}
	return nil
}

type jsonChecker struct {
	data     []byte
	pos      int
	depth    int
	maxDepth int
}

func (c *jsonChecker) space() {
	for c.pos < len(c.data) {
		switch c.data[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

func (c *jsonChecker) value() error {
	c.space()
	if c.pos >= len(c.data) {
		return errJSONSyntax
	}
	switch b := c.data[c.pos]; {
	case b == '{':
		return c.object(nil)
	case b == '[':
		return c.array()
	case b == '"':
		_, err := c.str()
		return err
	case b == 't':
		return c.literal("true")
	case b == 'f':
		return c.literal("false")
	case b == 'n':
		return c.literal("null")
	case b == '-' || ('0' <= b && b <= '9'):
		return c.number()
	}
	return errJSONSyntax
}

func (c *jsonChecker) object(top func([]byte) error) error {
	if c.depth++; c.depth > c.maxDepth {
		return errJSONDepth
	}
	c.pos++ // '{'
	c.space()
	if c.pos < len(c.data) && c.data[c.pos] == '}' {
		c.pos++
		c.depth--
		return nil
	}
	var small [smallObject][]byte
	names := small[:0]
	var large map[string]struct{}
	for {
		c.space()
		if c.pos >= len(c.data) || c.data[c.pos] != '"' {
			return errJSONSyntax
		}
		name, err := c.str()
		if err != nil {
			return err
		}
		if large == nil {
			for _, n := range names {
				if bytes.Equal(n, name) {
					return fmt.Errorf("%w %q", errJSONDuplicate, name)
				}
			}
			if len(names) < smallObject {
				names = append(names, name)
			} else {
				large = make(map[string]struct{}, 2*smallObject)
				for _, n := range names {
					large[string(n)] = struct{}{}
				}
			}
		}
		if large != nil {
			if _, dup := large[string(name)]; dup {
				return fmt.Errorf("%w %q", errJSONDuplicate, name)
			}
			large[string(name)] = struct{}{}
		}
		if top != nil {
			if err := top(name); err != nil {
				return err
			}
		}
		c.space()
		if c.pos >= len(c.data) || c.data[c.pos] != ':' {
			return errJSONSyntax
		}
		c.pos++
		if err := c.value(); err != nil {
			return err
		}
		c.space()
		if c.pos >= len(c.data) {
			return errJSONSyntax
		}
		switch c.data[c.pos] {
		case ',':
			c.pos++
		case '}':
			c.pos++
			c.depth--
			return nil
		default:
			return errJSONSyntax
		}
	}
}

func (c *jsonChecker) array() error {
	if c.depth++; c.depth > c.maxDepth {
		return errJSONDepth
	}
	c.pos++ // '['
	c.space()
	if c.pos < len(c.data) && c.data[c.pos] == ']' {
		c.pos++
		c.depth--
		return nil
	}
	for {
		if err := c.value(); err != nil {
			return err
		}
		c.space()
		if c.pos >= len(c.data) {
			return errJSONSyntax
		}
		switch c.data[c.pos] {
		case ',':
			c.pos++
		case ']':
			c.pos++
			c.depth--
			return nil
		default:
			return errJSONSyntax
		}
	}
}

// str scans the string at c.pos and returns its unescaped content. Without
// escapes that is a slice of the input; with them it is decoded by
// encoding/json, which knows every escape.
func (c *jsonChecker) str() ([]byte, error) {
	start := c.pos
	escaped := false
	for i := start + 1; i < len(c.data); i++ {
		switch b := c.data[i]; {
		case b == '"':
			c.pos = i + 1
			if !escaped {
				return c.data[start+1 : i], nil
			}
			var s string
			if err := stdjson.Unmarshal(c.data[start:c.pos], &s); err != nil {
				return nil, errJSONSyntax
			}
			return []byte(s), nil
		case b == '\\':
			escaped = true
			i++
			if i >= len(c.data) {
				return nil, errJSONSyntax
			}
			switch c.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(c.data) {
					return nil, errJSONSyntax
				}
				for _, h := range c.data[i+1 : i+5] {
					if !isHex(h) {
						return nil, errJSONSyntax
					}
				}
				i += 4
			default:
				return nil, errJSONSyntax
			}
		case b < 0x20:
			return nil, errJSONSyntax
		}
	}
	return nil, errJSONSyntax
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

func (c *jsonChecker) literal(lit string) error {
	if !bytes.HasPrefix(c.data[c.pos:], []byte(lit)) {
		return errJSONSyntax
	}
	c.pos += len(lit)
	return nil
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, RFC 8259 §6.
func (c *jsonChecker) number() error {
	d := c.data
	if d[c.pos] == '-' {
		c.pos++
	}
	switch {
	case c.pos < len(d) && d[c.pos] == '0':
		c.pos++
	case c.pos < len(d) && '1' <= d[c.pos] && d[c.pos] <= '9':
		c.digits()
	default:
		return errJSONSyntax
	}
	if c.pos < len(d) && d[c.pos] == '.' {
		c.pos++
		if c.digits() == 0 {
			return errJSONSyntax
		}
	}
	if c.pos < len(d) && (d[c.pos] == 'e' || d[c.pos] == 'E') {
		c.pos++
		if c.pos < len(d) && (d[c.pos] == '+' || d[c.pos] == '-') {
			c.pos++
		}
		if c.digits() == 0 {
			return errJSONSyntax
		}
	}
	return nil
}

func (c *jsonChecker) digits() int {
	n := 0
	for c.pos < len(c.data) && '0' <= c.data[c.pos] && c.data[c.pos] <= '9' {
		c.pos++
		n++
	}
	return n
}
