package render

import (
	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// The three images of a registry pod follow one rule: the RegistryAuth's own
// field if set, else the operator-wide default from its flags (the chart's
// values), so an air-gapped cluster points every registry at its mirror in
// one place and a single registry can still pin its own.

// RegistryImage is the image of the registry container.
func RegistryImage(ra *v1alpha1.RegistryAuth, opts Options) string {
	if ra.Spec.Registry.Image != "" {
		return ra.Spec.Registry.Image
	}
	if opts.RegistryImage != "" {
		return opts.RegistryImage
	}
	return DefaultRegistryImage
}

// AuthImage is the image of the auth container: the operator's own image
// for builtin, the docker_auth default for docker_auth.
func AuthImage(ra *v1alpha1.RegistryAuth, opts Options) string {
	if ra.Spec.Auth.Image != "" {
		return ra.Spec.Auth.Image
	}
	if Provider(ra) == v1alpha1.ProviderDockerAuth {
		return opts.DockerAuthImage
	}
	return opts.AuthImage
}
