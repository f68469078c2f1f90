package e2e

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const operatorNS = "registry-auth-system"

func (j *journey) helmInstall(t *testing.T) {
	image := j.imageRef(t, "operator")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	start := time.Now()
	args := []string{"--kubeconfig", j.kubeconfig, "upgrade", "--install", "registry-auth-operator",
		filepath.Join(j.repo, "charts/registry-auth-operator"), "--namespace", operatorNS, "--create-namespace",
		"--set", "image.repository=" + image[:strings.LastIndex(image, ":")],
		"--set", "image.tag=" + image[strings.LastIndex(image, ":")+1:],
		"--set", "nodeTrust.hostDir=" + j.certsD,
		"--wait", "--timeout", "5m"}
	if j.providerDir != "" {
		// The kubelet runs the credential provider from there (workload identity).
		args = append(args, "--set", "nodeTrust.credentialProvider.enabled=true",
			"--set", "nodeTrust.credentialProvider.binDir="+j.providerDir)
	}
	_, err := exe(ctx, "", j.helm, args...)
	if err != nil {
		j.describe(t, operatorNS, "deployment/registry-auth-operator", "pods")
		t.Fatal(err)
	}
	j.kubeOK(t, "-n", operatorNS, "rollout", "status", "deployment/registry-auth-operator", "--timeout=2m")
	j.kubeOK(t, "-n", operatorNS, "rollout", "status", "daemonset/registry-auth-operator-node-trust", "--timeout=2m")
	j.record(t, "helm install to operator Ready", time.Since(start))

	ready, _ := j.jsonpath(operatorNS, "deployment/registry-auth-operator", "{.status.readyReplicas}")
	if ready != "1" {
		t.Fatalf("operator ready replicas = %q", ready)
	}
	got, _ := j.jsonpath(operatorNS, "deployment/registry-auth-operator", "{.spec.template.spec.containers[0].image}")
	if got != image {
		t.Fatalf("operator runs %q, want the freshly built %q", got, image)
	}
}

func (j *journey) applySample(t *testing.T) {
	j.namespace(t, nsDemo)
	start := time.Now()
	j.kubeOK(t, "-n", nsDemo, "apply", "-f", filepath.Join(j.repo, "config/samples/"))

	// Bounded wait; the two moments are recorded for docs/benchmarks.md.
	var readyAt, answeringAt time.Duration
	deadline := start.Add(5 * time.Minute)
	for (readyAt == 0 || answeringAt == 0) && time.Now().Before(deadline) {
		if readyAt == 0 {
			if s, _ := j.jsonpath(nsDemo, "registryauth/"+raName, `{.status.conditions[?(@.type=="Ready")].status}`); s == "True" {
				readyAt = time.Since(start)
			}
		}
		if answeringAt == 0 {
			if u, _ := j.jsonpath(nsDemo, "registryauth/"+raName, "{.status.urls.node}"); u != "" {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				out, err := j.inNode(ctx, "", "curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", u+"/v2/")
				cancel()
				if err == nil && out == "401" {
					answeringAt = time.Since(start)
				}
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	if readyAt == 0 {
		j.describe(t, nsDemo, "registryauth/"+raName, "deployment/"+raName, "pods")
		t.Fatal("RegistryAuth not Ready within 5m")
	}
	j.record(t, "kubectl apply to RegistryAuth Ready", readyAt)
	if answeringAt != 0 {
		j.record(t, "kubectl apply to registry answering /v2/ (401) at the node URL", answeringAt)
	}

	clusterIP, _ := j.jsonpath(nsDemo, "service/"+raName, "{.spec.clusterIP}")
	urls := map[string]string{
		"{.status.urls.inCluster}": "https://" + raName + "." + nsDemo + ".svc:5000",
		"{.status.urls.node}":      "https://" + clusterIP + ":5000",
	}
	for path, want := range urls {
		if got, _ := j.jsonpath(nsDemo, "registryauth/"+raName, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	j.nodeHost = clusterIP + ":5000"

	caBundle, _ := j.jsonpath(nsDemo, "registryauth/"+raName, "{.status.caConfigMapName}")
	if caBundle == "" {
		t.Fatal("status.caConfigMapName is empty")
	}
	caPEM, err := j.jsonpath(nsDemo, "configmap/"+caBundle, `{.data.ca\.crt}`)
	if err != nil {
		t.Fatal(err)
	}
	j.caPEM = []byte(caPEM)
	if err := isCA(j.caPEM); err != nil {
		t.Fatalf("configmap %s ca.crt: %v", caBundle, err)
	}
	j.ca = filepath.Join(j.dir, "ca.crt")
	if err := os.WriteFile(j.ca, j.caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
}

func isCA(b []byte) error {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return errors.New("no PEM block")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return err
	}
	if !c.IsCA {
		return fmt.Errorf("%s is not a CA certificate", c.Subject)
	}
	return nil
}

func decodeB64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimSpace(s))
}
