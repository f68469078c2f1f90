package render

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// Keys of the self-check Secret.
const (
	KeyProbePassword = "password"
	KeyProbeHash     = "hash"
)

// SelfCheckSecretName holds the credential of the operator's probe identity.
func SelfCheckSecretName(ra *v1alpha1.RegistryAuth) string { return ra.Name + "-selfcheck" }

// SelfCheckSecret holds the probe identity's random password and its bcrypt
// hash (the hash is kept, so the password is hashed once, not per reconcile).
// Only the operator reads it: no pod mounts it.
func SelfCheckSecret(ra *v1alpha1.RegistryAuth, password, hash []byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: objectMeta(ra, SelfCheckSecretName(ra), "selfcheck"),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{KeyProbePassword: password, KeyProbeHash: hash},
	}
}
