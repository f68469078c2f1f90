package controllers

// The cert-manager stand-in's view of a Certificate: cert-manager v1.21's
// readiness policy chain (internal/controller/certificates/policies, same
// reasons and messages), its renewal time (pkg/util/pki/renewaltime.go) and
// the status the issuing and readiness controllers write.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// readinessViolation is cert-manager's readiness policy chain: the first
// reason the Secret does not hold a valid, current certificate for the spec.
func readinessViolation(crt *cmapi.Certificate, secret *corev1.Secret, now time.Time) (reason, message string) {
	switch {
	case secret == nil:
		return "DoesNotExist", "Issuing certificate as Secret does not exist"
	case secret.Data == nil:
		return "MissingData", "Issuing certificate as Secret does not contain any data"
	case len(secret.Data[corev1.TLSPrivateKeyKey]) == 0:
		return "MissingData", "Issuing certificate as Secret does not contain a private key"
	case len(secret.Data[corev1.TLSCertKey]) == 0:
		return "MissingData", "Issuing certificate as Secret does not contain a certificate"
	}
	key, err := decodePrivateKey(secret.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return "InvalidKeyPair", fmt.Sprintf("Issuing certificate as Secret contains invalid private key data: %v", err)
	}
	leaf, err := decodeLeaf(secret)
	if err != nil {
		return "InvalidCertificate", fmt.Sprintf("Issuing certificate as Secret contains an invalid certificate: %v", err)
	}
	if !samePublicKey(leaf.PublicKey, key.Public()) {
		return "InvalidKeyPair", "Issuing certificate as Secret contains a private key that does not match the certificate"
	}
	if ref := crt.Spec.IssuerRef; !issuerAnnotationsMatch(secret.Annotations, ref) {
		a := secret.Annotations
		return "IncorrectIssuer", fmt.Sprintf("Issuing certificate as Secret was previously issued by %q",
			fmt.Sprintf("%s.%s/%s", orDefault(a[cmapi.IssuerKindAnnotationKey], cmapi.IssuerKind),
				orDefault(a[cmapi.IssuerGroupAnnotationKey], "cert-manager.io"), a[cmapi.IssuerNameAnnotationKey]))
	}
	if name, ok := secret.Annotations[cmapi.CertificateNameKey]; ok && name != crt.Name {
		return "IncorrectCertificate", fmt.Sprintf("Secret was issued for %q. If this message is not transient, you might have two conflicting Certificates pointing to the same secret.", name)
	}
	if v := privateKeyViolations(key, crt.Spec.PrivateKey); len(v) > 0 {
		return "SecretMismatch", fmt.Sprintf("Existing private key is not up to date for spec: %v", v)
	}
	if v := requestViolations(crt, leaf); len(v) > 0 {
		return "RequestChanged", fmt.Sprintf("Fields on existing CertificateRequest resource not up to date: %v", v)
	}
	if now.After(leaf.NotAfter) {
		return "Expired", fmt.Sprintf("Certificate expired on %s", leaf.NotAfter.Format(time.RFC1123))
	}
	return "", ""
}

// requestViolations compares the issued certificate with the spec, as
// cert-manager compares the current CertificateRequest with it.
func requestViolations(crt *cmapi.Certificate, leaf *x509.Certificate) []string {
	spec := crt.Spec
	var v []string
	if leaf.Subject.CommonName != spec.CommonName {
		v = append(v, "spec.commonName")
	}
	if !sameSet(leaf.DNSNames, spec.DNSNames) {
		v = append(v, "spec.dnsNames")
	}
	var ips []string
	for _, ip := range spec.IPAddresses {
		if p := net.ParseIP(ip); p != nil {
			ip = p.String()
		}
		ips = append(ips, ip)
	}
	if !sameSet(ipStrings(leaf.IPAddresses), ips) {
		v = append(v, "spec.ipAddresses")
	}
	if !sameSet(uriStrings(leaf), spec.URIs) {
		v = append(v, "spec.uris")
	}
	if !sameSet(leaf.EmailAddresses, spec.EmailAddresses) {
		v = append(v, "spec.emailAddresses")
	}
	if leaf.IsCA != spec.IsCA {
		v = append(v, "spec.isCA")
	}
	if ku, eku, err := keyUsages(spec.Usages, spec.IsCA); err != nil || ku != leaf.KeyUsage || !sameSet(eku, leaf.ExtKeyUsage) {
		v = append(v, "spec.usages")
	}
	if leaf.NotAfter.Sub(leaf.NotBefore) != certDuration(crt).Truncate(time.Second) {
		v = append(v, "spec.duration")
	}
	return v
}

// renewalTime is cert-manager's: renewBefore, else renewBeforePercentage,
// else 1/3 of the lifetime before notAfter; nil when renewal is disabled.
func renewalTime(crt *cmapi.Certificate, leaf *x509.Certificate) *metav1.Time {
	if leaf == nil || crt.Spec.Renewal != nil && crt.Spec.Renewal.Policy == cmapi.CertificateRenewalPolicyDisabled {
		return nil
	}
	lifetime := leaf.NotAfter.Sub(leaf.NotBefore)
	before := lifetime / 3
	if rb := crt.Spec.RenewBefore; rb != nil && rb.Duration > 0 && rb.Duration < lifetime {
		before = rb.Duration
	} else if p := crt.Spec.RenewBeforePercentage; p != nil && *p > 0 && *p < 100 {
		before = time.Duration(float64(lifetime) * float64(*p) / 100)
	}
	rt := metav1.NewTime(leaf.NotAfter.Add(-before).Truncate(time.Second))
	return &rt
}

// markIssued is the status of a Certificate whose Secret is up to date.
func markIssued(c *cmapi.Certificate, leaf *x509.Certificate) {
	c.Status.NotBefore = &metav1.Time{Time: leaf.NotBefore}
	c.Status.NotAfter = &metav1.Time{Time: leaf.NotAfter}
	c.Status.RenewalTime = renewalTime(c, leaf)
	c.Status.Conditions = slices.DeleteFunc(c.Status.Conditions, func(x cmapi.CertificateCondition) bool {
		return x.Type == cmapi.CertificateConditionIssuing
	})
	setCondition(c, cmapi.CertificateConditionReady, cmmeta.ConditionTrue, "Ready", "Certificate is up to date and has not expired")
}

// updateStatus applies mutate to the live Certificate; no write if nothing changed.
func (s *certManagerStandIn) updateStatus(ctx context.Context, key types.NamespacedName, mutate func(*cmapi.Certificate)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c := &cmapi.Certificate{}
		if err := s.reader.Get(ctx, key, c); err != nil {
			return client.IgnoreNotFound(err)
		}
		before := c.Status.DeepCopy()
		mutate(c)
		if equality.Semantic.DeepEqual(before, &c.Status) {
			return nil
		}
		return s.client.Status().Update(ctx, c)
	})
}

func getCondition(c *cmapi.Certificate, t cmapi.CertificateConditionType) *cmapi.CertificateCondition {
	for i := range c.Status.Conditions {
		if c.Status.Conditions[i].Type == t {
			return &c.Status.Conditions[i]
		}
	}
	return nil
}

// setCondition is cert-manager's apiutil.SetCertificateCondition.
func setCondition(c *cmapi.Certificate, t cmapi.CertificateConditionType, status cmmeta.ConditionStatus, reason, message string) {
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	cond := getCondition(c, t)
	if cond == nil {
		c.Status.Conditions = append(c.Status.Conditions, cmapi.CertificateCondition{Type: t, LastTransitionTime: &now})
		cond = &c.Status.Conditions[len(c.Status.Conditions)-1]
	} else if cond.Status != status {
		cond.LastTransitionTime = &now
	}
	cond.Status, cond.Reason, cond.Message, cond.ObservedGeneration = status, reason, message, c.Generation
}

func issuerAnnotationsMatch(a map[string]string, ref cmmeta.IssuerReference) bool {
	name, hasName := a[cmapi.IssuerNameAnnotationKey]
	kind, hasKind := a[cmapi.IssuerKindAnnotationKey]
	group, hasGroup := a[cmapi.IssuerGroupAnnotationKey]
	if (hasName || hasKind || hasGroup) && name != ref.Name {
		return false
	}
	return orDefault(kind, cmapi.IssuerKind) == orDefault(ref.Kind, cmapi.IssuerKind) &&
		orDefault(group, "cert-manager.io") == orDefault(ref.Group, "cert-manager.io")
}

func samePublicKey(a, b crypto.PublicKey) bool {
	da, errA := x509.MarshalPKIXPublicKey(a)
	db, errB := x509.MarshalPKIXPublicKey(b)
	return errA == nil && errB == nil && bytes.Equal(da, db)
}

func sameSet[T comparable](a, b []T) bool {
	in := func(x []T, v T) bool { return slices.Contains(x, v) }
	for _, v := range a {
		if !in(b, v) {
			return false
		}
	}
	for _, v := range b {
		if !in(a, v) {
			return false
		}
	}
	return true
}

func ipStrings(ips []net.IP) []string {
	var s []string
	for _, ip := range ips {
		s = append(s, ip.String())
	}
	return s
}

func uriStrings(c *x509.Certificate) []string {
	var s []string
	for _, u := range c.URIs {
		s = append(s, u.String())
	}
	return s
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
