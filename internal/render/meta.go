package render

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// Label keys and values on every owned object.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"

	AppName   = "registry"
	ManagedBy = "registry-auth-operator"
)

// SelectorLabels select the pods of one RegistryAuth; they never change, as a
// Deployment's selector is immutable.
func SelectorLabels(ra *v1alpha1.RegistryAuth) map[string]string {
	return map[string]string{LabelName: AppName, LabelInstance: ra.Name}
}

// Labels of an owned object of the given component.
func Labels(ra *v1alpha1.RegistryAuth, component string) map[string]string {
	l := SelectorLabels(ra)
	l[LabelComponent] = component
	l[LabelManagedBy] = ManagedBy
	return l
}

// objectMeta is the metadata of an owned object: labels and a controller
// owner reference, so garbage collection removes it with its RegistryAuth.
func objectMeta(ra *v1alpha1.RegistryAuth, name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       ra.Namespace,
		Labels:          Labels(ra, component),
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ra, v1alpha1.GroupVersion.WithKind("RegistryAuth"))},
	}
}

// typeMeta is set on every desired object: server-side apply needs it.
func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}
