// Package chart checks the Helm chart against the code it packages: RBAC
// generated from the controllers' markers, CRDs, the kustomize install in
// config/, the values schema and the wiring of the node-trust agent. It
// renders with the real helm, kubectl (kustomize) and controller-gen built by
// hack/build-tools.sh.
package chart

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

const (
	release   = "registry-auth-operator"
	namespace = "registry-auth-system"
	chartDir  = "charts/registry-auth-operator"
)

// repoRoot is where every command runs: paths in the tests are repo-relative.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// tool returns the path of a binary built (once, cached) by hack/build-tools.sh.
func tool(t *testing.T, name, bin string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(repoRoot(t), "hack/build-tools.sh"), name).Output()
	if err != nil {
		t.Fatalf("hack/build-tools.sh %s: %v", name, err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), bin)
}

// run runs a command in the repo root and returns stdout; stderr goes into the error.
func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = repoRoot(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), errors.New(strings.TrimSpace(stderr.String()) + ": " + err.Error())
	}
	return stdout.String(), nil
}

// helmTemplate renders the chart like `helm install` would with args.
func helmTemplate(t *testing.T, args ...string) ([]*unstructured.Unstructured, error) {
	t.Helper()
	base := []string{"template", release, chartDir, "--namespace", namespace, "--include-crds"}
	out, err := run(t, tool(t, "helm", "helm"), append(base, args...)...)
	if err != nil {
		return nil, err
	}
	return decode(t, out), nil
}

func mustHelmTemplate(t *testing.T, args ...string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := helmTemplate(t, args...)
	if err != nil {
		t.Fatalf("helm template %v: %v", args, err)
	}
	return objs
}

// decode splits a multi-document YAML stream into objects.
func decode(t *testing.T, s string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	d := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(s), 4096)
	for {
		var m map[string]any
		if err := d.Decode(&m); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("decoding manifests: %v", err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

func decodeFile(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), path))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, string(b))
}

// find returns the one object of kind and name, failing the test otherwise.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s among %d objects", kind, name, len(objs))
	return nil
}

func has(objs []*unstructured.Unstructured, kind, name string) bool {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return true
		}
	}
	return false
}

func nested(t *testing.T, o *unstructured.Unstructured, path ...string) any {
	t.Helper()
	v, ok, err := unstructured.NestedFieldNoCopy(o.Object, path...)
	if err != nil || !ok {
		t.Fatalf("%s %s has no %s", o.GetKind(), o.GetName(), strings.Join(path, "."))
	}
	return v
}

// container returns the first container of a workload's pod template.
func container(t *testing.T, o *unstructured.Unstructured) map[string]any {
	t.Helper()
	cs := nested(t, o, "spec", "template", "spec", "containers").([]any)
	return cs[0].(map[string]any)
}

func args(t *testing.T, o *unstructured.Unstructured) []string {
	t.Helper()
	var out []string
	for _, a := range container(t, o)["args"].([]any) {
		out = append(out, a.(string))
	}
	return out
}

// flag returns the value of --name=value in args, and whether it is there.
func flag(list []string, name string) (string, bool) {
	for _, a := range list {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name {
			return "", true
		}
	}
	return "", false
}
