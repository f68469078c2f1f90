package render

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestStorageUsageMount: only a builtin front door on a claim gets the
// storage, read-only, and the flag naming it; the registry keeps writing it.
func TestStorageUsageMount(t *testing.T) {
	daOnClaim := func() *v1alpha1.RegistryAuth {
		ra := persistent()
		ra.Spec.Auth.Provider = v1alpha1.ProviderDockerAuth
		return ra
	}
	for _, tc := range []struct {
		name string
		ra   func() *v1alpha1.RegistryAuth
		want bool
	}{
		{"builtin on a claim", persistent, true},
		{"builtin on emptyDir", classic, false},
		{"builtin on s3", s3Storage, false},
		{"docker_auth on a claim", daOnClaim, false},
	} {
		var auth, reg corev1.Container
		for _, c := range DesiredDeployment(tc.ra(), testOptions, nil).Spec.Template.Spec.Containers {
			if c.Name == ContainerAuth {
				auth = c
			} else {
				reg = c
			}
		}
		mounted := slices.ContainsFunc(auth.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == volStorage })
		flagged := slices.Contains(auth.Args, "--storage-dir="+StorageDir)
		if mounted != tc.want || flagged != tc.want {
			t.Errorf("%s: storage mounted %v, --storage-dir %v, want %v", tc.name, mounted, flagged, tc.want)
		}
		for _, m := range auth.VolumeMounts {
			if m.Name == volStorage && !m.ReadOnly {
				t.Errorf("%s: the front door may write the storage", tc.name)
			}
		}
		for _, m := range reg.VolumeMounts {
			if m.Name == volStorage && m.ReadOnly {
				t.Errorf("%s: the registry cannot write its storage", tc.name)
			}
		}
	}
}
