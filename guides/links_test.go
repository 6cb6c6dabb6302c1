package guides

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"
)

// linkedDocuments returns the Markdown files whose links are checked: the
// README and every .md file under docs, relative to the repository root.
func linkedDocuments(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files[1:])
	return files
}

var (
	// inlineLink matches [text](target) and ![alt](target), with an optional
	// title after the target.
	inlineLink = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	// referenceLink matches a reference definition, [label]: target.
	referenceLink = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s+<?([^\s>]+)>?`)
	// codeSpan matches inline code, whose text is not a link.
	codeSpan = regexp.MustCompile("`+[^`]*`+")
	// htmlAnchor matches an explicit anchor in HTML outside code.
	htmlAnchor = regexp.MustCompile(`<a\s+(?:name|id)="([^"]+)"`)
	// heading matches an ATX heading.
	heading = regexp.MustCompile(`^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$`)
)

// mdLink is one link of a document, with the line it is on.
type mdLink struct {
	line   int
	target string
}

// parseMarkdown returns a document's links and the anchors of its headings,
// leaving out fenced code blocks and inline code.
func parseMarkdown(text string) (links []mdLink, anchors map[string]bool) {
	anchors = map[string]bool{}
	seen := map[string]int{}
	fence := ""
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			c := trimmed[:1]
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, c))]
			continue
		}
		if m := heading.FindStringSubmatch(line); m != nil {
			slug := githubSlug(m[1])
			if n, dup := seen[slug]; dup {
				seen[slug] = n + 1
				slug = fmt.Sprintf("%s-%d", slug, n+1)
			} else {
				seen[slug] = 0
			}
			anchors[slug] = true
		}
		for _, m := range htmlAnchor.FindAllStringSubmatch(line, -1) {
			anchors[m[1]] = true
		}
		plain := codeSpan.ReplaceAllString(line, "")
		for _, m := range inlineLink.FindAllStringSubmatch(plain, -1) {
			links = append(links, mdLink{line: i + 1, target: m[1]})
		}
		if m := referenceLink.FindStringSubmatch(plain); m != nil {
			links = append(links, mdLink{line: i + 1, target: m[1]})
		}
	}
	return links, anchors
}

var mdLinkText = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)

// githubSlug is the anchor GitHub gives a heading: the heading's text
// (without Markdown), lowercased, with every character but letters, digits,
// spaces, hyphens and underscores dropped, and spaces turned into hyphens.
func githubSlug(h string) string {
	h = mdLinkText.ReplaceAllString(h, "$1")
	h = strings.NewReplacer("`", "", "*", "").Replace(h)
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocLinks checks every relative link of the README and of docs: the
// file or directory it names exists, and a #fragment names a heading of the
// Markdown file it points into.
func TestDocLinks(t *testing.T) {
	anchorsOf := map[string]map[string]bool{}
	anchors := func(file string) (map[string]bool, error) {
		if a, ok := anchorsOf[file]; ok {
			return a, nil
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			return nil, err
		}
		_, a := parseMarkdown(string(b))
		anchorsOf[file] = a
		return a, nil
	}
	checked := 0
	for _, file := range linkedDocuments(t) {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			t.Fatal(err)
		}
		links, _ := parseMarkdown(string(b))
		for _, l := range links {
			if strings.Contains(l.target, "://") || strings.HasPrefix(l.target, "mailto:") {
				continue
			}
			checked++
			target, fragment, _ := strings.Cut(l.target, "#")
			resolved := file
			if target != "" {
				if strings.HasPrefix(target, "/") {
					t.Errorf("%s:%d: link %q is absolute; use a path relative to the document", file, l.line, l.target)
					continue
				}
				resolved = path.Join(path.Dir(file), target)
				if strings.HasPrefix(resolved, "../") {
					t.Errorf("%s:%d: link %q leaves the repository", file, l.line, l.target)
					continue
				}
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(resolved))); err != nil {
					t.Errorf("%s:%d: link %q: %s does not exist", file, l.line, l.target, resolved)
					continue
				}
			}
			if fragment == "" {
				continue
			}
			if !strings.HasSuffix(resolved, ".md") {
				t.Errorf("%s:%d: link %q has an anchor into a file that is not Markdown", file, l.line, l.target)
				continue
			}
			a, err := anchors(resolved)
			if err != nil {
				t.Errorf("%s:%d: link %q: %v", file, l.line, l.target, err)
				continue
			}
			if !a[strings.ToLower(fragment)] {
				t.Errorf("%s:%d: link %q: %s has no heading with the anchor #%s", file, l.line, l.target, resolved, fragment)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no relative links found; is the parser broken?")
	}
}

// TestGithubSlug pins the anchor rules on headings of the documents.
func TestGithubSlug(t *testing.T) {
	for h, want := range map[string]string{
		"User import (`accounts`)":                   "user-import-accounts",
		"2. Create an API key for the backend":       "2-create-an-api-key-for-the-backend",
		"Session theft and fixation":                 "session-theft-and-fixation",
		"SQLite — 100,000 users, 1,000,000 sessions": "sqlite--100000-users-1000000-sessions",
		"Cross-origin calls: CORS and CSRF":          "cross-origin-calls-cors-and-csrf",
		"The [client](client.md) package_name":       "the-client-package_name",
	} {
		if got := githubSlug(h); got != want {
			t.Errorf("githubSlug(%q) = %q, want %q", h, got, want)
		}
	}
}
