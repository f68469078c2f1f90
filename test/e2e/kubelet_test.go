package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pullSecret is a kubernetes.io/dockerconfigjson Secret for host.
func pullSecret(name, host, user, password string) map[string]any {
	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{
		"username": user, "password": password,
		"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password)),
	}}})
	return map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
		"metadata": map[string]any{"name": name, "namespace": nsDemo},
		"data":     map[string]string{".dockerconfigjson": base64.StdEncoding.EncodeToString(cfg)},
	}
}

func pod(name, image string, pullSecrets ...string) map[string]any {
	var refs []any
	for _, s := range pullSecrets {
		refs = append(refs, map[string]string{"name": s})
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": nsDemo},
		"spec": map[string]any{
			"imagePullSecrets":              refs,
			"terminationGracePeriodSeconds": 1,
			"containers": []any{map[string]any{
				"name": "app", "image": image, "imagePullPolicy": "Always",
			}},
		},
	}
}

// kubeletPull: the node trusts the registry's CA (written by the node-trust
// agent into containerd's certs.d), the kubelet resolves the realm from the
// challenge and logs in with the pull Secret, and the Pod runs.
func (j *journey) kubeletPull(t *testing.T) {
	j.waitNodeTrust(t, j.nodeHost, j.caPEM, time.Minute)

	image := j.nodeHost + "/e2e/pause:1"
	j.apply(t, pullSecret("demo-pull", j.nodeHost, "reader", readerPass))
	j.apply(t, pod("pulled-by-kubelet", image, "demo-pull"))
	j.apply(t, pod("no-pull-secret", image))
	start := time.Now()
	j.waitRunning(t, nsDemo, "pulled-by-kubelet")
	j.record(t, "kubelet pull from the new registry to Pod Running", time.Since(start))
	digest, _ := j.jsonpath(nsDemo, "pod/pulled-by-kubelet", "{.status.containerStatuses[0].imageID}")
	t.Logf("kubelet ran %s (%s)", image, digest)

	// Without credentials the same pull is refused: token auth holds for nodes too.
	eventually(t, 2*time.Minute, "pod no-pull-secret to fail its pull", func() error {
		reason, _ := j.jsonpath(nsDemo, "pod/no-pull-secret", "{.status.containerStatuses[0].state.waiting.reason}")
		if reason == "ErrImagePull" || reason == "ImagePullBackOff" {
			return nil
		}
		return fmt.Errorf("waiting reason %q", reason)
	})
	msg, _ := j.jsonpath(nsDemo, "pod/no-pull-secret", "{.status.containerStatuses[0].state.waiting.message}")
	if !refusedForAuth(msg) {
		t.Fatalf("anonymous kubelet pull failed for another reason than authorization: %s", msg)
	}
	t.Logf("anonymous kubelet pull refused: %s", msg)
	_, _ = j.kube("", "-n", nsDemo, "delete", "pod", "no-pull-secret", "--wait=false")
}

func refusedForAuth(msg string) bool {
	m := strings.ToLower(msg)
	if strings.Contains(m, "x509") || strings.Contains(m, "certificate") {
		return false
	}
	for _, w := range []string{"401", "403", "unauthorized", "authoriz", "denied"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// waitNodeTrust waits until the node-trust agent has written the registry's
// CA for host (host:port) into the node's certs.d.
func (e *env) waitNodeTrust(t *testing.T, host string, caPEM []byte, timeout time.Duration) {
	t.Helper()
	caFile := filepath.Join(e.certsD, host, "ca.crt")
	eventually(t, timeout, "node-trust to write "+caFile, func() error {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return err
		}
		if !bytes.Equal(b, caPEM) {
			return fmt.Errorf("%s differs from the registry's CA", caFile)
		}
		return nil
	})
}

// waitRunning waits for a pod whose image the kubelet pulls; while it waits,
// the error carries the container's waiting message (the pull's error).
func (e *env) waitRunning(t *testing.T, ns, name string) {
	t.Helper()
	eventually(t, 3*time.Minute, "pod "+name+" to run", func() error {
		phase, _ := e.jsonpath(ns, "pod/"+name, "{.status.phase}")
		if phase != "Running" {
			waiting, _ := e.jsonpath(ns, "pod/"+name, "{.status.containerStatuses[0].state.waiting.message}")
			return fmt.Errorf("phase %q %s", phase, waiting)
		}
		return nil
	})
}
