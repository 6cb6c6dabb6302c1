package web

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// openAPIMethods are the operations a Path Item may hold.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// describedRoute reports whether a route pattern's path belongs in the API
// description: the JSON API, the well-known documents and the health checks.
func describedRoute(path string) bool {
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/.well-known/") ||
		path == "/healthz" || path == "/readyz"
}

// splitPattern splits a ServeMux pattern ("METHOD [host]/path" or
// "[host]/path") into its method ("" for any) and its path in OpenAPI's
// syntax: "{name...}" becomes "{name}" and a trailing "{$}" goes.
func splitPattern(pattern string) (method, path string) {
	if m, rest, ok := strings.Cut(pattern, " "); ok {
		method, pattern = m, strings.TrimLeft(rest, " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // drop a host
	}
	path = strings.TrimSuffix(pattern, "{$}")
	path = strings.ReplaceAll(path, "...}", "}")
	return method, path
}

// loadOpenAPI returns the served description, decoded.
func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	if openAPIErr != nil {
		t.Fatalf("web/openapi.yaml does not convert to JSON: %v", openAPIErr)
	}
	var doc map[string]any
	if err := json.Unmarshal(openAPIRoot.json, &doc); err != nil {
		t.Fatalf("the JSON of web/openapi.yaml does not parse: %v", err)
	}
	return doc
}

// operations lists the operations of a decoded description as
// "METHOD /path" → operation.
func operations(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatal("web/openapi.yaml has no paths")
	}
	ops := map[string]map[string]any{}
	for path, item := range paths {
		item, ok := item.(map[string]any)
		if !ok {
			t.Errorf("web/openapi.yaml: paths.%s is not an object", path)
			continue
		}
		for _, m := range openAPIMethods {
			if op, ok := item[m].(map[string]any); ok {
				ops[strings.ToUpper(m)+" "+path] = op
			}
		}
	}
	return ops
}

// TestOpenAPICoversEveryRoute keeps web/openapi.yaml in step with
// web/routes.go: every API route is described, and nothing else is.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	doc := loadOpenAPI(t)
	ops := operations(t, doc)
	paths := doc["paths"].(map[string]any)

	registered := map[string]bool{} // "METHOD /path", or "/path" for any method
	for _, pattern := range env.web.patterns {
		method, path := splitPattern(pattern)
		if !describedRoute(path) {
			continue
		}
		if method == "" {
			registered[path] = true
			item, _ := paths[path].(map[string]any)
			if !slices.ContainsFunc(openAPIMethods, func(m string) bool { return item[m] != nil }) {
				t.Errorf("route %q is registered in web/routes.go but not described in web/openapi.yaml: "+
					"add the path %q under paths: with an operation for each method it answers "+
					"(summary, security, request body, every response status)", pattern, path)
			}
			continue
		}
		registered[method+" "+path] = true
		if _, ok := ops[method+" "+path]; !ok {
			t.Errorf("route %q is registered in web/routes.go but not described in web/openapi.yaml: "+
				"add a %q operation under paths: → %q (summary, security, request body if it takes one, "+
				"every response status with its schema, as the other operations there do)",
				pattern, strings.ToLower(method), path)
		}
	}
	if len(registered) == 0 {
		t.Fatal("the server registered no API routes; is Server.patterns still filled in by routes()?")
	}

	for key := range ops {
		method, path, _ := strings.Cut(key, " ")
		if registered[key] || registered[path] || (method == "HEAD" && registered["GET "+path]) {
			continue
		}
		t.Errorf("web/openapi.yaml describes %s %s, but web/routes.go registers no such route: "+
			"remove it from web/openapi.yaml, or correct its path or method", method, path)
	}
}

// TestOpenAPIDocument checks that the description is complete in itself:
// every operation has a summary, security and documented responses, every
// reference resolves, and the error responses carry their headers.
func TestOpenAPIDocument(t *testing.T) {
	doc := loadOpenAPI(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi = %q, want a 3.x version", v)
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] != "Gatehouse" || info["version"] == "" || info["description"] == "" {
		t.Errorf("info = %v, want the title Gatehouse, a version and a description", info)
	}
	servers, _ := doc["servers"].([]any)
	if len(servers) != 1 || servers[0].(map[string]any)["url"] != "/" {
		t.Errorf("servers = %v, want one with the relative URL /", servers)
	}

	resolve := func(v any) (map[string]any, bool) {
		m, ok := v.(map[string]any)
		for i := 0; ok && i < 10; i++ {
			ref, isRef := m["$ref"].(string)
			if !isRef {
				return m, true
			}
			m, ok = jsonPointer(doc, ref).(map[string]any)
		}
		return m, ok
	}
	walkRefs(doc, "", func(where, ref string) {
		if jsonPointer(doc, ref) == nil {
			t.Errorf("web/openapi.yaml: %s refers to %q, which does not exist", where, ref)
		}
	})

	schemes, _ := jsonPointer(doc, "#/components/securitySchemes").(map[string]any)
	for _, name := range []string{"bearerAuth", "apiKey", "cookieAuth"} {
		if schemes[name] == nil {
			t.Errorf("web/openapi.yaml lacks the security scheme %s", name)
		}
	}

	pathParam := regexp.MustCompile(`\{([^}]+)\}`)
	ids := map[string]string{}
	for key, op := range operations(t, doc) {
		_, path, _ := strings.Cut(key, " ")
		where := "web/openapi.yaml: " + key
		if s, _ := op["summary"].(string); s == "" {
			t.Errorf("%s has no summary", where)
		}
		if id, _ := op["operationId"].(string); id == "" {
			t.Errorf("%s has no operationId", where)
		} else if other, dup := ids[id]; dup {
			t.Errorf("%s repeats the operationId %q of %s", where, id, other)
		} else {
			ids[id] = key
		}
		security, ok := op["security"].([]any)
		if !ok {
			t.Errorf("%s does not state its security (use security: [] for a public endpoint)", where)
		}
		for _, req := range security {
			for name := range req.(map[string]any) {
				if schemes[name] == nil {
					t.Errorf("%s names the undefined security scheme %q", where, name)
				}
			}
		}

		// Every path parameter is declared, on the path or the operation.
		declared := map[string]bool{}
		item := doc["paths"].(map[string]any)[path].(map[string]any)
		for _, list := range []any{item["parameters"], op["parameters"]} {
			params, _ := list.([]any)
			for _, p := range params {
				if p, ok := resolve(p); ok && p["in"] == "path" {
					declared[p["name"].(string)] = true
				}
			}
		}
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s does not declare the path parameter %q", where, m[1])
			}
		}

		responses, _ := op["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s lists no responses", where)
		}
		for status, resp := range responses {
			r, ok := resolve(resp)
			if !ok {
				t.Errorf("%s: response %s does not resolve", where, status)
				continue
			}
			if d, _ := r["description"].(string); d == "" {
				t.Errorf("%s: response %s has no description", where, status)
			}
			headers, _ := r["headers"].(map[string]any)
			if status == "401" && headers["WWW-Authenticate"] == nil {
				t.Errorf("%s: response 401 lacks the WWW-Authenticate header", where)
			}
			if status == "429" && headers["Retry-After"] == nil {
				t.Errorf("%s: response 429 lacks the Retry-After header", where)
			}
			if status >= "400" && status < "500" || status == "500" {
				content, _ := r["content"].(map[string]any)
				media, _ := content["application/json"].(map[string]any)
				if schema, _ := media["schema"].(map[string]any); schema["$ref"] != "#/components/schemas/Error" {
					t.Errorf("%s: response %s does not use the Error schema", where, status)
				}
			}
		}
	}
}

// jsonPointer resolves a local reference such as "#/components/schemas/User",
// or returns nil.
func jsonPointer(doc any, ref string) any {
	rest, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil
	}
	cur := doc
	for _, tok := range strings.Split(rest, "/")[1:] {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[tok]; !ok {
			return nil
		}
	}
	return cur
}

// walkRefs calls fn for every "$ref" in v.
func walkRefs(v any, where string, fn func(where, ref string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if ref, ok := child.(string); ok && k == "$ref" {
				fn(where, ref)
				continue
			}
			walkRefs(child, where+"/"+k, fn)
		}
	case []any:
		for _, child := range v {
			walkRefs(child, where, fn)
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	r := env.do(nil, "GET", "/api/openapi.json", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/openapi.json = %d %s", r.status, r.body)
	}
	if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", r.header.Get("Content-Type"))
	}
	if cc := r.header.Get("Cache-Control"); strings.Contains(cc, "no-store") || !strings.Contains(cc, "max-age=") {
		t.Errorf("Cache-Control = %q, want one that allows caching", cc)
	}
	dec := json.NewDecoder(strings.NewReader(r.body))
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		t.Fatalf("the body does not start with an object: %.80s", r.body)
	}
	if tok, _ := dec.Token(); tok != "openapi" {
		t.Errorf("the first member is %v, want openapi", tok)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil || doc["paths"] == nil {
		t.Fatalf("the body is not the description: %v", err)
	}
	if r.body != string(openAPIRoot.json) {
		t.Error("the served body differs from the converted web/openapi.yaml")
	}
	etag := r.header.Get("ETag")
	if r := env.do(nil, "GET", "/api/openapi.json", nil, "If-None-Match", etag); etag == "" || r.status != http.StatusNotModified {
		t.Errorf("GET with If-None-Match %q = %d, want 304", etag, r.status)
	}

	// Mounted under a prefix, the description's server names it.
	prefixed, err := New(Config{Accounts: env.accounts, Sessions: env.sessions, PublicURL: "https://id.example.com/auth", Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	prefixed.ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
	var pdoc struct {
		Servers []struct{ URL string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &pdoc); rec.Code != 200 || err != nil || len(pdoc.Servers) != 1 || pdoc.Servers[0].URL != "/auth" {
		t.Errorf("description under /auth = %d, servers %+v (%v); want the server /auth", rec.Code, pdoc.Servers, err)
	}
}

func TestConvertOpenAPIYAML(t *testing.T) {
	src := `
b: 1
a: &list [x, 'y', 2, true, null, 1.5]
responses:
  200: { description: ok }
  '404': { description: "<missing> & gone" }
again: *list
servers:
  - url: /
    description: here
`
	d, err := convertOpenAPI([]byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b":1,"a":["x","y",2,true,null,1.5],"responses":{"200":{"description":"ok"},"404":{"description":"<missing> & gone"}},` +
		`"again":["x","y",2,true,null,1.5],"servers":[{"url":"/","description":"here"}]}`
	if string(d.json) != want {
		t.Errorf("convertOpenAPI =\n%s\nwant\n%s", d.json, want)
	}
	d, err = convertOpenAPI([]byte(src), "/auth")
	if err != nil || !strings.Contains(string(d.json), `"servers":[{"url":"/auth","description":"here"}]`) {
		t.Errorf("convertOpenAPI with a prefix = %s, %v", d.json, err)
	}
	for _, bad := range []string{"a: 1\na: 2\n", "a: [\n", "? [a]\n: 1\n", "base: &b {x: 1}\nc:\n  <<: *b\n", "x: .nan\n"} {
		if _, err := convertOpenAPI([]byte(bad), ""); err == nil {
			t.Errorf("convertOpenAPI(%q) succeeded, want an error", bad)
		}
	}
}
