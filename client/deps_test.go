package client

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestDependencies fails when package client starts importing anything but
// the standard library and go-jose: backends import it to verify tokens, and
// must not pull in Gatehouse's server or its dependencies (the idea of
// tailscale's tstest/deptest).
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			t.Skip("no go tool")
		}
	}
	allowed := func(pkg string) bool {
		return pkg == "github.com/gatehouse-dev/gatehouse/client" ||
			pkg == "github.com/go-jose/go-jose/v4" ||
			strings.HasPrefix(pkg, "github.com/go-jose/go-jose/v4/")
	}
	for _, platform := range []string{"linux/amd64", "darwin/arm64", "windows/amd64"} {
		t.Run(platform, func(t *testing.T) {
			goos, goarch, _ := strings.Cut(platform, "/")
			cmd := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
			cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			for _, pkg := range strings.Fields(string(out)) {
				if !allowed(pkg) {
					t.Errorf("package client imports %s; only the standard library and go-jose are allowed", pkg)
				}
			}
		})
	}
}
