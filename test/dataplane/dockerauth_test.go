package dataplane

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	ocilayout "github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// TestDockerAuthLive runs the docker_auth provider for real: docker_auth
// 1.14 with the config and arguments the operator renders issues the tokens
// that distribution v3.1.2 and Debian's registry 2.8 verify, with the
// registry's rendered config; skopeo and the Docker CLI log in, push and
// pull. It runs in a network namespace, where the rendered ports (5000,
// 5001) are free and the "ClusterIP" is an address clients verify TLS on.
func TestDockerAuthLive(t *testing.T) {
	if !inNetns() {
		t.Setenv("DOCKER_AUTH_BIN", dockerAuthBinary(t))
		need(t, "docker-registry")
		need(t, "skopeo")
		need(t, "dockerd")
		rerunInNetns(t, "TestDockerAuthLive")
		return
	}
	servingCA, err := pki.NewCA(pki.Template{CommonName: "serving CA", Lifetime: time.Hour, Algorithm: pki.ECDSAP256}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	writeFile(t, caFile, servingCA.CertPEM())
	d := startDockerd(t, caFile)

	for _, reg := range []struct{ name, image, bin string }{
		{"registry-v3.1.2", "registry:3", registryBin},
		{"registry-2.8", "registry:2.8", need(t, "docker-registry")},
	} {
		t.Run(reg.name, func(t *testing.T) {
			s := newDAStack(t, netnsAddr, reg.image, reg.bin, servingCA, caFile)
			if !strings.HasPrefix(s.wiring.Realm, "https://"+netnsAddr+":5001/") {
				t.Fatalf("realm %s does not name the ClusterIP", s.wiring.Realm)
			}
			t.Run("probes log nothing", func(t *testing.T) { daQuietProbes(t, s) })
			t.Run("debug server on loopback only", func(t *testing.T) { daDebugOnLoopback(t, s) })
			t.Run("skopeo", func(t *testing.T) { daSkopeoFlow(t, s) })
			t.Run("docker", func(t *testing.T) { daDockerFlow(t, s, d) })
		})
	}
	t.Run("live reload", func(t *testing.T) {
		s := newDAStack(t, netnsAddr, "registry:3", registryBin, servingCA, caFile)
		daLiveReload(t, s)
	})
}

// daQuietProbes: a minute's worth of the kubelet's probes adds no line to
// either container's log (a TCP probe of a TLS port logged a handshake error
// each time; the registry's access log a line per GET /).
func daQuietProbes(t *testing.T, s *daStack) {
	size := func(p *proc) int64 {
		fi, err := os.Stat(p.log)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	time.Sleep(300 * time.Millisecond) // startup lines written
	auth, reg := size(s.auth), size(s.registry)
	s.probe(t, s.pod, 12)
	time.Sleep(300 * time.Millisecond)
	if a, r := size(s.auth), size(s.registry); a != auth || r != reg {
		t.Errorf("probes grew the logs: docker_auth %d -> %d bytes, registry %d -> %d bytes\n%s\n%s",
			auth, a, reg, r, tail(s.auth.log, 5), tail(s.registry.log, 5))
	}
}

// daDebugOnLoopback: the registry's debug server (pprof) answers on
// 127.0.0.1 only; its TLS API is on the pod address.
func daDebugOnLoopback(t *testing.T, s *daStack) {
	debug := itoa(render.PortRegistryDebug)
	waitHTTP(t, s.registry, "http://127.0.0.1:"+debug+"/debug/health", nil, http.StatusOK)
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(netnsAddr, debug), 2*time.Second); err == nil {
		c.Close()
		t.Errorf("the registry's debug server answers on the pod address %s:%s", netnsAddr, debug)
	}
}

// daSkopeoFlow: admin pushes, the pull-only user pulls and may not push, a
// wrong password and an unknown user are refused.
func daSkopeoFlow(t *testing.T, s *daStack) {
	layout := "oci:" + filepath.Join(t.TempDir(), "layout") + ":v1"
	admin := newSkopeo(t, s.servingCA.CertPEM())
	if out, err := admin.login(t, s.host, "admin", daUsers["admin"]); err != nil || !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("admin login: %v\n%s", err, out)
	}
	// An image to push: a random one written to an OCI layout first.
	writeRandomLayout(t, layout)
	if out, err := admin.copy(t, layout, "docker://"+s.ref("library/app", "v1")); err != nil {
		t.Fatalf("admin push: %v\n%s", err, out)
	}
	want, err := admin.inspect(t, s.ref("library/app", "v1"))
	if err != nil || want == "" {
		t.Fatalf("admin inspect: %q %v", want, err)
	}

	puller := newSkopeo(t, s.servingCA.CertPEM())
	if out, err := puller.login(t, s.host, "puller", daUsers["puller"]); err != nil {
		t.Fatalf("puller login: %v\n%s", err, out)
	}
	if got, err := puller.inspect(t, s.ref("library/app", "v1")); err != nil || got != want {
		t.Errorf("puller inspect: %q %v, want %s", got, err, want)
	}
	if out, err := puller.copy(t, "docker://"+s.ref("library/app", "v1"), "oci:"+filepath.Join(t.TempDir(), "pulled")+":v1"); err != nil {
		t.Errorf("puller pull: %v\n%s", err, out)
	}
	out, err := puller.copy(t, layout, "docker://"+s.ref("library/app", "stolen"))
	wantRefused(t, "puller push", out, err)

	for _, bad := range [][2]string{{"admin", "not-the-password"}, {"mallory", "whatever"}} {
		out, err := newSkopeo(t, s.servingCA.CertPEM()).login(t, s.host, bad[0], bad[1])
		if err == nil || !strings.Contains(out, "invalid username/password") {
			t.Errorf("login as %s with a wrong password: %v\n%s", bad[0], err, out)
		}
	}
}

// daDockerFlow: the same with the Docker CLI and a daemon that verifies TLS
// against the serving CA.
func daDockerFlow(t *testing.T, s *daStack, d *dockerd) {
	adminCfg, pullerCfg := t.TempDir(), t.TempDir()
	if out, err := d.cli(t, adminCfg, daUsers["admin"], "login", "-u", "admin", "--password-stdin", s.host); err != nil || !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	ref := s.ref("admin/hello", "v1")
	d.load(t, adminCfg, ref)
	if out, err := d.cli(t, adminCfg, "", "push", ref); err != nil {
		t.Fatalf("docker push: %v\n%s", err, out)
	}
	if out, err := d.cli(t, adminCfg, "", "rmi", ref); err != nil {
		t.Fatalf("docker rmi: %v\n%s", err, out)
	}
	if out, err := d.cli(t, pullerCfg, daUsers["puller"], "login", "-u", "puller", "--password-stdin", s.host); err != nil {
		t.Fatalf("puller login: %v\n%s", err, out)
	}
	if out, err := d.cli(t, pullerCfg, "", "pull", ref); err != nil {
		t.Fatalf("puller pull: %v\n%s", err, out)
	}
	other := s.ref("library/hello", "v1")
	if out, err := d.cli(t, pullerCfg, "", "tag", ref, other); err != nil {
		t.Fatal(out)
	}
	out, err := d.cli(t, pullerCfg, "", "push", other)
	wantRefused(t, "puller docker push", out, err)
	out, err = d.cli(t, t.TempDir(), "wrong", "login", "-u", "admin", "--password-stdin", s.host)
	if err == nil || !strings.Contains(out, "401 Unauthorized") && !strings.Contains(out, "unauthorized") {
		t.Errorf("docker login with a wrong password: %v\n%s", err, out)
	}
	// Leave the daemon's image store as it was for the next registry.
	_, _ = d.cli(t, adminCfg, "", "rmi", ref, other)
}

// daLiveReload: docker_auth watches its config file. A changed password, a
// second change and a removed user take effect in the running process (no
// restart), written the way the kubelet updates a Secret volume.
func daLiveReload(t *testing.T, s *daStack) {
	scope := "repository:admin/app:pull,push"
	if c := s.token(t, "admin", "badmin", scope); c != http.StatusOK {
		t.Fatalf("admin token before the change: %d", c)
	}
	pid := s.auth.cmd.Process.Pid
	old := daUsers["admin"]
	for _, next := range []string{"badmin-2", "badmin-3"} {
		s.hashes["admin"] = authtest.Hash(next, authconfig.BcryptCost)
		s.writeAuthConfig(t)
		start := time.Now()
		waitFor(t, "docker_auth accepting admin's password "+next, func() bool {
			return s.token(t, "admin", next, scope) == http.StatusOK
		})
		t.Logf("password change to %s took effect after %v", next, time.Since(start).Round(10*time.Millisecond))
		if c := s.token(t, "admin", old, scope); c != http.StatusUnauthorized {
			t.Errorf("the replaced password %s still gets %d", old, c)
		}
		old = next
	}
	delete(s.hashes, "alice")
	s.writeAuthConfig(t)
	waitFor(t, "docker_auth refusing the removed user", func() bool {
		return s.token(t, "alice", "alice-pass", "repository:alice/app:pull") == http.StatusUnauthorized
	})
	if s.auth.exited() || s.auth.cmd.Process.Pid != pid {
		t.Fatal("docker_auth restarted: the change was not reloaded live")
	}
	// End to end with the new password.
	u := newSkopeo(t, s.servingCA.CertPEM())
	if out, err := u.login(t, s.host, "admin", "badmin-3"); err != nil {
		t.Fatalf("login with the reloaded password: %v\n%s", err, out)
	}
	layout := "oci:" + filepath.Join(t.TempDir(), "layout") + ":v1"
	writeRandomLayout(t, layout)
	if out, err := u.copy(t, layout, "docker://"+s.ref("admin/app", "v1")); err != nil {
		t.Fatalf("push with the reloaded password: %v\n%s", err, out)
	}
}

// wantRefused: a client command failed because the registry refused it,
// not for another reason.
func wantRefused(t *testing.T, what, out string, err error) {
	t.Helper()
	low := strings.ToLower(out)
	if err == nil {
		t.Errorf("%s: allowed, want refused\n%s", what, out)
	} else if !strings.Contains(low, "denied") && !strings.Contains(low, "unauthorized") {
		t.Errorf("%s failed for another reason: %v\n%s", what, err, out)
	}
}

// writeRandomLayout writes a small random image to an OCI layout reference
// ("oci:DIR:TAG") for skopeo to push.
func writeRandomLayout(t *testing.T, ref string) {
	t.Helper()
	dir, tag, _ := strings.Cut(strings.TrimPrefix(ref, "oci:"), ":")
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	// skopeo finds a tag in a layout only on an OCI manifest.
	img = mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
	p, err := ocilayout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, ocilayout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
		t.Fatal(err)
	}
}
