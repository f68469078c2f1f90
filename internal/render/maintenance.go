package render

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// Maintenance switch (see docs/storage.md, garbage collection): the key
// MaintenanceKey of ConfigMap <name>-maintenance, mounted optional in every
// pod, is the marker file the front door checks (--maintenance-file). No
// ConfigMap or no key: no file, writes pass. Whoever writes the key (the
// operator's GC run, or an admin with kubectl) switches every replica, with
// the kubelet's ConfigMap sync delay; each front door confirms on its
// monitoring port (GET /maintenance).
const (
	MaintenanceDir = "/etc/registry-auth/maintenance"
	MaintenanceKey = "gc"
	volMaintenance = "maintenance"
)

// MaintenanceConfigMapName is the ConfigMap whose key MaintenanceKey turns
// maintenance mode on.
func MaintenanceConfigMapName(ra *v1alpha1.RegistryAuth) string { return ra.Name + "-maintenance" }

// addMaintenance mounts the switch into the builtin front door. The
// docker_auth layout has no front door of ours to refuse writes.
func addMaintenance(ra *v1alpha1.RegistryAuth, pod *corev1.PodSpec) {
	if Provider(ra) == v1alpha1.ProviderDockerAuth {
		return
	}
	pod.Volumes = append(pod.Volumes, corev1.Volume{Name: volMaintenance, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: MaintenanceConfigMapName(ra)},
			Items:                []corev1.KeyToPath{{Key: MaintenanceKey, Path: MaintenanceKey}},
			Optional:             ptr.To(true),
		},
	}})
	for i := range pod.Containers {
		c := &pod.Containers[i]
		if c.Name != ContainerAuth {
			continue
		}
		c.Args = append(c.Args, "--maintenance-file="+MaintenanceDir+"/"+MaintenanceKey)
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: volMaintenance, MountPath: MaintenanceDir, ReadOnly: true})
	}
}
