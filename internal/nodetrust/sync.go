// Package nodetrust is the node-trust agent: it makes a node's container
// runtime trust each registry's CA by writing containerd's certs.d layout,
// <host-dir>/<host:port>/ca.crt, from one ConfigMap the operator maintains.
// A ca.crt without hosts.toml is read as the host's CA (containerd v2
// core/remotes/docker/config: loadHostDir falls back to loadCertFiles), at
// each pull, so no runtime restart is needed.
package nodetrust

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const (
	// markerFile marks a host directory as written by the agent; its content
	// names the ConfigMap that owns it, so two installations never remove
	// each other's entries and foreign directories are never touched.
	markerFile = ".registry-auth-operator"
	caFile     = "ca.crt"
)

// Result says what one Sync changed and what it refused.
type Result struct {
	Written, Removed []string
	Skipped          map[string]string // host:port -> reason
}

// Sync makes hostDir hold exactly the entries (host:port -> PEM CA bundle)
// among the directories owned by owner. Invalid entries and directories that
// someone else manages are skipped and reported, never modified.
func Sync(hostDir, owner string, entries map[string][]byte) (Result, error) {
	res := Result{Skipped: map[string]string{}}
	if err := os.MkdirAll(hostDir, 0o755); err != nil {
		return res, err
	}
	var errs []error
	for _, key := range sortedKeys(entries) {
		if err := validHostPort(key); err != nil {
			res.Skipped[key] = err.Error()
			continue
		}
		if err := validBundle(entries[key]); err != nil {
			res.Skipped[key] = err.Error()
			continue
		}
		changed, err := writeEntry(filepath.Join(hostDir, key), owner, entries[key])
		switch {
		case errors.Is(err, errForeign):
			res.Skipped[key] = err.Error()
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		case changed:
			res.Written = append(res.Written, key)
		}
	}
	removed, err := removeStale(hostDir, owner, entries)
	res.Removed = removed
	return res, errors.Join(append(errs, err)...)
}

var errForeign = errors.New("directory exists and is not managed by this agent")

// writeEntry writes dir/ca.crt (atomically, only when it differs) and the marker.
func writeEntry(dir, owner string, bundle []byte) (bool, error) {
	if mk, err := os.ReadFile(filepath.Join(dir, markerFile)); err == nil {
		if string(mk) != owner {
			return false, fmt.Errorf("%w (owned by %s)", errForeign, mk)
		}
	} else if _, statErr := os.Stat(dir); statErr == nil {
		return false, errForeign
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	if err := writeIfChanged(filepath.Join(dir, markerFile), []byte(owner)); err != nil {
		return false, err
	}
	old, _ := os.ReadFile(filepath.Join(dir, caFile))
	if bytes.Equal(old, bundle) {
		return false, nil
	}
	return true, writeIfChanged(filepath.Join(dir, caFile), bundle)
}

func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// removeStale removes the files it wrote in owned directories whose entry is
// gone, and the directory itself when nothing else is left in it.
func removeStale(hostDir, owner string, entries map[string][]byte) ([]string, error) {
	dirents, err := os.ReadDir(hostDir)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, d := range dirents {
		if !d.IsDir() {
			continue
		}
		if _, want := entries[d.Name()]; want && validHostPort(d.Name()) == nil {
			continue
		}
		dir := filepath.Join(hostDir, d.Name())
		mk, err := os.ReadFile(filepath.Join(dir, markerFile))
		if err != nil || string(mk) != owner {
			continue
		}
		for _, f := range []string{caFile, markerFile} {
			if err := os.Remove(filepath.Join(dir, f)); err != nil && !os.IsNotExist(err) {
				errs = append(errs, err)
			}
		}
		if rest, _ := os.ReadDir(dir); len(rest) == 0 {
			if err := os.Remove(dir); err != nil {
				errs = append(errs, err)
			}
		}
		removed = append(removed, d.Name())
	}
	return removed, errors.Join(errs...)
}

// validHostPort accepts "host:port" where host is an IP address or a DNS
// name: anything else could escape hostDir or name a path containerd never reads.
func validHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("not host:port: %w", err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	if len(host) == 0 || len(host) > 253 {
		return fmt.Errorf("bad host %q", host)
	}
	for _, label := range strings.Split(host, ".") {
		if !dnsLabel(label) {
			return fmt.Errorf("bad host %q", host)
		}
	}
	return nil
}

func dnsLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, c := range l {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validBundle requires at least one PEM CERTIFICATE block and nothing that
// is not one (a private key here would be a leak onto every node).
func validBundle(b []byte) error {
	n := 0
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			if len(bytes.TrimSpace(rest)) > 0 && n == 0 {
				return errors.New("not a PEM bundle")
			}
			break
		}
		if blk.Type != "CERTIFICATE" {
			return fmt.Errorf("PEM block %q is not a certificate", blk.Type)
		}
		n++
	}
	if n == 0 {
		return errors.New("no certificate in bundle")
	}
	return nil
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
