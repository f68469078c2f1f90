package dataplane

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// skopeoUser runs Debian's skopeo with its own auth file, trusting the
// serving CA through --cert-dir, and an accept-anything signature policy.
type skopeoUser struct {
	bin, authfile, certs, policy string
	env                          []string
}

func (s *stack) skopeo(t testing.TB) *skopeoUser {
	t.Helper()
	return newSkopeo(t, s.env.ServingCA.CertPEM())
}

// newSkopeo is one skopeo user trusting caPEM.
func newSkopeo(t testing.TB, caPEM []byte) *skopeoUser {
	t.Helper()
	dir := t.TempDir()
	u := &skopeoUser{
		bin:      need(t, "skopeo"),
		authfile: filepath.Join(dir, "auth.json"),
		certs:    filepath.Join(dir, "certs"),
		policy:   filepath.Join(dir, "policy.json"),
		env:      []string{"XDG_RUNTIME_DIR=" + dir, "HOME=" + dir},
	}
	if err := os.MkdirAll(u.certs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(u.certs, "ca.crt"), caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(u.policy, []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return u
}

func (u *skopeoUser) login(t testing.TB, host, user, password string) (string, error) {
	return run(t, password, u.env, u.bin, "login", "--authfile", u.authfile, "--cert-dir", u.certs, "-u", user, "--password-stdin", host)
}

func (u *skopeoUser) inspect(t testing.TB, ref string) (string, error) {
	out, err := run(t, "", u.env, u.bin, "--policy", u.policy, "inspect", "--authfile", u.authfile, "--cert-dir", u.certs, "docker://"+ref)
	if err != nil {
		return out, err
	}
	var info struct{ Digest string }
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		return out, err
	}
	return info.Digest, nil
}

func (u *skopeoUser) copy(t testing.TB, src, dst string) (string, error) {
	return run(t, "", u.env, u.bin, "--policy", u.policy, "copy", "--authfile", u.authfile,
		"--src-cert-dir", u.certs, "--dest-cert-dir", u.certs, src, dst)
}

func TestSkopeo(t *testing.T) {
	for _, l := range []layout{frontDoor, staticRealm} {
		t.Run(l.String(), func(t *testing.T) {
			s := newStack(t, l)
			want, err := s.crane("admin", "badmin").push(t, "library/app", "v1")
			if err != nil {
				t.Fatal(err)
			}
			admin := s.skopeo(t)
			if out, err := admin.login(t, s.host, "admin", "badmin"); err != nil || !strings.Contains(out, "Login Succeeded") {
				t.Fatalf("skopeo login: %v\n%s", err, out)
			}
			if got, err := admin.inspect(t, s.ref("library/app", "v1")); err != nil || got != want.String() {
				t.Errorf("skopeo inspect: %q %v, want %s", got, err, want)
			}
			// Registry to registry, then through an OCI layout on disk and back.
			if out, err := admin.copy(t, "docker://"+s.ref("library/app", "v1"), "docker://"+s.ref("admin/copy", "v1")); err != nil {
				t.Fatalf("skopeo copy: %v\n%s", err, out)
			}
			layout := "oci:" + filepath.Join(t.TempDir(), "layout") + ":v1"
			if out, err := admin.copy(t, "docker://"+s.ref("admin/copy", "v1"), layout); err != nil {
				t.Fatalf("skopeo copy to OCI layout: %v\n%s", err, out)
			}
			if out, err := admin.copy(t, layout, "docker://"+s.ref("admin/roundtrip", "v1")); err != nil {
				t.Fatalf("skopeo copy from OCI layout: %v\n%s", err, out)
			}
			if got, err := admin.inspect(t, s.ref("admin/roundtrip", "v1")); err != nil || got == "" {
				t.Errorf("inspect round trip: %q %v", got, err)
			}

			puller := s.skopeo(t)
			if out, err := puller.login(t, s.host, "puller", "pull-only-pass"); err != nil {
				t.Fatalf("puller login: %v\n%s", err, out)
			}
			if got, err := puller.inspect(t, s.ref("library/app", "v1")); err != nil || got != want.String() {
				t.Errorf("puller inspect: %q %v", got, err)
			}
			out, err := puller.copy(t, "docker://"+s.ref("library/app", "v1"), "docker://"+s.ref("library/app", "stolen"))
			if err == nil {
				t.Error("the pull-only user pushed with skopeo")
			} else if !strings.Contains(strings.ToLower(out), "unauthorized") && !strings.Contains(strings.ToLower(out), "denied") {
				t.Errorf("pull-only push failed for another reason: %s", out)
			}

			bad := s.skopeo(t)
			out, err = bad.login(t, s.host, "admin", "not-the-password")
			if err == nil || !strings.Contains(out, "invalid username/password") {
				t.Errorf("wrong password login: %v\n%s", err, out)
			}
		})
	}
}
