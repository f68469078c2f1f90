package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

func TestRegistryImageLayout(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "registry")
	if err := os.WriteFile(bin, []byte("#!binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	im := registryImage(bin, []byte("ca"))
	img, err := im.build()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := registryImage(bin, []byte("ca")).build()
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Fatalf("not reproducible: %s != %s", d1, d2)
	}

	out := filepath.Join(dir, "registry.tar")
	if err := writeArchive(img, "docker.io/library/registry:3", out); err != nil {
		t.Fatal(err)
	}
	idx := readArchive(t, out)
	im2, err := idx.Image(d1)
	if err != nil {
		t.Fatalf("archive lacks the image %s: %v", d1, err)
	}
	ii, err := idx.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := ii.IndexManifest()
	if got := m.Manifests[0].Annotations["io.containerd.image.name"]; got != "docker.io/library/registry:3" {
		t.Errorf("containerd name annotation = %q", got)
	}
	cf, _ := im2.ConfigFile()
	if got := cf.Config.Entrypoint; len(got) != 1 || got[0] != "registry" {
		t.Errorf("entrypoint = %v", got)
	}
	if !contains(cf.Config.Env, "OTEL_TRACES_EXPORTER=none") {
		t.Errorf("env lacks OTEL_TRACES_EXPORTER=none: %v", cf.Config.Env)
	}
	files := layerFiles(t, im2)
	for _, p := range []string{"bin/registry", "etc/distribution/config.yml", "var/lib/registry", "tmp"} {
		if _, ok := files[p]; !ok {
			t.Errorf("layer lacks %s (has %v)", p, keys(files))
		}
	}
	if h := files["bin/registry"]; h != nil && (h.Mode != 0o755 || !h.ModTime.Equal(epoch)) {
		t.Errorf("bin/registry header mode=%o mtime=%v", h.Mode, h.ModTime)
	}
}

func TestOperatorImageRunsAsNonRoot(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "manager")
	_ = os.WriteFile(bin, []byte("x"), 0o755)
	img, err := operatorImage(bin, nil).build()
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	if cf.Config.User != "65532:65532" {
		t.Errorf("user = %q, want 65532:65532", cf.Config.User)
	}
	if _, ok := layerFiles(t, img)["manager"]; !ok {
		t.Error("layer lacks /manager")
	}
}

// TestPauseIsStatic builds the real pause binary and checks it is not
// dynamically linked: the image has no libc.
func TestPauseIsStatic(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not in PATH")
	}
	dir := t.TempDir()
	if err := os.Chdir("../.."); err != nil {
		t.Fatal(err)
	}
	bin, err := goBuild(dir, "pause", "./hack/images/pause")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(bin)
	if containsBytes(b, []byte("ld-linux")) {
		t.Fatal("pause is dynamically linked")
	}
}

func readArchive(t *testing.T, archive string) layout.Path {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, h.Name)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		b, _ := io.ReadAll(tr)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func layerFiles(t *testing.T, img v1.Image) map[string]*tar.Header {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = h
	}
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func containsBytes(b, sub []byte) bool { return bytes.Contains(b, sub) }

func keys(m map[string]*tar.Header) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestTmpIsSticky(t *testing.T) {
	img, err := probeImage(os.Args[0], nil).build()
	if err != nil {
		t.Fatal(err)
	}
	h := layerFiles(t, img)["tmp"]
	if h == nil || h.Typeflag != tar.TypeDir || h.Mode != 0o1777 {
		t.Fatalf("tmp entry = %+v, want a 1777 directory", h)
	}
}

// TestDockerAuthImageLayout: laid out like cesanta/docker_auth:1.14.0, so
// the operator's docker_auth container (which passes only flags and the
// config path) runs it as it would run the official image.
func TestDockerAuthImageLayout(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "auth_server")
	_ = os.WriteFile(bin, []byte("x"), 0o755)
	img, err := dockerAuthImage(bin, nil).build()
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	if got := cf.Config.Entrypoint; !slices.Equal(got, []string{"/docker_auth/auth_server"}) {
		t.Errorf("entrypoint = %v", got)
	}
	if got := cf.Config.Cmd; !slices.Equal(got, []string{"/config/auth_config.yml"}) {
		t.Errorf("cmd = %v", got)
	}
	if h := layerFiles(t, img)["docker_auth/auth_server"]; h == nil || h.Mode != 0o755 {
		t.Errorf("docker_auth/auth_server entry = %+v", h)
	}
	def, err := name.ParseReference(render.DefaultOptions().DockerAuthImage)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := name.ParseReference(dockerAuthRepo + ":" + dockerAuthTag)
	if err != nil {
		t.Fatal(err)
	}
	if ours.Name() != def.Name() {
		t.Errorf("image %s is not the operator's default docker_auth image %s", ours, def)
	}
}
