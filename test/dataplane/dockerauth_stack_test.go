package dataplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// dockerAuthBinary is docker_auth's auth_server: the prebuilt test fixture
// of ../shared/thirdparty/docker_auth (hack/build-tools.sh docker_auth finds
// it and checks its SHA256SUMS). Missing, it fails the test under make
// (DATAPLANE_STRICT=1) and wherever CI=true; elsewhere it skips.
func dockerAuthBinary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("DOCKER_AUTH_BIN")
	var why string
	if bin == "" {
		cmd := exec.Command(filepath.Join(repoRoot, "hack/build-tools.sh"), "docker_auth")
		out, err := cmd.CombinedOutput()
		if err == nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			bin = filepath.Join(lines[len(lines)-1], "auth_server")
		} else {
			why = strings.TrimSpace(string(out))
		}
	}
	if bin != "" {
		if _, err := os.Stat(bin); err == nil {
			return bin
		} else {
			why = err.Error()
		}
	}
	msg := "docker_auth's auth_server (../shared/thirdparty/docker_auth) is not available: " + why
	if os.Getenv("DATAPLANE_STRICT") == "1" || os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// daUsers are the accounts of the docker_auth tests and their passwords.
var daUsers = map[string]string{"admin": "badmin", "puller": "pull-only-pass", "alice": "alice-pass"}

// daRegistryAuth is the RegistryAuth the docker_auth tests render: the seed's
// example (admin may do anything, puller pulls, everyone owns <name>/*).
func daRegistryAuth(registryImage string) *v1alpha1.RegistryAuth {
	ra := &v1alpha1.RegistryAuth{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "registry"},
		Spec: v1alpha1.RegistryAuthSpec{
			Registry: v1alpha1.RegistrySpec{Image: registryImage},
			Auth: v1alpha1.AuthSpec{
				Provider: v1alpha1.ProviderDockerAuth,
				ACL: []v1alpha1.ACLRule{
					{Match: v1alpha1.ACLMatch{Account: ptr.To("admin")}, Actions: []string{"*"}},
					{Match: v1alpha1.ACLMatch{Account: ptr.To("puller")}, Actions: []string{"pull"}},
					{Match: v1alpha1.ACLMatch{Account: ptr.To("/.+/"), Name: ptr.To("${account}/*")}, Actions: []string{"pull", "push"}},
				},
			},
		},
	}
	for _, u := range []string{"admin", "puller", "alice"} {
		ra.Spec.Auth.Users = append(ra.Spec.Auth.Users, v1alpha1.User{Name: u,
			PasswordSecretRef: v1alpha1.SecretKeyRef{Name: "acme-" + u, Key: "password"}})
	}
	return ra
}

// daStack is the docker_auth provider's pod on the host: the registry and
// docker_auth run with the config files and arguments the operator renders
// for a Service whose ClusterIP is clusterIP. The only change is where files
// live: pod paths are mapped to the test's directories.
type daStack struct {
	ra        *v1alpha1.RegistryAuth
	wiring    render.Wiring
	pod       []corev1.Container // the rendered containers
	dir       string
	paths     *strings.Replacer
	servingCA *pki.KeyPair
	caFile    string // the serving CA, as clients trust it
	hashes    map[string]string
	auth      *proc
	registry  *proc
	host      string // <ClusterIP>:5000, what clients pull from
	tls       *tls.Config
}

// newDAStack renders and starts the pod's two processes; registryCmd is the
// registry binary (v3 or Debian's 2.8) and registryImage the image the
// RegistryAuth names for it (the rendering depends on its line). docker_auth's TMPDIR is a directory
// that does not exist: it stands for the pod's read-only root filesystem
// (the tests run as root, which a read-only mode would not stop).
func newDAStack(t *testing.T, clusterIP, registryImage, registryCmd string, servingCA *pki.KeyPair, caFile string) *daStack {
	t.Helper()
	ra := daRegistryAuth(registryImage)
	opts := render.DefaultOptions()
	svc := render.DesiredService(ra, "")
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = clusterIP, []string{clusterIP}
	s := &daStack{ra: ra, wiring: render.Wire(ra, opts, svc), dir: t.TempDir(), servingCA: servingCA, caFile: caFile,
		hashes: map[string]string{}, host: net.JoinHostPort(clusterIP, itoa(render.PortFrontDoor)),
		tls: &tls.Config{RootCAs: x509.NewCertPool()}}
	s.tls.RootCAs.AddCert(servingCA.Cert)
	d := func(p string) string { return filepath.Join(s.dir, p) }
	// Longest first where one pod path prefixes another.
	s.paths = strings.NewReplacer(
		render.TokenBundleDir, d("token-ca"), render.TokenSigningDir, d("token"), render.ServingTLSDir, d("tls"),
		render.DockerAuthConfigDir+"/", d("config")+"/", render.StorageDir, d("data"),
		render.RegistryConfigDir, d("registry-config"))

	// Certificates as the operator issues them for docker_auth: serving
	// certificate for ServingSANs (the ClusterIP among them); an RSA-2048
	// signing leaf, which is itself the registry's whole bundle.
	now := time.Now()
	serving, err := servingCA.IssueServing(pki.Template{CommonName: "serving", SANs: render.ServingSANs(ra, opts, svc),
		Lifetime: time.Hour, Algorithm: pki.ECDSAP256}, now)
	if err != nil {
		t.Fatal(err)
	}
	tokenCA, err := pki.NewCA(pki.Template{CommonName: "token CA", Lifetime: time.Hour, Algorithm: pki.ECDSAP256}, now)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := tokenCA.IssueSigning(pki.Template{CommonName: "token signer", Lifetime: time.Hour, Algorithm: pki.RSA2048}, now)
	if err != nil {
		t.Fatal(err)
	}
	writePair(t, d("tls"), serving)
	writePair(t, d("token"), leaf)
	writeFile(t, filepath.Join(d("token-ca"), render.TokenBundleFile), pki.EncodeCertificates(leaf.Cert))
	for u, pw := range daUsers {
		s.hashes[u] = authtest.Hash(pw, authconfig.BcryptCost) // as the operator hashes
	}
	s.writeAuthConfig(t)

	regYAML, err := render.RegistryConfig(ra, s.wiring)
	if err != nil {
		t.Fatal(err)
	}
	regPath := filepath.Join(d("registry-config"), render.RegistryConfigFile)
	writeFile(t, regPath, []byte(s.paths.Replace(string(regYAML))))
	if err := os.MkdirAll(d("data"), 0o755); err != nil {
		t.Fatal(err)
	}

	dep := render.DesiredDeployment(ra, opts, nil)
	s.pod = dep.Spec.Template.Spec.Containers
	for _, c := range dep.Spec.Template.Spec.Containers {
		args := make([]string, len(c.Args))
		for i, a := range c.Args {
			args[i] = s.paths.Replace(a)
		}
		switch c.Name {
		case render.ContainerRegistry:
			s.registry = start(t, "registry", []string{"REGISTRY_HTTP_SECRET=dataplane-http-secret", "OTEL_TRACES_EXPORTER=none"},
				append([]string{registryCmd}, args...)...)
		case render.ContainerAuth:
			s.auth = start(t, "docker_auth", []string{"TMPDIR=" + d("read-only-rootfs/tmp")},
				append([]string{dockerAuthBinary(t)}, args...)...)
		}
	}
	// Ready as the kubelet sees it: the rendered probes, over TLS.
	s.probe(t, dep.Spec.Template.Spec.Containers, 1)
	return s
}

// probe runs each container's rendered readiness and liveness probes n
// times as the kubelet does (HTTPS, certificate not verified; 200-399 is
// success), after waiting for the first to pass.
func (s *daStack) probe(t *testing.T, containers []corev1.Container, n int) {
	t.Helper()
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for _, c := range containers {
		proc := s.registry
		if c.Name == render.ContainerAuth {
			proc = s.auth
		}
		for _, pr := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
			if pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Scheme != corev1.URISchemeHTTPS {
				t.Fatalf("container %s: probe %+v, want an HTTPS GET", c.Name, pr)
			}
			u := "https://" + net.JoinHostPort(s.wiring.RealmHost, pr.HTTPGet.Port.String()) + pr.HTTPGet.Path
			waitHTTP(t, proc, u, &tls.Config{InsecureSkipVerify: true}, http.StatusOK)
			for range n - 1 {
				resp, err := client.Get(u)
				if err != nil {
					t.Fatalf("probe %s: %v", u, err)
				}
				resp.Body.Close()
				if resp.StatusCode < 200 || resp.StatusCode > 399 {
					t.Fatalf("probe %s: %s", u, resp.Status)
				}
			}
		}
	}
}

// writeAuthConfig renders the auth config for the current hashes and writes
// it the way the kubelet updates a Secret volume (an atomic ..data swap).
func (s *daStack) writeAuthConfig(t *testing.T) {
	t.Helper()
	cfg, err := render.AuthConfig(s.ra, s.wiring, s.hashes)
	if err != nil {
		t.Fatal(err)
	}
	y, err := authconfig.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := authtest.WriteSecretDir(filepath.Join(s.dir, "config"), map[string][]byte{
		authconfig.ConfigFile: []byte(s.paths.Replace(string(y))),
	}); err != nil {
		t.Fatal(err)
	}
}

// token asks docker_auth for a token as user and returns the HTTP status,
// or 0 when the request failed: docker_auth restarts its listener when it
// reloads its config, and a request in flight then sees the connection close.
func (s *daStack) token(t *testing.T, user, password, scope string) int {
	t.Helper()
	q := url.Values{"service": {s.wiring.Service}, "scope": {scope}}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, s.wiring.Realm+"?"+q.Encode(), nil)
	req.SetBasicAuth(user, password)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: s.tls.Clone()}}
	resp, err := c.Do(req)
	if err != nil {
		t.Logf("token request: %v", err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (s *daStack) ref(repo, tag string) string { return s.host + "/" + repo + ":" + tag }

func writePair(t testing.TB, dir string, kp *pki.KeyPair) {
	t.Helper()
	key, err := kp.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, corev1.TLSCertKey), kp.CertPEM())
	writeFile(t, filepath.Join(dir, corev1.TLSPrivateKeyKey), key)
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
