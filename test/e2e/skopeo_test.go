package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// skopeo is one user's skopeo: own auth file, trusting the registry's CA via
// a cert dir (nothing written to the machine's /etc or the user's home).
type skopeo struct {
	authfile, certDir string
}

func newSkopeo(t *testing.T, host string, caPEM []byte) *skopeo {
	dir := t.TempDir()
	certDir := filepath.Join(dir, "certs.d", host)
	if err := os.MkdirAll(certDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(certDir, "ca.crt"), caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return &skopeo{authfile: filepath.Join(dir, "auth.json"), certDir: certDir}
}

func (s *skopeo) run(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	return exe(ctx, stdin, "skopeo", append([]string{"--command-timeout", "120s"}, args...)...)
}

func (s *skopeo) login(host, user, password string) error {
	_, err := s.run(password, "login", "--authfile", s.authfile, "--cert-dir", s.certDir, "-u", user, "--password-stdin", host)
	return err
}

func (s *skopeo) push(src, dst string) error {
	_, err := s.run("", "copy", "-q", "--dest-authfile", s.authfile, "--dest-cert-dir", s.certDir, src, "docker://"+dst)
	return err
}

func (s *skopeo) pull(src, dstDir string) error {
	_, err := s.run("", "copy", "-q", "--src-authfile", s.authfile, "--src-cert-dir", s.certDir, "docker://"+src, "oci:"+dstDir)
	return err
}

func (s *skopeo) digest(ref string) (string, error) {
	out, err := s.run("", "inspect", "--authfile", s.authfile, "--cert-dir", s.certDir, "docker://"+ref)
	if err != nil {
		return "", err
	}
	var m struct{ Digest string }
	err = json.Unmarshal([]byte(out), &m)
	return m.Digest, err
}

// deniedPush: the error a registry gives a user without push rights.
func deniedPush(err error) bool {
	if err == nil {
		return false
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "denied") || strings.Contains(s, "unauthorized") || strings.Contains(s, "insufficient_scope")
}

func (j *journey) skopeo(t *testing.T) {
	host := j.nodeHost
	pause := "oci-archive:" + filepath.Join(j.images, "pause.tar")

	admin := newSkopeo(t, host, j.caPEM)
	if err := admin.login(host, "admin", adminPass); err != nil {
		t.Fatalf("admin login: %v", err)
	}
	if err := admin.push(pause, host+"/e2e/pause:1"); err != nil {
		t.Fatalf("admin push: %v", err)
	}
	pushed, err := admin.digest(host + "/e2e/pause:1")
	if err != nil || !strings.HasPrefix(pushed, "sha256:") {
		t.Fatalf("admin inspect: %q %v", pushed, err)
	}
	if err := admin.pull(host+"/e2e/pause:1", filepath.Join(t.TempDir(), "admin-pull")); err != nil {
		t.Fatalf("admin pull: %v", err)
	}

	reader := newSkopeo(t, host, j.caPEM)
	if err := reader.login(host, "reader", readerPass); err != nil {
		t.Fatalf("reader login: %v", err)
	}
	if d, err := reader.digest(host + "/e2e/pause:1"); err != nil || d != pushed {
		t.Fatalf("reader inspect: %q %v, want %s", d, err, pushed)
	}
	if err := reader.pull(host+"/e2e/pause:1", filepath.Join(t.TempDir(), "reader-pull")); err != nil {
		t.Fatalf("reader pull: %v", err)
	}
	if err := reader.push(pause, host+"/e2e/reader-push:1"); !deniedPush(err) {
		t.Fatalf("reader push: got %v, want it denied", err)
	}

	wrong := newSkopeo(t, host, j.caPEM)
	if err := wrong.login(host, "admin", "not-"+adminPass); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	c, err := getV2(exe, j.ca, "https://"+host)
	if err != nil {
		t.Fatal(err)
	}
	if status, err := token(exe, j.ca, c, "admin", "not-"+adminPass, "repository:e2e/pause:pull"); err != nil || status != 401 {
		t.Fatalf("token with a wrong password: %d %v, want 401", status, err)
	}
}
