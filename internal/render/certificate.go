package render

import (
	"net"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// DesiredCertificate asks cert-manager for the serving certificate with the
// same names the operator would issue. cert-manager writes the Secret
// names.CertManagerTLS; the operator copies it to the Secret the pods mount.
func DesiredCertificate(ra *v1alpha1.RegistryAuth, opts Options, sans []string) *cmapi.Certificate {
	names := NamesFor(ra)
	ref := ra.Spec.TLS.IssuerRef
	c := &cmapi.Certificate{
		TypeMeta:   typeMeta("cert-manager.io/v1", "Certificate"),
		ObjectMeta: objectMeta(ra, names.Certificate, "serving"),
		Spec: cmapi.CertificateSpec{
			SecretName: names.CertManagerTLS,
			SecretTemplate: &cmapi.CertificateSecretTemplate{
				Labels: Labels(ra, "serving"),
			},
			Duration:  &metav1.Duration{Duration: opts.ServingLifetime},
			IssuerRef: cmmeta.IssuerReference{Name: ref.Name, Kind: ref.Kind, Group: ref.Group},
			PrivateKey: &cmapi.CertificatePrivateKey{
				Algorithm:      cmapi.ECDSAKeyAlgorithm,
				Size:           256,
				RotationPolicy: cmapi.RotationPolicyAlways,
			},
			Usages: []cmapi.KeyUsage{cmapi.UsageServerAuth, cmapi.UsageDigitalSignature},
		},
	}
	for _, san := range sans {
		if net.ParseIP(san) != nil {
			c.Spec.IPAddresses = append(c.Spec.IPAddresses, san)
		} else {
			c.Spec.DNSNames = append(c.Spec.DNSNames, san)
		}
	}
	return c
}
