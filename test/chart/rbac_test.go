package chart

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestManagerRBACMatchesMarkers regenerates the ClusterRole (as make manifests does) from the
// controllers' +kubebuilder:rbac markers and requires config/rbac/role.yaml
// and the chart's ClusterRole to grant exactly the same.
func TestManagerRBACMatchesMarkers(t *testing.T) {
	out := t.TempDir()
	gen := tool(t, "controller-gen", "controller-gen")
	if _, err := run(t, gen, "rbac:roleName="+release, "paths=./...", "output:rbac:artifacts:config="+out); err != nil {
		t.Fatalf("controller-gen: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fromMarkers := find(t, decode(t, string(b)), "ClusterRole", release).Object["rules"]
	inConfig := find(t, decodeFile(t, "config/rbac/role.yaml"), "ClusterRole", release).Object["rules"]
	inChart := find(t, mustHelmTemplate(t), "ClusterRole", release).Object["rules"]

	if !reflect.DeepEqual(fromMarkers, inConfig) {
		t.Errorf("config/rbac/role.yaml drifted from the +kubebuilder:rbac markers: run make manifests\nmarkers: %v\nconfig:  %v", fromMarkers, inConfig)
	}
	if !reflect.DeepEqual(fromMarkers, inChart) {
		t.Errorf("the chart's ClusterRole drifted from the +kubebuilder:rbac markers: run make manifests (hack/sync-chart.sh)\nmarkers: %v\nchart:   %v", fromMarkers, inChart)
	}
}

// TestCRDsMatchConfig: the chart installs the CRDs controller-gen generated.
func TestCRDsMatchConfig(t *testing.T) {
	root := repoRoot(t)
	want, _ := filepath.Glob(filepath.Join(root, "config/crd/bases/*.yaml"))
	got, _ := filepath.Glob(filepath.Join(root, chartDir, "crds/*.yaml"))
	if len(want) == 0 || len(want) != len(got) {
		t.Fatalf("config has %d CRD files, the chart %d: run make manifests", len(want), len(got))
	}
	for _, w := range want {
		a, _ := os.ReadFile(w)
		b, err := os.ReadFile(filepath.Join(root, chartDir, "crds", filepath.Base(w)))
		if err != nil || string(a) != string(b) {
			t.Errorf("%s differs in the chart: run make manifests", filepath.Base(w))
		}
	}
}

// TestNodeTrustRBACIsOneConfigMap: the agent may read exactly the ConfigMap
// the manager is told to write, and nothing else.
func TestNodeTrustRBACIsOneConfigMap(t *testing.T) {
	objs := mustHelmTemplate(t)
	name := release + "-node-trust"
	rules := find(t, objs, "Role", name).Object["rules"].([]any)
	if len(rules) != 1 {
		t.Fatalf("node-trust Role has %d rules, want 1", len(rules))
	}
	want := map[string]any{
		"apiGroups":     []any{""},
		"resources":     []any{"configmaps"},
		"resourceNames": []any{name},
		"verbs":         []any{"get", "list", "watch"},
	}
	if !reflect.DeepEqual(rules[0], want) {
		t.Errorf("node-trust rule = %v, want %v", rules[0], want)
	}
	if v, _ := flag(args(t, find(t, objs, "Deployment", release)), "node-trust-configmap"); v != name {
		t.Errorf("manager --node-trust-configmap=%q, want %q", v, name)
	}
	if v, _ := flag(args(t, find(t, objs, "DaemonSet", name)), "configmap"); v != namespace+"/"+name {
		t.Errorf("agent --configmap=%q, want %s/%s", v, namespace, name)
	}
}
