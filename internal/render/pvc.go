package render

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// DesiredPVC is the claim for the registry's blobs, nil for emptyDir storage.
// It is owned like everything else: deleting the RegistryAuth deletes the data.
func DesiredPVC(ra *v1alpha1.RegistryAuth) *corev1.PersistentVolumeClaim {
	p := ra.Spec.Registry.Storage.PersistentVolumeClaim
	if p == nil {
		return nil
	}
	modes := p.AccessModes
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	return &corev1.PersistentVolumeClaim{
		TypeMeta:   typeMeta("v1", "PersistentVolumeClaim"),
		ObjectMeta: objectMeta(ra, NamesFor(ra).Data, "storage"),
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      modes,
			StorageClassName: p.StorageClassName,
			VolumeName:       p.VolumeName,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: p.Size}},
		},
	}
}
