package render

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// AuthDelegatorRole is the built-in ClusterRole that grants exactly create
// on tokenreviews and subjectaccessreviews: all the auth container needs to
// check the cluster's ServiceAccount tokens.
const AuthDelegatorRole = "system:auth-delegator"

// LabelNamespace marks the one cluster-scoped object of a RegistryAuth (its
// ClusterRoleBinding): it cannot carry an owner reference to a namespaced
// object, so the namespace and instance labels say whose it is.
const LabelNamespace = "registryauth.dev/namespace"

// ServiceAccount token paths: the standard in-cluster location, so client-go's
// InClusterConfig finds the token, the cluster CA and the namespace there.
const (
	ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"
	volAPIAccess      = "kube-api-access"
	// apiTokenLifetime is what the kubelet gives the default token: it
	// rotates the file at 80% of the lifetime, client-go rereads it.
	apiTokenLifetime = 3607
)

// NeedsTokenReviews: a kubernetes identity is configured, so the auth
// container calls TokenReview with a ServiceAccount of its own. Without one
// the pods keep the namespace's default ServiceAccount and no token at all.
func NeedsTokenReviews(ra *v1alpha1.RegistryAuth) bool {
	if Provider(ra) != v1alpha1.ProviderBuiltin {
		return false // admission refuses identities with docker_auth anyway
	}
	for _, id := range ra.Spec.Auth.Identities {
		if id.Kubernetes != nil {
			return true
		}
	}
	return false
}

// DesiredAuthServiceAccount is the ServiceAccount the pods run as when a
// kubernetes identity is configured. It mounts nothing by itself: the token
// reaches the auth container only (see addAPIAccess).
func DesiredAuthServiceAccount(ra *v1alpha1.RegistryAuth) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{
		TypeMeta:                     typeMeta("v1", "ServiceAccount"),
		ObjectMeta:                   objectMeta(ra, NamesFor(ra).AuthServiceAccount, "auth"),
		AutomountServiceAccountToken: ptr.To(false),
	}
}

// DesiredAuthDelegatorBinding lets the auth ServiceAccount create
// TokenReviews. Cluster-scoped: no owner reference (a cluster-scoped object
// cannot be owned by a namespaced one); the operator deletes it itself when
// the identity or the RegistryAuth goes (a finalizer keeps the RegistryAuth
// until then). AuthDelegatorOwner tells whose it is.
func DesiredAuthDelegatorBinding(ra *v1alpha1.RegistryAuth) *rbacv1.ClusterRoleBinding {
	names := NamesFor(ra)
	l := Labels(ra, "auth")
	l[LabelNamespace] = ra.Namespace
	return &rbacv1.ClusterRoleBinding{
		TypeMeta:   typeMeta("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
		ObjectMeta: metav1.ObjectMeta{Name: names.AuthDelegator, Labels: l},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: AuthDelegatorRole},
		Subjects: []rbacv1.Subject{{
			Kind: rbacv1.ServiceAccountKind, Name: names.AuthServiceAccount, Namespace: ra.Namespace,
		}},
	}
}

// AuthDelegatorOwner returns the namespace and name of the RegistryAuth a
// ClusterRoleBinding was made for, and whether it is one of ours at all.
func AuthDelegatorOwner(o metav1.Object) (namespace, name string, ok bool) {
	l := o.GetLabels()
	if l[LabelManagedBy] != ManagedBy || l[LabelNamespace] == "" || l[LabelInstance] == "" {
		return "", "", false
	}
	return l[LabelNamespace], l[LabelInstance], true
}

// addAPIAccess runs the pod as the auth ServiceAccount and gives its token
// to the auth container alone, at the standard path. The pod keeps
// automountServiceAccountToken false: the kubelet's automatic mount would
// reach every container, and the registry container has no use for an API
// credential. The volume is what the kubelet would mount: a bound,
// rotating token, the cluster CA (kube-root-ca.crt) and the namespace.
func addAPIAccess(ra *v1alpha1.RegistryAuth, pod *corev1.PodSpec) {
	if !NeedsTokenReviews(ra) {
		return
	}
	pod.ServiceAccountName = NamesFor(ra).AuthServiceAccount
	// The API server copies serviceAccountName into the deprecated
	// serviceAccount and back when either is empty: applied alone, dropping
	// it later (the identity removed) would leave the copy, which names the
	// ServiceAccount again. Applying both makes the operator own both.
	pod.DeprecatedServiceAccount = pod.ServiceAccountName //nolint:staticcheck // see above
	pod.Volumes = append(pod.Volumes, corev1.Volume{Name: volAPIAccess, VolumeSource: corev1.VolumeSource{
		Projected: &corev1.ProjectedVolumeSource{
			DefaultMode: ptr.To[int32](0o440),
			Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](apiTokenLifetime)}},
				{ConfigMap: &corev1.ConfigMapProjection{
					LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
					Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
				}},
				{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
					Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
				}}}},
			},
		},
	}})
	for i := range pod.Containers {
		if pod.Containers[i].Name == ContainerAuth {
			pod.Containers[i].VolumeMounts = append(pod.Containers[i].VolumeMounts,
				corev1.VolumeMount{Name: volAPIAccess, MountPath: ServiceAccountDir, ReadOnly: true})
		}
	}
}
