package authserver

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestStorageUsageMetrics: with --storage-dir the front door's /metrics has
// the size of that directory's filesystem as df reports it, and the used
// bytes grow by what is written there (64 MiB of random data, synced; the
// check allows half of it for other writers on the same filesystem). A
// directory that cannot be read gives no figure at all, not a zero.
func TestStorageUsageMetrics(t *testing.T) {
	dir := t.TempDir()
	ts := newTestServer(t, classic, func(o *Options) { o.StorageDir = dir })
	gather := func() (used, size float64) {
		t.Helper()
		mfs, err := ts.metrics.registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, mf := range mfs {
			switch mf.GetName() {
			case "registry_auth_storage_used_bytes":
				used, n = mf.GetMetric()[0].GetGauge().GetValue(), n+1
			case "registry_auth_storage_capacity_bytes":
				size, n = mf.GetMetric()[0].GetGauge().GetValue(), n+1
			}
		}
		if n != 2 {
			t.Fatalf("storage metrics missing (%d of 2)", n)
		}
		return used, size
	}
	used0, size := gather()
	out, err := exec.Command("df", "-B1", "--output=size", dir).Output()
	if err != nil {
		t.Fatalf("df: %v", err)
	}
	lines := strings.Fields(string(out))
	dfSize, err := strconv.ParseFloat(lines[len(lines)-1], 64)
	if err != nil || dfSize != size || used0 <= 0 || used0 > size {
		t.Fatalf("capacity %v (df says %v, %v), used %v", size, dfSize, err, used0)
	}

	const written = 64 << 20
	f, err := os.Create(filepath.Join(dir, "blob"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for range written / len(buf) {
		_, _ = rand.Read(buf)
		if _, err := f.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if used1, _ := gather(); used1-used0 < written/2 {
		t.Errorf("used grew by %.0f bytes after writing %d", used1-used0, written)
	}

	gone := newTestServer(t, classic, func(o *Options) { o.StorageDir = filepath.Join(dir, "missing") })
	if n, err := testutil.GatherAndCount(gone.metrics.registry, "registry_auth_storage_used_bytes"); err != nil || n != 0 {
		t.Errorf("a missing directory reported %d figures (%v)", n, err)
	}
}
