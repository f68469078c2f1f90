package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dockerd is Debian's Docker daemon (docker.io), started by the test in the
// cluster's network namespace with its own data root, exec root and socket.
// It runs in a private mount namespace where /etc/docker is a directory of
// the test's: the daemon reads registry CAs from /etc/docker/certs.d only,
// and the machine's own /etc must stay untouched.
type dockerd struct {
	cmd       *exec.Cmd
	dir, sock string
}

const dockerCLI = "/usr/bin/docker" // the client of the same package

func startDockerd(t *testing.T, e *env, host string, caPEM []byte) *dockerd {
	t.Helper()
	// Short path: containerd's socket lives below it (108-byte limit).
	dir, err := os.MkdirTemp("", "e2e-docker-")
	if err != nil {
		t.Fatal(err)
	}
	d := &dockerd{dir: dir, sock: filepath.Join(dir, "docker.sock")}
	t.Cleanup(d.stop)
	certs := filepath.Join(dir, "etc-docker", "certs.d", host)
	if err := os.MkdirAll(certs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(certs, "ca.crt"), caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	// nsenter, unshare and sh all exec: the PID we hold is dockerd's.
	d.cmd = exec.Command("nsenter", "--net=/var/run/netns/"+e.netns,
		"unshare", "--mount", "--propagation", "private",
		"sh", "-c", `mount --bind "$0" /etc/docker && exec dockerd "$@"`, filepath.Join(dir, "etc-docker"),
		"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"), "-H", "unix://"+d.sock,
		// No bridge, no iptables: the daemon only logs in, pushes and pulls.
		"--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--ip-forward=false",
		"--log-level=warn")
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "dockerd to answer", func() error {
		_, err := d.cli("", "version")
		return err
	})
	return d
}

func (d *dockerd) cli(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dockerCLI, append([]string{"-H", "unix://" + d.sock}, args...)...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+filepath.Join(d.dir, "client"))
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// stop ends dockerd (which stops the containerd it started) and, should it
// not exit, kills both by their recorded PIDs; then removes its files.
func (d *dockerd) stop() {
	if d.cmd != nil && d.cmd.Process != nil {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = d.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = d.cmd.Process.Kill()
			<-done
		}
	}
	if b, err := os.ReadFile(filepath.Join(d.dir, "exec", "containerd", "containerd.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && syscall.Kill(pid, 0) == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	_ = os.RemoveAll(d.dir)
}

// dockerCLI: the classic setup's users with the Docker CLI.
func (j *journey) dockerCLI(t *testing.T) {
	host := j.nodeHost
	d := startDockerd(t, j.env, host, j.caPEM)

	if _, err := d.cli(adminPass, "login", "--username", "admin", "--password-stdin", host); err != nil {
		t.Fatalf("admin docker login: %v", err)
	}
	if _, err := d.cli("", "pull", host+"/e2e/pause:1"); err != nil {
		t.Fatalf("admin docker pull: %v", err)
	}
	if _, err := d.cli("", "tag", host+"/e2e/pause:1", host+"/e2e/docker-push:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.cli("", "push", host+"/e2e/docker-push:1"); err != nil {
		t.Fatalf("admin docker push: %v", err)
	}
	// Forget the images: the reader's pull must come from the registry.
	if _, err := d.cli("", "rmi", host+"/e2e/pause:1", host+"/e2e/docker-push:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.cli("", "logout", host); err != nil {
		t.Fatal(err)
	}

	if _, err := d.cli(readerPass, "login", "--username", "reader", "--password-stdin", host); err != nil {
		t.Fatalf("reader docker login: %v", err)
	}
	if _, err := d.cli("", "pull", host+"/e2e/docker-push:1"); err != nil {
		t.Fatalf("reader docker pull of admin's push: %v", err)
	}
	if _, err := d.cli("", "tag", host+"/e2e/docker-push:1", host+"/e2e/reader-docker:1"); err != nil {
		t.Fatal(err)
	}
	if out, err := d.cli("", "push", host+"/e2e/reader-docker:1"); !deniedPush(err) {
		t.Fatalf("reader docker push: %v %s, want it denied", err, out)
	}
	if _, err := d.cli("wrong-"+readerPass, "login", "--username", "reader", "--password-stdin", host); err == nil {
		t.Fatal("docker login with a wrong password succeeded")
	}
}
