package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	nsDA      = "e2e-docker-auth-live"
	daName    = "da"
	daPV      = "e2e-docker-auth-blobs"
	daRepo    = "e2e/pause"
	daReader  = "reader"
	daReadPwd = "reader-pw"
)

// daRegistry is the docker_auth RegistryAuth under test.
type daRegistry struct {
	*journey
	host string // status.urls.node: <ClusterIP>:5000
}

// TestDockerAuthProvider runs spec.auth.provider docker_auth on the real
// cluster with the docker_auth test image (hack/images, from
// ../shared/thirdparty/docker_auth) and no expose.host: Ready, logins and
// pushes from the machine's shell (skopeo) and a Docker daemon, a kubelet
// pull with a pull Secret; then the same registry switched to builtin and
// back keeps its blobs and ends with working logins.
func TestDockerAuthProvider(t *testing.T) {
	e := loadEnv(t)
	j := &journey{env: e, dir: t.TempDir()}
	if _, err := os.Stat(filepath.Join(e.images, "docker_auth.ref")); err != nil {
		t.Fatalf("the docker_auth test image was not built (hack/images/build.sh takes it from ../shared/thirdparty/docker_auth): %v", err)
	}
	j.helmInstall(t)
	r := setUpDockerAuth(t, j)

	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"docker_auth registry Ready", func(t *testing.T) { r.waitProvider(t, "docker_auth") }},
		{"realm is the ClusterIP, reachable from the machine's shell and the node", r.realmReachable},
		{"skopeo from the machine's shell: admin push, reader pull, reader push and wrong password refused", r.skopeoFlow},
		{"docker CLI: admin login and push, reader pull, reader push refused", r.dockerFlow},
		{"kubelet pull with a pull Secret", r.kubeletPull},
		{"probes leave no TLS handshake errors in either container's log", r.quietLogs},
		{"switch to builtin: blobs kept, logins work", func(t *testing.T) { r.switchTo(t, "builtin") }},
		{"switch back to docker_auth: blobs kept, logins work", func(t *testing.T) { r.switchTo(t, "docker_auth") }},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			r.describe(t, nsDA, "registryauth/"+daName, "deployment/"+daName, "pods")
			for _, c := range []string{"auth", "registry"} {
				out, _ := e.kube("", "-n", nsDA, "logs", "deployment/"+daName, "-c", c, "--tail=40")
				t.Logf("logs of %s:\n%s", c, out)
			}
			t.Fatalf("stopping: step %q failed", s.name)
		}
	}
}

// setUpDockerAuth: a docker_auth RegistryAuth without expose.host, its blobs
// on a static hostPath volume (so a provider switch, which replaces the pod,
// keeps them), users admin (everything) and reader (pull).
func setUpDockerAuth(t *testing.T, j *journey) *daRegistry {
	e := j.env
	dir := filepath.Join(t.TempDir(), "blobs")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // the registry runs as a non-root user
		t.Fatal(err)
	}
	e.kubeOK(t, "delete", "namespace", nsDA, "--ignore-not-found", "--wait=true", "--timeout=3m")
	e.kubeOK(t, "delete", "pv", daPV, "--ignore-not-found", "--wait=true", "--timeout=1m")
	e.kubeOK(t, "create", "namespace", nsDA)
	t.Cleanup(func() {
		_, _ = e.kube("", "delete", "namespace", nsDA, "--wait=true", "--timeout=2m")
		_, _ = e.kube("", "delete", "pv", daPV, "--wait=false")
	})
	e.apply(t, map[string]any{
		"apiVersion": "v1", "kind": "PersistentVolume",
		"metadata": map[string]any{"name": daPV},
		"spec": map[string]any{
			"capacity":                      map[string]any{"storage": "1Gi"},
			"accessModes":                   []string{"ReadWriteMany"},
			"persistentVolumeReclaimPolicy": "Retain",
			"storageClassName":              "",
			"hostPath":                      map[string]any{"path": dir, "type": "Directory"},
			"claimRef":                      map[string]any{"namespace": nsDA, "name": daName + "-data"},
		},
	})
	for user, pw := range map[string]string{"admin": adminPass, daReader: daReadPwd} {
		e.apply(t, map[string]any{
			"apiVersion": "v1", "kind": "Secret",
			"metadata":   map[string]any{"namespace": nsDA, "name": daName + "-" + user},
			"stringData": map[string]any{"password": pw},
		})
	}
	e.apply(t, map[string]any{
		"apiVersion": "registryauth.dev/v1alpha1", "kind": "RegistryAuth",
		"metadata": map[string]any{"namespace": nsDA, "name": daName},
		"spec": map[string]any{
			"registry": map[string]any{"storage": map[string]any{"persistentVolumeClaim": map[string]any{
				"size": "1Gi", "storageClassName": "", "accessModes": []string{"ReadWriteMany"}, "volumeName": daPV,
			}}},
			"auth": map[string]any{
				"provider": "docker_auth",
				"users": []any{
					map[string]any{"name": "admin", "passwordSecretRef": map[string]any{"name": daName + "-admin"}},
					map[string]any{"name": daReader, "passwordSecretRef": map[string]any{"name": daName + "-" + daReader}},
				},
				"acl": []any{
					map[string]any{"match": map[string]any{"account": "admin"}, "actions": []string{"*"}},
					map[string]any{"match": map[string]any{"account": daReader}, "actions": []string{"pull"}},
				},
			},
		},
	})
	return &daRegistry{journey: j}
}

// waitProvider waits until the operator saw the current spec, the rollout
// to the provider's pods completed and the RegistryAuth is Ready; then it
// reads the node URL and the CA clients trust.
func (r *daRegistry) waitProvider(t *testing.T, provider string) {
	start := time.Now()
	eventually(t, 6*time.Minute, daName+" Ready with provider "+provider, func() error {
		gen, _ := r.jsonpath(nsDA, "registryauth/"+daName, "{.metadata.generation}")
		obs, _ := r.jsonpath(nsDA, "registryauth/"+daName, "{.status.observedGeneration}")
		ready, _ := r.jsonpath(nsDA, "registryauth/"+daName, `{.status.conditions[?(@.type=="Ready")].status}`)
		msg, _ := r.jsonpath(nsDA, "registryauth/"+daName, `{.status.conditions[?(@.type=="Ready")].message}`)
		if gen != obs || ready != "True" {
			return fmt.Errorf("generation %s observed %s, Ready=%s: %s", gen, obs, ready, msg)
		}
		images, _ := r.jsonpath(nsDA, "deployment/"+daName, "{.spec.template.spec.containers[*].image}")
		if isDA := strings.Contains(images, "docker_auth"); isDA != (provider == "docker_auth") {
			return fmt.Errorf("deployment still runs %s", images)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := exe(ctx, "", r.kubectl, append(r.kubeFlags(), "-n", nsDA, "rollout", "status", "deployment/"+daName, "--timeout=20s")...)
		return err
	})
	r.record(t, "docker_auth e2e: "+provider+" registry Ready and rolled out", time.Since(start))
	node, _ := r.jsonpath(nsDA, "registryauth/"+daName, "{.status.urls.node}")
	r.host = strings.TrimPrefix(node, "https://")
	caBundle, _ := r.jsonpath(nsDA, "registryauth/"+daName, "{.status.caConfigMapName}")
	caPEM, err := r.jsonpath(nsDA, "configmap/"+caBundle, `{.data.ca\.crt}`)
	if err != nil {
		t.Fatal(err)
	}
	if r.caPEM = []byte(caPEM); isCA(r.caPEM) != nil {
		t.Fatalf("CA from ConfigMap %q: %v", caBundle, isCA(r.caPEM))
	}
	r.ca = filepath.Join(r.dir, "ca.crt")
	if err := os.WriteFile(r.ca, r.caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	r.nodeHost = r.host
}

// realmReachable: the registry challenges with the static docker_auth realm
// on the ClusterIP, and that realm issues a token to admin from the
// machine's shell and from the node.
func (r *daRegistry) realmReachable(t *testing.T) {
	ip, _ := r.jsonpath(nsDA, "service/"+daName, "{.spec.clusterIP}")
	want := "https://" + ip + ":5001/auth"
	if realm, _ := r.jsonpath(nsDA, "registryauth/"+daName, "{.status.realm}"); realm != want {
		t.Fatalf("status.realm = %q, want %q", realm, want)
	}
	if err := conditionIsIn(r.env, nsDA, daName, "RealmReachable", "True"); err != nil {
		t.Error(err)
	}
	for where, run := range map[string]runner{"machine": exe, "node": r.inNode} {
		c, err := getV2(run, r.ca, "https://"+r.host)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if c.status != 401 || c.realm != want {
			t.Fatalf("%s: GET /v2/ answered %d with realm %q, want 401 and %s", where, c.status, c.realm, want)
		}
		if status, err := token(run, r.ca, c, "admin", adminPass, "repository:"+daRepo+":pull"); err != nil || status != 200 {
			t.Fatalf("%s: token for admin: %d %v", where, status, err)
		}
		if status, err := token(run, r.ca, c, "admin", "not-"+adminPass, "repository:"+daRepo+":pull"); err != nil || status != 401 {
			t.Fatalf("%s: token with a wrong password: %d %v, want 401", where, status, err)
		}
	}
}

func (r *daRegistry) skopeoFlow(t *testing.T) {
	pause := "oci-archive:" + filepath.Join(r.images, "pause.tar")
	admin := newSkopeo(t, r.host, r.caPEM)
	if err := admin.login(r.host, "admin", adminPass); err != nil {
		t.Fatalf("admin login: %v", err)
	}
	if err := admin.push(pause, r.host+"/"+daRepo+":1"); err != nil {
		t.Fatalf("admin push: %v", err)
	}
	reader := newSkopeo(t, r.host, r.caPEM)
	if err := reader.login(r.host, daReader, daReadPwd); err != nil {
		t.Fatalf("reader login: %v", err)
	}
	if err := reader.pull(r.host+"/"+daRepo+":1", filepath.Join(t.TempDir(), "pulled")); err != nil {
		t.Fatalf("reader pull: %v", err)
	}
	if err := reader.push(pause, r.host+"/e2e/reader-push:1"); !deniedPush(err) {
		t.Fatalf("reader push: got %v, want it denied", err)
	}
	if err := newSkopeo(t, r.host, r.caPEM).login(r.host, "admin", "not-"+adminPass); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
}

// dockerFlow: the daemon trusts the CA for the registry's host:port; the
// realm is another port of the same address, so the CA goes there too, as
// for any classic registry + docker_auth setup.
func (r *daRegistry) dockerFlow(t *testing.T) {
	d := startDockerd(t, r.env, r.host, r.caPEM)
	ip, _, _ := strings.Cut(r.host, ":")
	realmCerts := filepath.Join(d.dir, "etc-docker", "certs.d", ip+":5001")
	if err := os.MkdirAll(realmCerts, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(realmCerts, "ca.crt"), r.caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	img := r.host + "/" + daRepo + ":1"
	pushed := r.host + "/e2e/docker-push:1"
	if _, err := d.cli(adminPass, "login", "--username", "admin", "--password-stdin", r.host); err != nil {
		t.Fatalf("admin docker login: %v", err)
	}
	for _, args := range [][]string{{"pull", img}, {"tag", img, pushed}, {"push", pushed}, {"rmi", img, pushed}, {"logout", r.host}} {
		if _, err := d.cli("", args...); err != nil {
			t.Fatalf("admin docker %s: %v", args[0], err)
		}
	}
	if _, err := d.cli(daReadPwd, "login", "--username", daReader, "--password-stdin", r.host); err != nil {
		t.Fatalf("reader docker login: %v", err)
	}
	if _, err := d.cli("", "pull", pushed); err != nil {
		t.Fatalf("reader docker pull of admin's push: %v", err)
	}
	if _, err := d.cli("", "tag", pushed, r.host+"/e2e/reader-docker:1"); err != nil {
		t.Fatal(err)
	}
	if out, err := d.cli("", "push", r.host+"/e2e/reader-docker:1"); !deniedPush(err) {
		t.Fatalf("reader docker push: %v %s, want it denied", err, out)
	}
}

// kubeletPull: the node trusts the CA through node-trust, the kubelet
// follows the docker_auth realm with the pull Secret's reader credentials.
func (r *daRegistry) kubeletPull(t *testing.T) {
	r.waitNodeTrust(t, r.host, r.caPEM, 2*time.Minute)
	secret := pullSecret("da-pull", r.host, daReader, daReadPwd)
	secret["metadata"].(map[string]any)["namespace"] = nsDA
	p := pod("da-pulled-by-kubelet", r.host+"/"+daRepo+":1", "da-pull")
	p["metadata"].(map[string]any)["namespace"] = nsDA
	r.apply(t, secret)
	r.apply(t, p)
	start := time.Now()
	r.waitRunning(t, nsDA, "da-pulled-by-kubelet")
	r.record(t, "docker_auth e2e: kubelet pull to Pod Running", time.Since(start))
}

// quietLogs: by now the kubelet has probed both containers for minutes.
func (r *daRegistry) quietLogs(t *testing.T) {
	for _, c := range []string{"auth", "registry"} {
		out, err := r.kube("", "-n", nsDA, "logs", "deployment/"+daName, "-c", c)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out, "TLS handshake error"); n > 0 {
			t.Errorf("container %s logged %d TLS handshake errors", c, n)
		}
		if c == "auth" && !strings.Contains(out, "Auth request") {
			t.Errorf("container auth logged no token request: is it docker_auth's log?\n%s", out)
		}
	}
}

// switchTo changes the provider of the running registry and checks that
// the image pushed before is still there and that users log in, push and
// pull through the new provider.
func (r *daRegistry) switchTo(t *testing.T, provider string) {
	admin := newSkopeo(t, r.host, r.caPEM)
	if err := admin.login(r.host, "admin", adminPass); err != nil {
		t.Fatalf("admin login before the switch: %v", err)
	}
	before, err := admin.digest(r.host + "/" + daRepo + ":1")
	if err != nil {
		t.Fatal(err)
	}
	r.kubeOK(t, "-n", nsDA, "patch", "registryauth/"+daName, "--type=merge", "-p", `{"spec":{"auth":{"provider":"`+provider+`"}}}`)
	r.waitProvider(t, provider)

	admin = newSkopeo(t, r.host, r.caPEM)
	eventually(t, time.Minute, "admin login through "+provider, func() error { return admin.login(r.host, "admin", adminPass) })
	if after, err := admin.digest(r.host + "/" + daRepo + ":1"); err != nil || after != before {
		t.Fatalf("after switching to %s: %s is %q (%v), was %s", provider, daRepo, after, err, before)
	}
	pause := "oci-archive:" + filepath.Join(r.images, "pause.tar")
	if err := admin.push(pause, r.host+"/e2e/after-"+strings.ReplaceAll(provider, "_", "-")+":1"); err != nil {
		t.Fatalf("admin push through %s: %v", provider, err)
	}
	reader := newSkopeo(t, r.host, r.caPEM)
	if err := reader.login(r.host, daReader, daReadPwd); err != nil {
		t.Fatalf("reader login through %s: %v", provider, err)
	}
	if err := reader.pull(r.host+"/"+daRepo+":1", filepath.Join(t.TempDir(), "pulled")); err != nil {
		t.Fatalf("reader pull through %s: %v", provider, err)
	}
}

func conditionIsIn(e *env, ns, name, cond, want string) error {
	got, _ := e.jsonpath(ns, "registryauth/"+name, `{.status.conditions[?(@.type=="`+cond+`")].status}`)
	if got != want {
		return fmt.Errorf("%s condition %s = %q, want %s", name, cond, got, want)
	}
	return nil
}
