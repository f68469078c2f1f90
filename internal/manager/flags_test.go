package manager

import (
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	t.Setenv("OPERATOR_IMAGE", "")
	t.Setenv("POD_NAMESPACE", "registry-auth-system")
	c, err := ParseFlags([]string{"--auth-image=example.com/op:1", "--signing-cert-lifetime=2h", "--node-trust-configmap=trust"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Render.AuthImage != "example.com/op:1" || c.Render.SigningLifetime != 2*time.Hour ||
		c.Render.ClusterDomain != "cluster.local" || c.Namespace != "registry-auth-system" || c.NodeTrustConfig != "trust" {
		t.Errorf("parsed %+v", c)
	}

	if c.MaxConcurrentReconciles != 4 || c.WatchNamespaces != nil || c.FingerprintKeySecret == "" ||
		c.Render.RegistryImage != "registry:3" || c.Render.DockerAuthImage != "cesanta/docker_auth:1.14.0" {
		t.Errorf("defaults: %+v", c)
	}
	w, err := ParseFlags([]string{"--auth-image=x", "--watch-namespaces= a, b,", "--max-concurrent-reconciles=8"})
	if err != nil || len(w.WatchNamespaces) != 2 || w.WatchNamespaces[0] != "a" || w.WatchNamespaces[1] != "b" || w.MaxConcurrentReconciles != 8 {
		t.Errorf("watch namespaces and concurrency: %v %+v", err, w)
	}
	m, err := ParseFlags([]string{"--auth-image=x", "--registry-image=mirror.example/registry:3.1.2", "--docker-auth-image=mirror.example/da:1"})
	if err != nil || m.Render.RegistryImage != "mirror.example/registry:3.1.2" || m.Render.DockerAuthImage != "mirror.example/da:1" {
		t.Errorf("default images: %v %+v", err, m)
	}

	t.Setenv("OPERATOR_IMAGE", "from-env:2")
	if c, err := ParseFlags(nil); err != nil || c.Render.AuthImage != "from-env:2" {
		t.Errorf("OPERATOR_IMAGE not used: %v %+v", err, c)
	}
}

func TestParseFlagsRejects(t *testing.T) {
	t.Setenv("OPERATOR_IMAGE", "")
	t.Setenv("POD_NAMESPACE", "")
	for args, want := range map[string]string{
		"":                                 "--auth-image",
		"--auth-image=x --ca-lifetime=10s": "at least 1m",
		"--auth-image=x --node-trust-configmap=t":      "POD_NAMESPACE",
		"--auth-image=x --max-concurrent-reconciles=0": "at least 1",
		"--auth-image=x --registry-image=":             "must not be empty",
	} {
		_, err := ParseFlags(strings.Fields(args))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error about %s", args, err, want)
		}
	}
}
