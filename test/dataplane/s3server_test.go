package dataplane

import (
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// s3Server is a real S3-compatible server: versitygw (built from the Go
// module proxy by hack/build-tools.sh) with its posix backend on a temp
// dir, listening on loopback. Objects are plain files under root/<bucket>,
// so a test can count the bytes the registry keeps there.
type s3Server struct {
	endpoint, bucket string
	access, secret   string
	root             string // the backend's top directory; buckets are its subdirectories
	caFile           string // with TLS: the PEM CA that issued the server's certificate
}

func startS3(t testing.TB) *s3Server { return startS3On(t, false) }

// startS3On serves https with a certificate from a private CA when tls.
func startS3On(t testing.TB, tls bool) *s3Server {
	t.Helper()
	bin := os.Getenv("VERSITYGW_BIN")
	if bin == "" {
		cmd := exec.Command(filepath.Join(repoRoot, "hack/build-tools.sh"), "versitygw")
		cmd.Stderr = os.Stderr
		dir, err := cmd.Output()
		if err != nil {
			t.Fatalf("hack/build-tools.sh versitygw: %v", err)
		}
		bin = filepath.Join(strings.TrimSpace(string(dir)), "versitygw")
	}
	s := &s3Server{bucket: "registry", access: "dataplane-access", secret: "dataplane-secret-" + itoa(os.Getpid()),
		root: filepath.Join(t.TempDir(), "gw")}
	// A bucket of the posix backend is a directory under the root; the
	// sidecar keeps object metadata out of it (and off xattrs, which a
	// tmpfs may not offer).
	side := filepath.Join(t.TempDir(), "meta")
	for _, d := range []string{filepath.Join(s.root, s.bucket), side} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	addr := hostPort(freePort(t))
	s.endpoint = "http://" + addr
	args := []string{bin, "--port", addr, "--quiet"}
	if tls {
		ca := authtest.NewCA("s3 test CA")
		leaf := ca.Issue("s3", authtest.EC256, "127.0.0.1")
		dir := t.TempDir()
		s.caFile = filepath.Join(dir, "ca.crt")
		writeFile(t, s.caFile, ca.CertPEM())
		writeFile(t, filepath.Join(dir, "tls.crt"), leaf.CertPEM())
		writeFile(t, filepath.Join(dir, "tls.key"), leaf.KeyPEM())
		args = append(args, "--cert", filepath.Join(dir, "tls.crt"), "--key", filepath.Join(dir, "tls.key"))
		s.endpoint = "https://" + addr
	}
	// Credentials through the environment, not argv (ps shows argv).
	p := start(t, "versitygw", []string{"ROOT_ACCESS_KEY_ID=" + s.access, "ROOT_SECRET_ACCESS_KEY=" + s.secret},
		append(args, "posix", "--sidecar", side, s.root)...)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("versitygw not listening on %s: %v\n%s", addr, err, tail(p.log, 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// registryStorage is the storage section the operator renders for s on
// this server (from internal/render, so the test runs what pods run), and
// the environment the rendered Deployment gives the registry container
// (credentials; with TLS, AWS_CA_BUNDLE).
func (s *s3Server) registryStorage(t testing.TB) (map[string]any, []string) {
	t.Helper()
	ra := &v1alpha1.RegistryAuth{}
	ra.Name, ra.Namespace = "dataplane", "s3"
	ra.Spec.Registry.Storage.S3 = &v1alpha1.S3Storage{Bucket: s.bucket, Endpoint: s.endpoint, ForcePathStyle: true,
		RootDirectory: "/dataplane", CredentialsSecretRef: &v1alpha1.S3CredentialsRef{Name: "s3"}}
	if s.caFile != "" {
		ra.Spec.Registry.Storage.S3.CABundleRef = &v1alpha1.ConfigMapKeyRef{Name: "s3-ca"}
	}
	out, err := render.RegistryConfig(ra, render.Wiring{})
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Storage map[string]any `json:"storage"`
	}
	if err := yaml.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	env := []string{render.EnvS3AccessKey + "=" + s.access, render.EnvS3SecretKey + "=" + s.secret}
	if s.caFile != "" {
		// The rendered variable, pointing at this test's copy of the CA
		// instead of the pod's mount of the ConfigMap.
		env = append(env, render.EnvS3CABundle+"="+s.caFile)
	}
	return cfg.Storage, env
}

// blobPath is where the registry keeps blob hex (sha256) in the bucket.
func (s *s3Server) blobPath(hex string) string {
	return filepath.Join(s.root, s.bucket, "dataplane/docker/registry/v2/blobs/sha256", hex[:2], hex, "data")
}

// bytes counts what the bucket holds on the server's disk.
func (s *s3Server) bytes(t testing.TB) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(filepath.Join(s.root, s.bucket), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
