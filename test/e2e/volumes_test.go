package e2e

import (
	"testing"
)

// freshNamespaceWithVolume starts a test from an empty namespace ns and a
// static hostPath PersistentVolume pv at dir, reserved for the claim
// ns/claim (storage class "", reclaim policy Retain); both are removed when
// the test ends. A kept cluster (E2E_KEEP) may still hold an earlier run's
// namespace and volume, bound to a directory that is gone: neither is reused.
func (e *env) freshNamespaceWithVolume(t *testing.T, ns, pv, claim, accessMode, dir string) {
	t.Helper()
	e.kubeOK(t, "delete", "namespace", ns, "--ignore-not-found", "--wait=true", "--timeout=3m")
	e.kubeOK(t, "delete", "pv", pv, "--ignore-not-found", "--wait=true", "--timeout=1m")
	e.kubeOK(t, "create", "namespace", ns)
	t.Cleanup(func() {
		_, _ = e.kube("", "delete", "namespace", ns, "--wait=true", "--timeout=2m")
		_, _ = e.kube("", "delete", "pv", pv, "--wait=false")
	})
	e.apply(t, map[string]any{
		"apiVersion": "v1", "kind": "PersistentVolume",
		"metadata": map[string]any{"name": pv},
		"spec": map[string]any{
			"capacity":                      map[string]any{"storage": "1Gi"},
			"accessModes":                   []string{accessMode},
			"persistentVolumeReclaimPolicy": "Retain",
			"storageClassName":              "",
			"hostPath":                      map[string]any{"path": dir, "type": "Directory"},
			"claimRef":                      map[string]any{"namespace": ns, "name": claim},
		},
	})
}
