package render

import (
	"testing"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestImagesFollowOneRule: each container's image is the spec's, else the
// operator's default for it; the Deployment runs exactly those.
func TestImagesFollowOneRule(t *testing.T) {
	opts := testOptions
	opts.RegistryImage = "mirror.example/library/registry:3.1.2"
	opts.DockerAuthImage = "mirror.example/cesanta/docker_auth:1.14.0"
	for _, tc := range []struct {
		name                 string
		ra                   func() *v1alpha1.RegistryAuth
		registry, auth       string // spec values
		wantRegistry, wantAu string
	}{
		{"builtin, defaults", classic, "", "", opts.RegistryImage, opts.AuthImage},
		{"builtin, pinned", classic, "registry:3.0.0", "own/auth:1", "registry:3.0.0", "own/auth:1"},
		{"docker_auth, defaults", dockerAuth, "", "", opts.RegistryImage, opts.DockerAuthImage},
		{"docker_auth, pinned", dockerAuth, "registry:2.8", "own/da:2", "registry:2.8", "own/da:2"},
	} {
		ra := tc.ra()
		ra.Spec.Registry.Image, ra.Spec.Auth.Image = tc.registry, tc.auth
		images := map[string]string{}
		for _, c := range DesiredDeployment(ra, opts, nil).Spec.Template.Spec.Containers {
			images[c.Name] = c.Image
		}
		if images[ContainerRegistry] != tc.wantRegistry || images[ContainerAuth] != tc.wantAu {
			t.Errorf("%s: registry %q auth %q, want %q %q", tc.name, images[ContainerRegistry], images[ContainerAuth], tc.wantRegistry, tc.wantAu)
		}
	}
	// Without an operator default (an Options literal) the registry is registry:3.
	ra := classic()
	ra.Spec.Registry.Image = ""
	if got := RegistryImage(ra, Options{}); got != "registry:3" {
		t.Errorf("no default: %q", got)
	}
}
