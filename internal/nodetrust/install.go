package nodetrust

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DefaultProviderName is the file name the binary gets in the kubelet's
// --image-credential-provider-bin-dir; the kubelet's CredentialProviderConfig
// names the provider by it (providers[].name).
const DefaultProviderName = "registry-auth-credential-provider"

// InstallProvider copies the executable at src to dir/name, for the kubelet
// to run as a credential provider (our binary's credential-provider
// subcommand). Atomic: written to a temporary file in dir, synced, made
// executable, then renamed over the old one, so a kubelet executing the
// provider at that moment runs the old or the new binary, never half of
// one. Nothing is written when the file already holds the same bytes.
// changed says whether it was replaced.
func InstallProvider(src, dir, name string) (changed bool, err error) {
	want, err := os.ReadFile(src)
	if err != nil {
		return false, err
	}
	dst := filepath.Join(dir, name)
	if have, err := os.ReadFile(dst); err == nil && bytes.Equal(have, want) {
		if fi, err := os.Stat(dst); err == nil && fi.Mode().Perm() == 0o755 {
			return false, nil
		}
	}
	tmp, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name()) // after the rename: no such file, harmless
	if _, err := io.Copy(tmp, bytes.NewReader(want)); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return false, fmt.Errorf("installing %s: %w", dst, err)
	}
	return true, nil
}
