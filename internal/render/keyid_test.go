package render

import (
	"testing"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestDockerAuthKeyIDFollowsRegistryLine: docker_auth's kid must be the form
// the registry image's line looks up (the data-plane test runs both).
func TestDockerAuthKeyIDFollowsRegistryLine(t *testing.T) {
	for _, tc := range []struct {
		provider v1alpha1.AuthProvider
		image    string
		legacy   bool
		// defaultImage is the operator's --registry-image.
		defaultImage string
	}{
		{v1alpha1.ProviderDockerAuth, "registry:3", false, ""},
		{v1alpha1.ProviderDockerAuth, "", false, ""},
		{v1alpha1.ProviderDockerAuth, "registry:3.1.2@sha256:0123", false, ""},
		{v1alpha1.ProviderDockerAuth, "registry:2", true, ""},
		{v1alpha1.ProviderDockerAuth, "docker.io/library/registry:2.8.3", true, ""},
		{v1alpha1.ProviderDockerAuth, "mirror.example:5000/registry", false, ""},
		{v1alpha1.ProviderDockerAuth, "mirror.example:5000/registry:2.8", true, ""},
		{v1alpha1.ProviderDockerAuth, "registry:20.1", false, ""},
		{v1alpha1.ProviderBuiltin, "registry:2.8", false, ""},
		{v1alpha1.ProviderDockerAuth, "", true, "mirror.example:5000/registry:2.8"},
		{v1alpha1.ProviderDockerAuth, "registry:3", false, "mirror.example:5000/registry:2.8"},
	} {
		ra := dockerAuth()
		ra.Spec.Auth.Provider, ra.Spec.Registry.Image = tc.provider, tc.image
		opts := testOptions
		opts.RegistryImage = tc.defaultImage
		cfg, err := AuthConfig(ra, Wire(ra, opts, nil), hashes)
		if err != nil {
			t.Fatal(err)
		}
		if got := !cfg.Token.DisableLegacyKeyID; got != tc.legacy {
			t.Errorf("%s %q (default %q): legacy key IDs = %v, want %v", tc.provider, tc.image, tc.defaultImage, got, tc.legacy)
		}
	}
}
