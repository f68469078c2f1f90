package render

import (
	"encoding/pem"

	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// CABundleConfigMap publishes what clients and nodes must trust, in the shape
// admins know from kube-root-ca.crt: a ConfigMap with ca.crt. It is a
// ConfigMap, not a Secret, because it holds nothing secret, and so that the
// right to read trust never comes with the right to read a key (the CA's key
// stays in the Secret `<name>-ca`, which only the operator reads).
//
// Only CERTIFICATE blocks of caPEM are kept: a ca.crt copied from a user's or
// cert-manager's Secret that carried a private key by mistake must not
// publish it. Nil when caPEM holds no certificate.
func CABundleConfigMap(ra *v1alpha1.RegistryAuth, caPEM []byte) *corev1.ConfigMap {
	certs := CertificatesOnly(caPEM)
	if len(certs) == 0 {
		return nil
	}
	return &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: objectMeta(ra, NamesFor(ra).CABundle, ComponentCABundle),
		Data:       map[string]string{KeyCACert: string(certs)},
	}
}

// ComponentCABundle labels the CA bundle ConfigMaps (the node-trust
// controller watches them by it).
const ComponentCABundle = "ca-bundle"

// CertificatesOnly re-encodes the CERTIFICATE blocks of a PEM document and
// drops everything else (keys, parameters, text between blocks).
func CertificatesOnly(data []byte) []byte {
	var out []byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		if b.Type == "CERTIFICATE" && len(b.Headers) == 0 {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes})...)
		}
	}
}
