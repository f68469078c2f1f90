package nodetrust

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestInstallProvider(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(t.TempDir(), "bin")
	write := func(b string) {
		if err := os.WriteFile(src, []byte(b), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(dir, DefaultProviderName)
	check := func(wantChanged, changed bool, want string) {
		t.Helper()
		if changed != wantChanged {
			t.Errorf("changed = %v, want %v", changed, wantChanged)
		}
		got, err := os.ReadFile(dst)
		if err != nil || !bytes.Equal(got, []byte(want)) {
			t.Fatalf("installed %q (%v), want %q", got, err, want)
		}
		fi, _ := os.Stat(dst)
		if fi.Mode().Perm() != 0o755 {
			t.Errorf("mode %v, want 0755", fi.Mode())
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
			t.Errorf("temporary files left: %v", left)
		}
	}

	// A placeholder the node's provisioning put there (the kubelet refuses
	// to start without the file) is replaced.
	if err := os.WriteFile(dst, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("v1")
	changed, err := InstallProvider(src, dir, DefaultProviderName)
	if err != nil {
		t.Fatal(err)
	}
	check(true, changed, "v1")

	changed, err = InstallProvider(src, dir, DefaultProviderName)
	if err != nil {
		t.Fatal(err)
	}
	check(false, changed, "v1")

	// Same bytes, wrong mode: made executable again.
	if err := os.Chmod(dst, 0o600); err != nil {
		t.Fatal(err)
	}
	changed, err = InstallProvider(src, dir, DefaultProviderName)
	if err != nil {
		t.Fatal(err)
	}
	check(true, changed, "v1")

	write("v2")
	changed, err = InstallProvider(src, dir, DefaultProviderName)
	if err != nil {
		t.Fatal(err)
	}
	check(true, changed, "v2")

	if _, err := InstallProvider(src, filepath.Join(dir, "missing"), DefaultProviderName); err == nil {
		t.Error("installing into a missing directory succeeded")
	}
}
