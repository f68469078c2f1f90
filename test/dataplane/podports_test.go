package dataplane

import (
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// TestRegistryPortsOnLoopback runs registry v3 with the config the operator
// renders for the builtin layout, in a network namespace whose address
// stands for the pod IP: its plain-HTTP API and its debug server (pprof)
// answer on 127.0.0.1 only, so nothing in the cluster gets around the front
// door. (The docker_auth layout's debug server: TestDockerAuthLive.)
func TestRegistryPortsOnLoopback(t *testing.T) {
	if !inNetns() {
		rerunInNetns(t, "TestRegistryPortsOnLoopback")
		return
	}
	ra := daRegistryAuth("registry:3")
	ra.Spec.Auth.Provider = v1alpha1.ProviderBuiltin
	svc := render.DesiredService(ra, "")
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = netnsAddr, []string{netnsAddr}
	y, err := render.RegistryConfig(ra, render.Wire(ra, render.DefaultOptions(), svc))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca, err := pki.NewCA(pki.Template{CommonName: "token CA", Lifetime: time.Hour, Algorithm: pki.ECDSAP256}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "token-ca", render.TokenBundleFile), ca.CertPEM())
	cfg := strings.NewReplacer(render.TokenBundleDir, filepath.Join(dir, "token-ca"), render.StorageDir, filepath.Join(dir, "data")).Replace(string(y))
	path := filepath.Join(dir, render.RegistryConfigFile)
	writeFile(t, path, []byte(cfg))
	reg := start(t, "registry", []string{"REGISTRY_HTTP_SECRET=x", "OTEL_TRACES_EXPORTER=none"}, registryBin, "serve", path)

	api, debug := itoa(render.PortRegistryHTTP), itoa(render.PortRegistryDebug)
	waitHTTP(t, reg, "http://127.0.0.1:"+api+"/v2/", nil, http.StatusUnauthorized)
	waitHTTP(t, reg, "http://127.0.0.1:"+debug+"/debug/health", nil, http.StatusOK)
	for _, port := range []string{api, debug} {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(netnsAddr, port), 2*time.Second)
		if err == nil {
			c.Close()
			t.Errorf("the registry answers on the pod address %s:%s", netnsAddr, port)
		} else if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dialing %s:%s: %v, want connection refused", netnsAddr, port, err)
		}
	}
}
