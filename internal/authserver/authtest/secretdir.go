package authtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
)

var generation atomic.Int64

// WriteSecretDir lays out files the way the kubelet writes a Secret volume
// and swaps them the way it updates one: the files go into a fresh hidden
// directory, the "..data" symlink is replaced atomically (rename of a
// temporary symlink) to point at it, each visible name is a symlink through
// "..data", and the previous directory is removed. Calling it again on the
// same dir is an update.
func WriteSecretDir(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	gen := fmt.Sprintf("..%d_%d", os.Getpid(), generation.Add(1))
	if err := os.Mkdir(filepath.Join(dir, gen), 0o755); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, gen, name), data, 0o600); err != nil {
			return err
		}
	}
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	tmp := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(gen, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		return err
	}
	for name := range files {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
			return err
		}
	}
	if old != "" && old != gen {
		return os.RemoveAll(filepath.Join(dir, old))
	}
	return nil
}
