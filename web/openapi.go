package web

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// openAPIYAML is the OpenAPI description of the JSON API. It is kept as YAML
// for people to edit, and served as JSON at GET /api/openapi.json.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// openAPIDocument is the description converted to JSON, with its ETag.
type openAPIDocument struct {
	json []byte
	etag string
}

// openAPIRoot is the description for a server at the root of its host,
// converted once when the program starts. A conversion error is kept for the
// handler to report (and for the tests to catch), rather than stopping the
// program over its documentation.
var openAPIRoot, openAPIErr = convertOpenAPI(openAPIYAML, "")

// openAPIPrefixed holds the description for servers mounted under a path
// prefix, by prefix: its servers entry names the prefix, since every path
// moves under it.
var openAPIPrefixed sync.Map // string → *openAPIDocument

// openAPIFor returns the description for a server whose public URL has the
// path prefix base ("" at the root).
func openAPIFor(base string) (*openAPIDocument, error) {
	if openAPIErr != nil || base == "" {
		return openAPIRoot, openAPIErr
	}
	if d, ok := openAPIPrefixed.Load(base); ok {
		return d.(*openAPIDocument), nil
	}
	d, err := convertOpenAPI(openAPIYAML, base)
	if err != nil {
		return nil, err
	}
	actual, _ := openAPIPrefixed.LoadOrStore(base, d)
	return actual.(*openAPIDocument), nil
}

// openAPI serves the description. It changes only with the binary, so
// clients may cache it, and revalidate it with its ETag.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := openAPIFor(s.base)
	if err != nil {
		s.writeJSONError(w, r, auth.Internal(fmt.Errorf("openapi.yaml: %w", err)))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", doc.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(doc.json))
}

// convertOpenAPI turns the YAML description into JSON. It walks the YAML node
// tree rather than decoding into maps, so that the JSON keeps the document's
// order (openapi, info, servers, paths, components) and every mapping key is a
// string, whatever it looks like in YAML (such as a status code '200'). When
// serverURL is not empty, it replaces the url of every servers entry.
func convertOpenAPI(src []byte, serverURL string) (*openAPIDocument, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, err
	}
	c := yamlToJSON{serverURL: serverURL}
	if err := c.node(&root, "", 0); err != nil {
		return nil, err
	}
	out := c.buf.Bytes()
	if !json.Valid(out) {
		return nil, errors.New("conversion produced invalid JSON")
	}
	sum := sha256.Sum256(out)
	return &openAPIDocument{json: out, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}, nil
}

// yamlToJSON writes a YAML node tree as JSON.
type yamlToJSON struct {
	buf       bytes.Buffer
	serverURL string
}

// maxYAMLDepth bounds nesting, aliases included.
const maxYAMLDepth = 100

func (c *yamlToJSON) node(n *yaml.Node, path string, depth int) error {
	if depth > maxYAMLDepth {
		return fmt.Errorf("%s: nested too deeply", path)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return errors.New("want exactly one YAML document")
		}
		return c.node(n.Content[0], path, depth+1)
	case yaml.AliasNode:
		return c.node(n.Alias, path, depth+1)
	case yaml.MappingNode:
		c.buf.WriteByte('{')
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return fmt.Errorf("%s (line %d): only plain keys are supported", path, k.Line)
			}
			if seen[k.Value] {
				return fmt.Errorf("%s (line %d): duplicate key %q", path, k.Line, k.Value)
			}
			seen[k.Value] = true
			if i > 0 {
				c.buf.WriteByte(',')
			}
			if err := c.value(k.Value); err != nil {
				return err
			}
			c.buf.WriteByte(':')
			if err := c.node(v, path+"/"+k.Value, depth+1); err != nil {
				return err
			}
		}
		c.buf.WriteByte('}')
	case yaml.SequenceNode:
		c.buf.WriteByte('[')
		for i, item := range n.Content {
			if i > 0 {
				c.buf.WriteByte(',')
			}
			if err := c.node(item, fmt.Sprintf("%s/%d", path, i), depth+1); err != nil {
				return err
			}
		}
		c.buf.WriteByte(']')
	case yaml.ScalarNode:
		if c.serverURL != "" && isServerURL(path) {
			return c.value(c.serverURL)
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("%s (line %d): %w", path, n.Line, err)
		}
		if err := c.value(v); err != nil {
			return fmt.Errorf("%s (line %d): %w", path, n.Line, err)
		}
	default:
		return fmt.Errorf("%s (line %d): unsupported YAML node", path, n.Line)
	}
	return nil
}

// isServerURL reports whether path is /servers/<i>/url.
func isServerURL(path string) bool {
	rest, ok := strings.CutPrefix(path, "/servers/")
	if !ok {
		return false
	}
	i, ok := strings.CutSuffix(rest, "/url")
	return ok && i != "" && !strings.Contains(i, "/")
}

// value writes one JSON value, leaving <, > and & readable.
func (c *yamlToJSON) value(v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	c.buf.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return nil
}
