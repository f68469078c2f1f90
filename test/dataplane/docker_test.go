package dataplane

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
)

// dockerd is a Docker daemon the test started: its own data and exec roots,
// socket, pidfile and config; no bridge, no iptables. It trusts the serving
// CA through SSL_CERT_FILE (the Go default root pool), so nothing is written
// under /etc.
type dockerd struct {
	p      *proc
	sock   string
	client string
}

func startDockerd(t *testing.T, caFile string) *dockerd {
	t.Helper()
	bin := need(t, "dockerd")
	need(t, "containerd") // dockerd starts its own, from PATH
	dir := t.TempDir()
	cfg := filepath.Join(dir, "daemon.json")
	conf := map[string]any{"deprecated-key-path": filepath.Join(dir, "key.json"), "log-level": "warn"}
	b, _ := json.Marshal(conf)
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	d := &dockerd{sock: filepath.Join(dir, "docker.sock")}
	d.p = start(t, "dockerd", []string{"SSL_CERT_FILE=" + caFile}, bin,
		"--config-file="+cfg,
		"--data-root="+filepath.Join(dir, "data"),
		"--exec-root="+filepath.Join(dir, "exec"),
		"--pidfile="+filepath.Join(dir, "docker.pid"),
		"-H", "unix://"+d.sock,
		"--iptables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none",
		"--storage-driver=vfs")
	// Debian's client matches the daemon; fall back to whatever docker is on PATH.
	d.client = "/usr/bin/docker"
	if _, err := os.Stat(d.client); err != nil {
		d.client = need(t, "docker")
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if out, err := exec.Command(d.client, "-H", "unix://"+d.sock, "version").CombinedOutput(); err == nil {
			break
		} else if time.Now().After(deadline) || d.p.exited() {
			t.Fatalf("dockerd did not come up: %v\n%s\n%s", err, out, tail(d.p.log, 30))
		}
		time.Sleep(300 * time.Millisecond)
	}
	return d
}

// cli runs the docker client as one user (its own DOCKER_CONFIG).
func (d *dockerd) cli(t *testing.T, config, stdin string, args ...string) (string, error) {
	t.Helper()
	argv := append([]string{d.client, "-H", "unix://" + d.sock}, args...)
	return run(t, stdin, []string{"DOCKER_CONFIG=" + config}, argv...)
}

// load puts a random image named ref into the daemon, from a tarball.
func (d *dockerd) load(t *testing.T, config, ref string) {
	t.Helper()
	img, err := random.Image(4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(t.TempDir(), "img.tar")
	if err := tarball.WriteToFile(tarPath, tag, img); err != nil {
		t.Fatal(err)
	}
	if out, err := d.cli(t, config, "", "load", "-i", tarPath); err != nil {
		t.Fatalf("docker load: %v\n%s", err, out)
	}
}

// TestDockerDaemon: docker login / push / pull through the front door, on a
// non-loopback address so the daemon verifies TLS against the serving CA.
func TestDockerDaemon(t *testing.T) {
	need(t, "dockerd")
	if !inNetns() {
		rerunInNetns(t, "TestDockerDaemon")
		return
	}
	s := newStackOn(t, frontDoor, netnsAddr)

	// First, a daemon that trusts some other CA: it must refuse the front
	// door's certificate, which shows the daemon really verifies TLS here.
	otherCA := filepath.Join(t.TempDir(), "other-ca.crt")
	if err := os.WriteFile(otherCA, authtest.NewCA("unrelated CA").CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	untrusting := startDockerd(t, otherCA)
	out, err := untrusting.cli(t, t.TempDir(), "badmin", "login", "-u", "admin", "--password-stdin", s.host)
	if err == nil || !strings.Contains(out, "x509") {
		t.Fatalf("a daemon not trusting the serving CA logged in: %v\n%s", err, out)
	}
	untrusting.p.stop(t)

	d := startDockerd(t, s.env.ServingCAFile())
	adminCfg, pullerCfg := t.TempDir(), t.TempDir()

	out, err = d.cli(t, adminCfg, "badmin", "login", "-u", "admin", "--password-stdin", s.host)
	if err != nil || !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	// docker login asked for a refresh token and keeps it instead of the password.
	cfg, _ := os.ReadFile(filepath.Join(adminCfg, "config.json"))
	if !strings.Contains(string(cfg), `"identitytoken"`) || strings.Contains(string(cfg), "YWRtaW46YmFkbWlu") {
		t.Errorf("docker config.json should hold an identity token and no password:\n%s", cfg)
	}

	ref := s.ref("admin/hello", "v1")
	d.load(t, adminCfg, ref)
	if out, err := d.cli(t, adminCfg, "", "push", ref); err != nil {
		t.Fatalf("docker push: %v\n%s", err, out)
	}
	// The daemon pushed with the refresh token (OAuth2 refresh_token grant).
	if n := s.metric(t, `registry_auth_tokens_issued_total{grant="refresh_token"}`); n < 1 {
		t.Errorf("no token was issued for the daemon's refresh_token grant")
	}
	if out, err := d.cli(t, adminCfg, "", "rmi", ref); err != nil {
		t.Fatalf("docker rmi: %v\n%s", err, out)
	}
	if out, err := d.cli(t, adminCfg, "", "pull", ref); err != nil {
		t.Fatalf("docker pull: %v\n%s", err, out)
	}

	// A pull-only user pulls but cannot push.
	if out, err := d.cli(t, pullerCfg, "pull-only-pass", "login", "-u", "puller", "--password-stdin", s.host); err != nil {
		t.Fatalf("puller login: %v\n%s", err, out)
	}
	if out, err := d.cli(t, pullerCfg, "", "pull", ref); err != nil {
		t.Errorf("puller pull: %v\n%s", err, out)
	}
	other := s.ref("library/hello", "v1")
	if out, err := d.cli(t, pullerCfg, "", "tag", ref, other); err != nil {
		t.Fatal(out)
	}
	out, err = d.cli(t, pullerCfg, "", "push", other)
	if err == nil || !(strings.Contains(out, "denied") || strings.Contains(out, "unauthorized")) {
		t.Errorf("puller push: %v\n%s", err, out)
	}

	// Wrong password.
	out, err = d.cli(t, t.TempDir(), "wrong", "login", "-u", "admin", "--password-stdin", s.host)
	if err == nil || !strings.Contains(out, "invalid username or password") {
		t.Errorf("wrong password login: %v\n%s", err, out)
	}

	// Changing admin's password revokes the daemon's stored refresh token.
	if err := s.env.SetPassword("admin", "new-badmin", 5); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new password", func() bool {
		_, err := s.crane("admin", "new-badmin").pull("admin/hello", "v1")
		return err == nil
	})
	out, err = d.cli(t, adminCfg, "", "push", ref)
	if err == nil || !strings.Contains(out, "unauthorized") {
		t.Errorf("push with a revoked refresh token: %v\n%s", err, out)
	}
	if out, err := d.cli(t, adminCfg, "new-badmin", "login", "-u", "admin", "--password-stdin", s.host); err != nil {
		t.Fatalf("login with the new password: %v\n%s", err, out)
	}
	if out, err := d.cli(t, adminCfg, "", "push", ref); err != nil {
		t.Errorf("push after logging in again: %v\n%s", err, out)
	}
}
