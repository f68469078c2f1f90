package chart

import (
	"strings"
	"testing"
)

// TestHelmBuildKnowsItsVersions: the helm that hack/build-tools.sh builds
// carries helm's version ldflags, so it names its own version and, with no
// cluster to ask, assumes the Kubernetes of its client libraries (not
// v1.20): `helm template` passes the chart's kubeVersion constraint without
// a --kube-version workaround.
func TestHelmBuildKnowsItsVersions(t *testing.T) {
	helm := tool(t, "helm", "helm")
	v, err := run(t, helm, "version", "--template", "{{.Version}}")
	if err != nil || !strings.HasPrefix(v, "v3.") || strings.Count(v, ".") != 2 {
		t.Errorf("helm version = %q (%v): built without its version ldflags", v, err)
	}
	if _, err := run(t, helm, "template", release, chartDir, "--namespace", namespace); err != nil {
		t.Fatalf("helm template without --kube-version: %v", err)
	}
}
