package chart

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestKustomizeMatchesChart: `kubectl apply -k config/default` installs the
// same objects as the chart with default values, with the same RBAC and the
// same pod specs.
func TestKustomizeMatchesChart(t *testing.T) {
	out, err := run(t, tool(t, "kubectl", "kubectl"), "kustomize", "config/default")
	if err != nil {
		t.Fatalf("kubectl kustomize: %v", err)
	}
	kust := decode(t, out)
	chart := mustHelmTemplate(t)

	if k, c := ids(kust, "Namespace"), ids(chart); !reflect.DeepEqual(k, c) {
		t.Fatalf("objects differ\nkustomize: %v\nchart:     %v", k, c)
	}
	for _, o := range chart {
		k := find(t, kust, o.GetKind(), o.GetName())
		switch o.GetKind() {
		case "ClusterRole", "Role":
			if !reflect.DeepEqual(k.Object["rules"], o.Object["rules"]) {
				t.Errorf("%s %s rules differ\nkustomize: %v\nchart:     %v", o.GetKind(), o.GetName(), k.Object["rules"], o.Object["rules"])
			}
		case "Deployment", "DaemonSet":
			kp := podSpec(t, k)
			cp := podSpec(t, o)
			if !reflect.DeepEqual(kp, cp) {
				t.Errorf("%s %s pod specs differ\nkustomize: %v\nchart:     %v", o.GetKind(), o.GetName(), kp, cp)
			}
		}
	}
}

// ids lists kind/namespace/name of objects, leaving out the given kinds.
func ids(objs []*unstructured.Unstructured, skipKinds ...string) []string {
	var out []string
	for _, o := range objs {
		skip := false
		for _, k := range skipKinds {
			skip = skip || o.GetKind() == k
		}
		if !skip {
			out = append(out, o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName())
		}
	}
	sort.Strings(out)
	return out
}

// podSpec is the pod template's spec with $(OPERATOR_IMAGE) expanded, as the
// kubelet does for args.
func podSpec(t *testing.T, o *unstructured.Unstructured) map[string]any {
	t.Helper()
	spec := nested(t, o, "spec", "template", "spec").(map[string]any)
	c := spec["containers"].([]any)[0].(map[string]any)
	img := envValue(c, "OPERATOR_IMAGE")
	for i, a := range c["args"].([]any) {
		c["args"].([]any)[i] = strings.ReplaceAll(a.(string), "$(OPERATOR_IMAGE)", img)
	}
	return spec
}
