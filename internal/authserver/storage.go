package authserver

import (
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// storageCollector reports the filesystem that holds the registry's blobs
// (--storage-dir: the registry's volume, mounted read-only into the front
// door). It asks the kernel at each scrape (one statfs call, no walk of the
// blobs), so the figures are those of the whole filesystem: exact for a
// volume of the registry's own, such as its PersistentVolumeClaim.
type storageCollector struct {
	dir        string
	used, size *prometheus.Desc
}

func newStorageCollector(dir string) *storageCollector {
	return &storageCollector{
		dir:  dir,
		used: prometheus.NewDesc("registry_auth_storage_used_bytes", "Bytes used on the filesystem holding the registry's storage (statfs).", nil, nil),
		size: prometheus.NewDesc("registry_auth_storage_capacity_bytes", "Size of the filesystem holding the registry's storage (statfs).", nil, nil),
	}
}

func (c *storageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.used; ch <- c.size }

// Collect sends nothing when statfs fails: a missing figure, not a false zero.
func (c *storageCollector) Collect(ch chan<- prometheus.Metric) {
	used, size, err := storageUsage(c.dir)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.used, prometheus.GaugeValue, float64(used))
	ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(size))
}

// storageUsage: used counts the blocks that are not free (root's reserve
// included, as df's "Used" does not: df subtracts it from the size).
func storageUsage(dir string) (used, size uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	bs := uint64(st.Bsize)
	return (st.Blocks - st.Bfree) * bs, st.Blocks * bs, nil
}
