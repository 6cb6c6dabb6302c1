package web

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var updateSDK = flag.Bool("update", false, "rewrite web/sdk/gatehouse.js from gatehouse.mjs")

// sdkBudget is the most gatehouse.js may weigh gzipped.
const sdkBudget = 30 << 10

// TestSDKClassicScript checks that the committed classic script is the one
// generated from the module source; -update writes it.
func TestSDKClassicScript(t *testing.T) {
	mjs, err := os.ReadFile("sdk/gatehouse.mjs")
	if err != nil {
		t.Fatal(err)
	}
	want := classicSDK(mjs)
	if *updateSDK {
		if err := os.WriteFile("sdk/gatehouse.js", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("sdk/gatehouse.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("web/sdk/gatehouse.js is stale: run go test ./web -run TestSDKClassicScript -update")
	}
	if bytes.Contains(got, []byte("\nexport ")) || !bytes.Contains(got, []byte("globalThis.Gatehouse = Gatehouse;")) {
		t.Error("gatehouse.js still exports, or does not set globalThis.Gatehouse")
	}
}

// TestSDKSize prints the gzipped size of gatehouse.js and fails above the
// budget.
func TestSDKSize(t *testing.T) {
	for _, a := range SDK() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(a.body)
		zw.Close()
		t.Logf("%s: %d bytes, %d bytes gzipped (budget %d), integrity %s", a.Name, a.Size, buf.Len(), sdkBudget, a.Integrity)
		if buf.Len() > sdkBudget {
			t.Errorf("%s is %d bytes gzipped, want at most %d", a.Name, buf.Len(), sdkBudget)
		}
	}
}

// TestSDKSource keeps the SDK free of what a strict CSP or the token rules
// forbid.
func TestSDKSource(t *testing.T) {
	src := string(sdkAssets["gatehouse.mjs"].body)
	for _, bad := range []string{"eval(", "new Function", "localStorage", "sessionStorage", ".style.", "style=", "innerHTML", "document.cookie"} {
		if strings.Contains(stripComments(src), bad) {
			t.Errorf("gatehouse.mjs uses %q", bad)
		}
	}
}

func stripComments(src string) string {
	var out []string
	for _, l := range strings.Split(src, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "//") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestSDKServing(t *testing.T) {
	srv := newSDKTestServer(t)
	js := sdkAssets["gatehouse.js"]
	tests := []struct {
		path, ifNoneMatch string
		status            int
		cache             string
	}{
		{"/sdk/gatehouse.js", "", http.StatusOK, "public, max-age=300"},
		{"/sdk/gatehouse.mjs", "", http.StatusOK, "public, max-age=300"},
		{js.Path(), "", http.StatusOK, "public, max-age=31536000, immutable"},
		{"/sdk/gatehouse.js", js.etag, http.StatusNotModified, "public, max-age=300"},
		{"/sdk/000000000000/gatehouse.js", "", http.StatusNotFound, ""},
		{"/sdk/other.js", "", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.path, nil)
			if tt.ifNoneMatch != "" {
				r.Header.Set("If-None-Match", tt.ifNoneMatch)
			}
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("GET %s: got status %d, want %d", tt.path, w.Code, tt.status)
			}
			if tt.status == http.StatusNotFound {
				return
			}
			if got := w.Header().Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.cache)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin = %q, want *", got)
			}
			if tt.status == http.StatusOK {
				if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
					t.Errorf("Content-Type = %q, want text/javascript", ct)
				}
			}
		})
	}
}

// newSDKTestServer is a server on SQLite with one allowed origin.
func newSDKTestServer(t *testing.T) *Server {
	t.Helper()
	return newEnv(t, storetestSQLite(t), func(c *Config) { c.AllowedOrigins = []string{"http://app.example"} }).web
}

// TestAdminSDKPage shows admins the pinned URLs and integrity hashes.
func TestAdminSDKPage(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	admin, user, _, _ := adminEnv(t, env)
	r := env.do(admin, "GET", "/admin/sdk", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /admin/sdk as an admin: got status %d, want %d", r.status, http.StatusOK)
	}
	for _, a := range SDK() {
		if body := html.UnescapeString(r.body); !strings.Contains(body, a.Integrity) || !strings.Contains(body, a.Path()) {
			t.Errorf("the SDK page lacks %s's path %s or integrity %s", a.Name, a.Path(), a.Integrity)
		}
	}
	if r := env.do(user, "GET", "/admin/sdk", nil); r.status != http.StatusForbidden {
		t.Errorf("GET /admin/sdk as a user: got status %d, want %d", r.status, http.StatusForbidden)
	}
}

// TestSDKDocs keeps docs/sdk.md's size figure and Subresource Integrity
// example those of the SDK being served; -update rewrites them.
func TestSDKDocs(t *testing.T) {
	const path = "../docs/sdk.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a := sdkAssets["gatehouse.js"]
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(a.body)
	zw.Close()
	size := regexp.MustCompile(`gatehouse\.js is [0-9,]+ bytes, \*\*[0-9,]+ bytes gzipped\*\*`)
	pin := regexp.MustCompile(`/sdk/[0-9a-f]{12}/gatehouse\.js"\n(\s+)integrity="sha384-[A-Za-z0-9+/=]+"`)
	if !size.Match(doc) || !pin.Match(doc) {
		t.Fatalf("%s has no size figure or integrity example to check", path)
	}
	want := size.ReplaceAll(doc, []byte(fmt.Sprintf("gatehouse.js is %s bytes, **%s bytes gzipped**", thousands(a.Size), thousands(gz.Len()))))
	want = pin.ReplaceAll(want, []byte("/sdk/"+a.Version+"/gatehouse.js\"\n${1}integrity=\""+a.Integrity+"\""))
	if *updateSDK {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		doc = want
	}
	if !bytes.Equal(doc, want) {
		t.Errorf("%s shows another size or integrity than the SDK's (%s, %s): run go test ./web -run TestSDKDocs -update", path, a.Version, a.Integrity)
	}
}

// thousands writes n with commas: 24249 → 24,249.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
