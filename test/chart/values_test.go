package chart

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestHelmLintStrict(t *testing.T) {
	if out, err := run(t, tool(t, "helm", "helm"), "lint", "--strict", chartDir); err != nil {
		t.Fatalf("helm lint --strict: %v\n%s", err, out)
	}
}

// TestManagerGetsItsOwnImage: the image the manager runs is the image it
// renders for auth containers (flag and env), digest pins included.
func TestManagerGetsItsOwnImage(t *testing.T) {
	for _, set := range [][]string{
		nil,
		{"--set", "image.repository=example.org/rao", "--set", "image.tag=v9"},
		{"--set", "image.digest=sha256:" + strings.Repeat("a", 64)},
	} {
		d := find(t, mustHelmTemplate(t, set...), "Deployment", release)
		c := container(t, d)
		image := c["image"].(string)
		if v, _ := flag(args(t, d), "auth-image"); v != image {
			t.Errorf("%v: --auth-image=%q, container image %q", set, v, image)
		}
		if env := envValue(c, "OPERATOR_IMAGE"); env != image {
			t.Errorf("%v: OPERATOR_IMAGE=%q, container image %q", set, env, image)
		}
	}
	d := find(t, mustHelmTemplate(t, "--set", "image.digest=sha256:"+strings.Repeat("b", 64)), "Deployment", release)
	if img := container(t, d)["image"].(string); !strings.HasSuffix(img, "@sha256:"+strings.Repeat("b", 64)) {
		t.Errorf("digest not used: %s", img)
	}
}

// TestManagerContract: the flags the operator's manager implements, the
// namespace env for leader election and the node-trust ConfigMap.
func TestManagerContract(t *testing.T) {
	d := find(t, mustHelmTemplate(t), "Deployment", release)
	a := args(t, d)
	for name, want := range map[string]string{
		"metrics-bind-address":      ":8080",
		"health-probe-bind-address": ":8081",
		"cluster-domain":            "cluster.local",
		"docker-auth-image":         "cesanta/docker_auth:1.14.0",
		"registry-image":            "registry:3",
		"ca-lifetime":               "87600h",
		"serving-cert-lifetime":     "2160h",
		"signing-cert-lifetime":     "168h",
	} {
		if v, ok := flag(a, name); !ok || v != want {
			t.Errorf("--%s=%q (set: %v), want %q", name, v, ok, want)
		}
	}
	if _, ok := flag(a, "leader-elect"); !ok {
		t.Error("--leader-elect missing")
	}
	c := container(t, d)
	if env := c["env"].([]any)[0].(map[string]any); env["name"] != "POD_NAMESPACE" || env["valueFrom"] == nil {
		t.Errorf("first env is %v, want POD_NAMESPACE from the downward API", env)
	}
	sc := c["securityContext"].(map[string]any)
	if sc["allowPrivilegeEscalation"] != false || sc["readOnlyRootFilesystem"] != true {
		t.Errorf("manager security context not restricted: %v", sc)
	}
	psc := nested(t, d, "spec", "template", "spec", "securityContext").(map[string]any)
	if psc["runAsNonRoot"] != true || fmt.Sprint(psc["runAsUser"]) != "65532" {
		t.Errorf("manager pod security context: %v", psc)
	}
}

// TestDefaultImagesReachTheManager: an air-gapped install points the
// default registry and docker_auth images at its mirror.
func TestDefaultImagesReachTheManager(t *testing.T) {
	a := args(t, find(t, mustHelmTemplate(t, "--set", "registryImage=mirror.example/library/registry:3.1.2",
		"--set", "dockerAuthImage=mirror.example/cesanta/docker_auth:1.14.0"), "Deployment", release))
	for name, want := range map[string]string{
		"registry-image":    "mirror.example/library/registry:3.1.2",
		"docker-auth-image": "mirror.example/cesanta/docker_auth:1.14.0",
	} {
		if v, ok := flag(a, name); !ok || v != want {
			t.Errorf("--%s=%q (set: %v), want %q", name, v, ok, want)
		}
	}
}

func TestSchedulingValuesReachBothWorkloads(t *testing.T) {
	objs := mustHelmTemplate(t,
		"--set", "nodeSelector.disk=ssd",
		"--set", "tolerations[0].key=dedicated,tolerations[0].operator=Exists",
		"--set", "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=zone",
		"--set", "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists",
		"--set", "resources.limits.memory=1Gi",
		"--set", "nodeTrust.nodeSelector.pool=builders",
		"--set", "nodeTrust.hostDir=/var/lib/rao/certs.d",
	)
	d := find(t, objs, "Deployment", release)
	if v := nested(t, d, "spec", "template", "spec", "nodeSelector"); !reflect.DeepEqual(v, map[string]any{"disk": "ssd"}) {
		t.Errorf("nodeSelector = %v", v)
	}
	nested(t, d, "spec", "template", "spec", "affinity", "nodeAffinity")
	if v := nested(t, d, "spec", "template", "spec", "tolerations").([]any); len(v) != 1 {
		t.Errorf("tolerations = %v", v)
	}
	if v := container(t, d)["resources"].(map[string]any)["limits"].(map[string]any)["memory"]; v != "1Gi" {
		t.Errorf("resources.limits.memory = %v", v)
	}
	ds := find(t, objs, "DaemonSet", release+"-node-trust")
	if v := nested(t, ds, "spec", "template", "spec", "nodeSelector"); !reflect.DeepEqual(v, map[string]any{"pool": "builders"}) {
		t.Errorf("node-trust nodeSelector = %v", v)
	}
	vols := nested(t, ds, "spec", "template", "spec", "volumes").([]any)
	if p := vols[0].(map[string]any)["hostPath"].(map[string]any)["path"]; p != "/var/lib/rao/certs.d" {
		t.Errorf("node-trust hostPath = %v", p)
	}
}

func TestNodeTrustCanBeDisabled(t *testing.T) {
	objs := mustHelmTemplate(t, "--set", "nodeTrust.enabled=false")
	if has(objs, "DaemonSet", release+"-node-trust") || has(objs, "Role", release+"-node-trust") {
		t.Error("node-trust objects rendered although disabled")
	}
	if v, ok := flag(args(t, find(t, objs, "Deployment", release)), "node-trust-configmap"); !ok || v != "" {
		t.Errorf("--node-trust-configmap=%q (set: %v), want it empty", v, ok)
	}
}

// TestCredentialProviderInstall: off by default (no flag, no host mount);
// enabled, the agent gets the flags and the kubelet's bin dir from the host.
func TestCredentialProviderInstall(t *testing.T) {
	ds := find(t, mustHelmTemplate(t), "DaemonSet", release+"-node-trust")
	if _, ok := flag(args(t, ds), "credential-provider-dir"); ok {
		t.Error("credential provider installed by default")
	}
	if n := len(nested(t, ds, "spec", "template", "spec", "volumes").([]any)); n != 1 {
		t.Errorf("%d volumes by default, want 1", n)
	}
	ds = find(t, mustHelmTemplate(t, "--set", "nodeTrust.credentialProvider.enabled=true",
		"--set", "nodeTrust.credentialProvider.binDir=/opt/kubelet/providers"), "DaemonSet", release+"-node-trust")
	if v, _ := flag(args(t, ds), "credential-provider-dir"); v != "/host-credential-providers" {
		t.Errorf("--credential-provider-dir=%q", v)
	}
	if v, _ := flag(args(t, ds), "credential-provider-name"); v != "registry-auth-credential-provider" {
		t.Errorf("--credential-provider-name=%q", v)
	}
	vols := nested(t, ds, "spec", "template", "spec", "volumes").([]any)
	if p := vols[len(vols)-1].(map[string]any)["hostPath"].(map[string]any)["path"]; p != "/opt/kubelet/providers" {
		t.Errorf("credential provider hostPath = %v", p)
	}
}

// TestSchemaRejectsBadValues: values.schema.json stops mistakes at install time.
func TestSchemaRejectsBadValues(t *testing.T) {
	for _, bad := range []string{
		"nodeTrust.hostDir=relative/dir",
		"replicaCount=-1",
		"image.pullPolicy=Sometimes",
		"image.digest=latest",
		"certificates.caLifetime=ten years",
		"metrics.port=0",
		"unknownKey=1",
		"registryImage=",
		"registryImage=mirror.example/registry:3 --debug",
		"dockerAuthImage=",
	} {
		if _, err := helmTemplate(t, "--set", bad); err == nil {
			t.Errorf("--set %s was accepted", bad)
		} else if !strings.Contains(err.Error(), "schema") {
			t.Errorf("--set %s failed for another reason than the schema: %v", bad, err)
		}
	}
}

func envValue(c map[string]any, name string) string {
	env, _ := c["env"].([]any)
	for _, e := range env {
		if m := e.(map[string]any); m["name"] == name {
			v, _ := m["value"].(string)
			return v
		}
	}
	return ""
}
