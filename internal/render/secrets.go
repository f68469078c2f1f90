package render

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// Keys of the owned Secrets.
const (
	KeyCACert     = "ca.crt"
	KeyHTTPSecret = "secret"
)

// TLSSecret is a kubernetes.io/tls Secret: tls.crt (with its chain), tls.key
// and, when known, ca.crt for clients. annotations carry PKI state (e.g.
// token-CA rotation) that must survive an operator restart.
func TLSSecret(ra *v1alpha1.RegistryAuth, name, component string, certPEM, keyPEM, caPEM []byte, annotations map[string]string) *corev1.Secret {
	s := &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: objectMeta(ra, name, component),
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:       certPEM,
			corev1.TLSPrivateKeyKey: keyPEM,
		},
	}
	if len(caPEM) > 0 {
		s.Data[KeyCACert] = caPEM
	}
	if len(annotations) > 0 {
		s.Annotations = annotations
	}
	return s
}

// Keys of a Secret that holds rotating anchors, beside tls.crt and tls.key.
const (
	KeyNextCert     = "next.crt"
	KeyNextKey      = "next.key"
	KeyPreviousCert = "previous.crt"
)

// Anchors is the content of a Secret whose anchors rotate: the active
// certificate and key, the incoming pair and the outgoing certificate during
// a rotation (empty otherwise), and the bundle verifiers trust.
type Anchors struct {
	CertPEM, KeyPEM         []byte
	NextCertPEM, NextKeyPEM []byte
	PreviousCertPEM         []byte
	// BundleKey names the key of the bundle; BundlePEM is its content.
	BundleKey string
	BundlePEM []byte
}

// AnchorSecret holds rotating anchors, e.g. the token CA with the registry's
// rootcertbundle (never the serving CA), or the serving CA with the ca.crt
// clients trust. annotations carry the rotation state.
func AnchorSecret(ra *v1alpha1.RegistryAuth, name, component string, a Anchors, annotations map[string]string) *corev1.Secret {
	s := TLSSecret(ra, name, component, a.CertPEM, a.KeyPEM, nil, annotations)
	for k, v := range map[string][]byte{
		KeyNextCert: a.NextCertPEM, KeyNextKey: a.NextKeyPEM, KeyPreviousCert: a.PreviousCertPEM, a.BundleKey: a.BundlePEM,
	} {
		if len(v) > 0 {
			s.Data[k] = v
		}
	}
	return s
}

// AuthSecret holds the rendered auth config (bcrypt hashes only) and the key
// that signs refresh tokens, shared by all replicas.
func AuthSecret(ra *v1alpha1.RegistryAuth, configYAML, refreshKey []byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: objectMeta(ra, NamesFor(ra).AuthConfig, "auth"),
		Type:       corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			authconfig.ConfigFile:     configYAML,
			authconfig.RefreshKeyFile: refreshKey,
		},
	}
}

// HTTPSecret holds REGISTRY_HTTP_SECRET, which must be equal across replicas
// (it signs upload state that any replica may resume).
func HTTPSecret(ra *v1alpha1.RegistryAuth, secret []byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: objectMeta(ra, NamesFor(ra).HTTPSecret, "registry"),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{KeyHTTPSecret: secret},
	}
}

// RegistryConfigMap holds the rendered config.yml (no secrets in it).
func RegistryConfigMap(ra *v1alpha1.RegistryAuth, configYAML []byte) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: objectMeta(ra, NamesFor(ra).RegistryConfig, "registry"),
		Data:       map[string]string{RegistryConfigFile: string(configYAML)},
	}
}
