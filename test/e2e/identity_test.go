package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	nsIdentity   = "e2e-identity"
	raIdentity   = "identity"
	identityPass = "identity-admin-pw"
	nsTeamA      = "team-a"
	nsTeamB      = "team-b"
)

// TestWorkloadIdentity: one registry trusts the cluster's ServiceAccount
// tokens (docs/workload-identity.md). The kubelet, configured with our
// credential provider (installed by the node-trust agent), pulls with the
// Pod's own token: team-a's Pod runs without a pull Secret, team-b's is
// refused by the ACL (${labels:namespace}/*). A CI Pod pushes with a
// projected token and no Secret. A deleted ServiceAccount's token stops
// working.
func TestWorkloadIdentity(t *testing.T) {
	e := loadEnv(t)
	if e.identityIP == "" || e.identityAudience == "" || e.providerDir == "" {
		t.Fatal("E2E_IDENTITY_IP, E2E_IDENTITY_AUDIENCE and E2E_CREDENTIAL_PROVIDER_DIR are not set: run through hack/e2e.sh")
	}
	total := time.Now()
	j := &journey{env: e, dir: t.TempDir()}
	j.helmInstall(t)
	for _, ns := range []string{nsIdentity, nsTeamA, nsTeamB} {
		e.namespace(t, ns)
	}
	t.Cleanup(func() {
		for _, ns := range []string{nsTeamA, nsTeamB, nsIdentity} {
			_, _ = e.kube("", "delete", "namespace", ns, "--wait=false")
		}
	})
	e.apply(t, map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"namespace": nsIdentity, "name": raIdentity + "-admin"},
		"stringData": map[string]any{"password": identityPass},
	})
	e.apply(t, map[string]any{
		"apiVersion": "registryauth.dev/v1alpha1", "kind": "RegistryAuth",
		"metadata": map[string]any{"namespace": nsIdentity, "name": raIdentity},
		"spec": map[string]any{
			// The kubelet's matchImages names this address (hack/cluster/lib.sh).
			"expose": map[string]any{"service": map[string]any{"clusterIP": e.identityIP}},
			"auth": map[string]any{
				"users": []any{map[string]any{"name": "admin", "passwordSecretRef": map[string]any{"name": raIdentity + "-admin"}}},
				"identities": []any{map[string]any{
					"name": "cluster", "kubernetes": map[string]any{"audiences": []string{e.identityAudience}},
				}},
				"acl": []any{
					map[string]any{"match": map[string]any{"account": "admin"}, "actions": []string{"*"}},
					map[string]any{"match": map[string]any{"account": "cluster:team-a/ci", "name": "team-a/*"}, "actions": []string{"pull", "push"}},
					map[string]any{"match": map[string]any{"account": "/^cluster:/", "name": "${labels:namespace}/*"}, "actions": []string{"pull"}},
				},
			},
		},
	})
	start := time.Now()
	eventually(t, 5*time.Minute, "identity registry Ready", func() error {
		return conditionIsIn(e, nsIdentity, raIdentity, "Ready", "True")
	})
	e.record(t, "identity registry (ServiceAccount, ClusterRoleBinding) to Ready", time.Since(start))
	host, _ := endpointOf(t, e, nsIdentity, raIdentity)
	if host != e.identityIP+":5000" {
		t.Fatalf("status.urls.node is %s, want the pinned %s:5000", host, e.identityIP)
	}
	caName := e.kubeOK(t, "-n", nsIdentity, "get", "registryauth", raIdentity, "-o", "jsonpath={.status.caConfigMapName}")
	caPEM := []byte(e.kubeOK(t, "-n", nsIdentity, "get", "configmap", caName, "-o", `jsonpath={.data.ca\.crt}`))

	admin := newSkopeo(t, host, caPEM)
	if err := admin.login(host, "admin", identityPass); err != nil {
		t.Fatalf("admin login: %v", err)
	}
	image := host + "/team-a/app:1"
	if err := admin.push("oci-archive:"+filepath.Join(e.images, "pause.tar"), image); err != nil {
		t.Fatalf("admin push: %v", err)
	}
	e.waitNodeTrust(t, host, caPEM, time.Minute)
	checkProviderInstalled(t, e)

	// Everything that waits on the kubelet starts at once.
	for _, ns := range []string{nsTeamA, nsTeamB} {
		eventually(t, time.Minute, "default ServiceAccount in "+ns, func() error {
			_, err := e.kube("", "-n", ns, "get", "serviceaccount", "default")
			return err
		})
		e.apply(t, identityPod(ns, "app", image))
	}
	pulls := time.Now()
	ci := startCIPush(t, e, host, caPEM)

	t.Run("team-a pulls with its own token, no pull Secret", func(t *testing.T) {
		e.waitRunning(t, nsTeamA, "app")
		e.record(t, "identity: kubelet pull with the Pod's token to Pod Running", time.Since(pulls))
	})
	t.Run("team-b is refused by the ACL, with a kubelet event", func(t *testing.T) {
		var msg string
		eventually(t, 3*time.Minute, "a Failed pull event for team-b/app", func() error {
			out, _ := e.kube("", "-n", nsTeamB, "get", "events", "--field-selector", "involvedObject.name=app,reason=Failed",
				"-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}")
			for _, m := range strings.Split(out, "\n") {
				if strings.Contains(m, image) {
					msg = m
					return nil
				}
			}
			return fmt.Errorf("events: %q", out)
		})
		if !refusedForAuth(msg) {
			t.Fatalf("team-b's pull failed for another reason than authorization: %s", msg)
		}
		t.Logf("team-b refused: %s", msg)
	})
	t.Run("a CI Pod pushes with its projected token, no Secret", func(t *testing.T) {
		ci.wait(t)
		if _, err := admin.digest(host + "/team-a/built:1"); err != nil {
			t.Fatalf("the CI push is not in the registry: %v", err)
		}
	})
	t.Run("a deleted ServiceAccount's token stops working", func(t *testing.T) {
		deletedServiceAccount(t, e, host, caPEM)
	})
	e.record(t, "TestWorkloadIdentity total", time.Since(total))
}

// checkProviderInstalled: the node-trust agent replaced the placeholder the
// cluster started the kubelet with by our binary.
func checkProviderInstalled(t *testing.T, e *env) {
	t.Helper()
	path := filepath.Join(e.providerDir, "registry-auth-credential-provider")
	eventually(t, time.Minute, "the credential provider installed at "+path, func() error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(b, []byte("\x7fELF")) {
			return fmt.Errorf("%s is not a binary yet (the placeholder?)", path)
		}
		return nil
	})
}

// identityPod: no imagePullSecrets; the kubelet pulls with the Pod's
// ServiceAccount token (the default ServiceAccount of its namespace).
func identityPod(ns, name, image string) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"terminationGracePeriodSeconds": 1,
			"containers":                    []any{map[string]any{"name": "app", "image": image, "imagePullPolicy": "Always"}},
		},
	}
}

type ciPush struct {
	e     *env
	start time.Time
}

// startCIPush runs the probe as team-a's ServiceAccount ci, with a token of
// the registry's audience projected into the Pod, pushing team-a/built:1.
func startCIPush(t *testing.T, e *env, host string, caPEM []byte) *ciPush {
	t.Helper()
	e.apply(t, map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"namespace": nsTeamA, "name": "ci"}})
	e.apply(t, map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"namespace": nsTeamA, "name": "registry-ca"},
		"data": map[string]string{"ca.crt": string(caPEM)},
	})
	e.apply(t, map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "ci-push", "namespace": nsTeamA},
		"spec": map[string]any{
			"serviceAccountName":           "ci",
			"automountServiceAccountToken": false,
			"restartPolicy":                "Never",
			"containers": []any{map[string]any{
				"name": "push", "image": e.imageRef(t, "probe"), "imagePullPolicy": "Never",
				"args": []string{"-url", "https://" + host, "-ca", "/ca/ca.crt", "-user", "serviceaccount",
					"-password-file", "/var/run/registry/token", "-push", host + "/team-a/built:1"},
				"volumeMounts": []any{
					map[string]any{"name": "ca", "mountPath": "/ca"},
					map[string]any{"name": "registry-token", "mountPath": "/var/run/registry"},
				},
			}},
			"volumes": []any{
				map[string]any{"name": "ca", "configMap": map[string]any{"name": "registry-ca"}},
				map[string]any{"name": "registry-token", "projected": map[string]any{"sources": []any{
					map[string]any{"serviceAccountToken": map[string]any{"audience": e.identityAudience, "expirationSeconds": 600, "path": "token"}},
				}}},
			},
		},
	})
	return &ciPush{e: e, start: time.Now()}
}

func (c *ciPush) wait(t *testing.T) {
	t.Helper()
	eventually(t, 2*time.Minute, "the CI Pod to finish", func() error {
		phase, _ := c.e.jsonpath(nsTeamA, "pod/ci-push", "{.status.phase}")
		if phase == "Succeeded" || phase == "Failed" {
			return nil
		}
		return fmt.Errorf("phase %q", phase)
	})
	c.e.record(t, "identity: in-cluster push with a projected token", time.Since(c.start))
	logs, err := c.e.kube("", "-n", nsTeamA, "logs", "ci-push")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Status    int    `json:"status"`
		Pushed    bool   `json:"pushed"`
		PushError string `json:"pushError"`
	}
	if err := json.Unmarshal([]byte(logs), &res); err != nil {
		t.Fatalf("probe output %q: %v", logs, err)
	}
	if !res.Pushed {
		t.Fatalf("the CI Pod's push failed: %s", res.PushError)
	}
}

// deletedServiceAccount: a token of the registry's audience logs in while
// its ServiceAccount exists, and is refused once it is deleted (the API
// server's TokenReview says so; the auth container caches a success 30 s).
func deletedServiceAccount(t *testing.T, e *env, host string, caPEM []byte) {
	e.apply(t, map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"namespace": nsTeamA, "name": "short-lived"}})
	token := strings.TrimSpace(e.kubeOK(t, "-n", nsTeamA, "create", "token", "short-lived", "--audience", e.identityAudience, "--duration", "10m"))
	if err := newSkopeo(t, host, caPEM).login(host, "serviceaccount", token); err != nil {
		t.Fatalf("login with the ServiceAccount's token: %v", err)
	}
	e.kubeOK(t, "-n", nsTeamA, "delete", "serviceaccount", "short-lived")
	deleted := time.Now()
	eventually(t, 2*time.Minute, "the deleted ServiceAccount's token to be refused", func() error {
		err := newSkopeo(t, host, caPEM).login(host, "serviceaccount", token)
		if err == nil {
			return fmt.Errorf("still accepted")
		}
		// skopeo words a 401 at login as "invalid username/password".
		if msg := err.Error(); !refusedForAuth(msg) && !strings.Contains(msg, "invalid username/password") {
			return fmt.Errorf("failed for another reason than authorization: %v", err)
		}
		return nil
	})
	e.record(t, "identity: ServiceAccount deleted to its token refused", time.Since(deleted))
}
