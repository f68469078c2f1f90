package dataplane

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Binaries every test uses, resolved once in TestMain.
var (
	registryBin string // distribution v3.1.2
	authBin     string // authserver.Main as a process (see cmd/auth-server)
	repoRoot    string
)

func TestMain(m *testing.M) {
	code, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dataplane setup:", err)
		os.Exit(1)
	}
	if code == 0 {
		code = m.Run()
	}
	if os.Getenv("DATAPLANE_AUTH_BIN") == "" {
		os.RemoveAll(filepath.Dir(authBin))
	}
	os.Exit(code)
}

func setup() (int, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return 1, fmt.Errorf("go env GOMOD: %w", err)
	}
	repoRoot = filepath.Dir(strings.TrimSpace(string(out)))
	registryBin = os.Getenv("REGISTRY_BIN")
	if registryBin == "" {
		// Not run through make: build (or reuse) the cached registry the same way.
		cmd := exec.Command(filepath.Join(repoRoot, "hack/build-tools.sh"), "registry")
		cmd.Stderr = os.Stderr
		dir, err := cmd.Output()
		if err != nil {
			return 1, fmt.Errorf("hack/build-tools.sh registry: %w", err)
		}
		registryBin = filepath.Join(strings.TrimSpace(string(dir)), "registry")
	}
	if _, err := os.Stat(registryBin); err != nil {
		return 1, fmt.Errorf("registry binary: %w", err)
	}
	if authBin = os.Getenv("DATAPLANE_AUTH_BIN"); authBin != "" {
		return 0, nil // a re-run inside a network namespace: the parent built it
	}
	tmp, err := os.MkdirTemp("", "dataplane-bin-")
	if err != nil {
		return 1, err
	}
	authBin = filepath.Join(tmp, "auth-server")
	build := exec.Command("go", "build", "-o", authBin, "./test/dataplane/cmd/auth-server")
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := build.Run(); err != nil {
		return 1, fmt.Errorf("building auth-server: %w", err)
	}
	return 0, nil
}

// need returns the path of a command the test needs. Without it the test is
// skipped with the reason, unless DATAPLANE_STRICT=1 (set by make), where a
// missing part is a failure: nothing may be skipped there.
func need(t testing.TB, cmd string) string {
	t.Helper()
	p, err := exec.LookPath(cmd)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not installed (hack/install-deps.sh installs it)", cmd)
	if os.Getenv("DATAPLANE_STRICT") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
