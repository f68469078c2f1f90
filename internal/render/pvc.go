package render

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// DesiredPVC is the claim the operator creates for the registry's blobs; nil
// for emptyDir storage and for an existing claim (claimName), which the
// operator never writes.
//
// Unlike every other owned object, the claim carries no owner reference
// unless deletionPolicy is Delete: data must not die by accident with the
// RegistryAuth. The labels stay, so a RegistryAuth of the same name can tell
// the retained claim is its own and adopt it again.
func DesiredPVC(ra *v1alpha1.RegistryAuth) *corev1.PersistentVolumeClaim {
	p := ra.Spec.Registry.Storage.PersistentVolumeClaim
	if p == nil || p.ClaimName != "" || p.Size == nil {
		return nil
	}
	modes := p.AccessModes
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	meta := objectMeta(ra, NamesFor(ra).Data, "storage")
	if p.DeletionPolicy != v1alpha1.PVCDelete {
		meta.OwnerReferences = nil
	}
	meta.Annotations = map[string]string{AnnotationClaimUser: string(ra.UID)}
	return &corev1.PersistentVolumeClaim{
		TypeMeta:   typeMeta("v1", "PersistentVolumeClaim"),
		ObjectMeta: meta,
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      modes,
			StorageClassName: p.StorageClassName,
			VolumeName:       p.VolumeName,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: *p.Size}},
		},
	}
}

// AnnotationClaimUser on a created claim is the UID of the RegistryAuth that
// uses it; a RegistryAuth of the same name with another UID is adopting it.
const AnnotationClaimUser = "registryauth.dev/used-by-uid"

// ClaimName is the claim the pods mount: the existing one, or the created
// `<name>-data`. Empty for emptyDir storage.
func ClaimName(ra *v1alpha1.RegistryAuth) string {
	p := ra.Spec.Registry.Storage.PersistentVolumeClaim
	switch {
	case p == nil:
		return ""
	case p.ClaimName != "":
		return p.ClaimName
	default:
		return NamesFor(ra).Data
	}
}
