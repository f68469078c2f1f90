package chart

import (
	"reflect"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// grants reports whether rules grant any verb on resource in the core group.
func grants(rules any, resource string) bool {
	for _, r := range rules.([]any) {
		rule := r.(map[string]any)
		if slices.Contains(rule["apiGroups"].([]any), any("")) && slices.Contains(rule["resources"].([]any), any(resource)) {
			return true
		}
	}
	return false
}

// TestWatchNamespacesRBAC: with watchNamespaces set, the ClusterRole grants
// no Secret or ConfigMap right; a Role in each watched namespace and in the
// release namespace (node-trust ConfigMap, fingerprint key) does, and every
// other rule of the markers stays in the ClusterRole.
func TestWatchNamespacesRBAC(t *testing.T) {
	objs := mustHelmTemplate(t, "--set", `watchNamespaces=team-a\,team-b`)
	cluster := find(t, objs, "ClusterRole", release).Object["rules"]
	for _, res := range []string{"secrets", "configmaps"} {
		if grants(cluster, res) {
			t.Errorf("the ClusterRole still grants %s cluster-wide: %v", res, cluster)
		}
	}
	for _, res := range []string{"services", "persistentvolumeclaims"} {
		if !grants(cluster, res) {
			t.Errorf("the ClusterRole lost %s: %v", res, cluster)
		}
	}
	var roleNamespaces []string
	for _, o := range objs {
		if o.GetKind() != "Role" || o.GetName() != release {
			continue
		}
		roleNamespaces = append(roleNamespaces, o.GetNamespace())
		if !grants(o.Object["rules"], "secrets") || !grants(o.Object["rules"], "configmaps") {
			t.Errorf("Role in %s: %v", o.GetNamespace(), o.Object["rules"])
		}
	}
	slices.Sort(roleNamespaces)
	if want := []string{namespace, "team-a", "team-b"}; !reflect.DeepEqual(roleNamespaces, want) {
		t.Errorf("Roles in %v, want %v", roleNamespaces, want)
	}
	if v, _ := flag(args(t, find(t, objs, "Deployment", release)), "watch-namespaces"); v != "team-a,team-b" {
		t.Errorf("--watch-namespaces=%q", v)
	}
	// The default keeps the markers' ClusterRole and adds no Role.
	for _, o := range mustHelmTemplate(t) {
		if o.GetKind() == "Role" && o.GetName() == release {
			t.Errorf("a Role %s/%s without watchNamespaces", o.GetNamespace(), o.GetName())
		}
	}
}

// TestWatchNamespacesKustomizeMatchesChart: config/watch-namespaces is the
// chart with watchNamespaces=registry, RBAC and pod spec alike.
func TestWatchNamespacesKustomizeMatchesChart(t *testing.T) {
	out, err := run(t, tool(t, "kubectl", "kubectl"), "kustomize", "config/watch-namespaces")
	if err != nil {
		t.Fatalf("kubectl kustomize: %v", err)
	}
	kust := decode(t, out)
	chart := mustHelmTemplate(t, "--set", "watchNamespaces=registry")
	if k, c := ids(kust, "Namespace"), ids(chart); !reflect.DeepEqual(k, c) {
		t.Fatalf("objects differ\nkustomize: %v\nchart:     %v", k, c)
	}
	for _, o := range chart {
		k := findIn(t, kust, o)
		switch o.GetKind() {
		case "ClusterRole", "Role":
			if !reflect.DeepEqual(k.Object["rules"], o.Object["rules"]) {
				t.Errorf("%s %s/%s rules differ\nkustomize: %v\nchart:     %v", o.GetKind(), o.GetNamespace(), o.GetName(), k.Object["rules"], o.Object["rules"])
			}
		case "Deployment":
			if kp, cp := podSpec(t, k), podSpec(t, o); !reflect.DeepEqual(kp, cp) {
				t.Errorf("Deployment pod specs differ\nkustomize: %v\nchart:     %v", kp, cp)
			}
		}
	}
}

// findIn returns the object of objs with like's kind, namespace and name.
func findIn(t *testing.T, objs []*unstructured.Unstructured, like *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == like.GetKind() && o.GetNamespace() == like.GetNamespace() && o.GetName() == like.GetName() {
			return o
		}
	}
	t.Fatalf("no %s %s/%s", like.GetKind(), like.GetNamespace(), like.GetName())
	return nil
}
