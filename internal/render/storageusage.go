package render

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// addStorageUsage lets the builtin front door report the registry's storage
// on /metrics (registry_auth_storage_used_bytes, …_capacity_bytes): the
// storage volume is mounted into it read-only and named by --storage-dir.
// Only for a PersistentVolumeClaim: its filesystem is the registry's own, so
// statfs tells the registry's bytes. An emptyDir's filesystem is the node's,
// shared with everything else there, and S3 has no cheap answer (docs/storage.md).
func addStorageUsage(ra *v1alpha1.RegistryAuth, pod *corev1.PodSpec) {
	if Provider(ra) == v1alpha1.ProviderDockerAuth || ra.Spec.Registry.Storage.PersistentVolumeClaim == nil {
		return
	}
	for i := range pod.Containers {
		c := &pod.Containers[i]
		if c.Name != ContainerAuth {
			continue
		}
		c.Args = append(c.Args, "--storage-dir="+StorageDir)
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: volStorage, MountPath: StorageDir, ReadOnly: true})
	}
}
