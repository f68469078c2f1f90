package controllers

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// These tests run cert-manager's real controllers (see certmanager_process_test.go).

// createCAIssuer makes a CA key pair Secret and a cert-manager CA Issuer.
func createCAIssuer(t *testing.T, ns, name string) *x509.Certificate {
	t.Helper()
	ctx := context.Background()
	ca, err := pki.NewCA(pki.Template{CommonName: "org CA " + name, Lifetime: 48 * time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ca.KeyPEM()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-ca"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"tls.crt": ca.CertPEM(), "tls.key": key},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	issuer := &cmapi.Issuer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       cmapi.IssuerSpec{IssuerConfig: cmapi.IssuerConfig{CA: &cmapi.CAIssuer{SecretName: secret.Name}}},
	}
	if err := k8s.Create(ctx, issuer); err != nil {
		t.Fatal(err)
	}
	return ca.Cert
}

func useIssuer(t *testing.T, ns, name, issuer string) {
	t.Helper()
	ra := get(t, ns, name, &v1alpha1.RegistryAuth{})
	ra.Spec.TLS.IssuerRef = &v1alpha1.IssuerRef{Name: issuer, Kind: "Issuer"}
	if err := updateRA(context.Background(), ra); err != nil {
		t.Fatal(err)
	}
}

func waitServedBy(t *testing.T, ns, name string, ca *x509.Certificate) {
	t.Helper()
	eventually(t, 60*time.Second, func() error {
		if !exists(t, ns, name+"-tls", &corev1.Secret{}) {
			return fmt.Errorf("no serving Secret yet")
		}
		if !pki.SignedBy(servingCert(t, ns, name), ca) {
			return fmt.Errorf("the serving certificate is not from %s yet", ca.Subject.CommonName)
		}
		return nil
	})
}

// TestCertManagerIssuesTheServingCertificate: switching a running registry to
// an Issuer asks cert-manager for a Certificate with every name, serves what
// it issues, and keeps the pods (no roll).
func TestCertManagerIssuesTheServingCertificate(t *testing.T) {
	ns := newNamespace(t)
	readyRegistry(t, ns, "cm", createClassicT)
	hash := restartHash(t, ns, "cm")
	orgCA := createCAIssuer(t, ns, "org")
	useIssuer(t, ns, "cm", "org")

	eventually(t, 15*time.Second, func() error {
		if !exists(t, ns, "cm-serving", &cmapi.Certificate{}) {
			return fmt.Errorf("no Certificate yet")
		}
		return nil
	})
	cert := get(t, ns, "cm-serving", &cmapi.Certificate{})
	ra := get(t, ns, "cm", &v1alpha1.RegistryAuth{})
	svc := get(t, ns, "cm", &corev1.Service{})
	want := render.ServingSANs(ra, testOpts, svc)
	got := append(slices.Clone(cert.Spec.DNSNames), cert.Spec.IPAddresses...)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Certificate names %v, want %v", got, want)
	}
	if ref := metav1.GetControllerOf(cert); ref == nil || ref.UID != ra.UID {
		t.Error("the Certificate is not owned by the RegistryAuth")
	}

	waitServedBy(t, ns, "cm", orgCA)
	ra = waitCondition(t, ns, "cm", v1alpha1.ConditionCertificatesReady, metav1.ConditionTrue, "")
	if ra.Status.CAConfigMapName != "cm-ca-bundle" {
		t.Errorf("caConfigMapName %q, want cm-ca-bundle", ra.Status.CAConfigMapName)
	}
	if ca := certs(t, []byte(get(t, ns, "cm-ca-bundle", &corev1.ConfigMap{}).Data[render.KeyCACert])); !ca[0].Equal(orgCA) {
		t.Error("the CA bundle's ca.crt is not the issuer's CA")
	}
	settle(t)
	if restartHash(t, ns, "cm") != hash {
		t.Error("switching to cert-manager rolled the pods")
	}
	checkWiring(t, readWired(t, ns, "cm"))
}

// TestCertManagerIssuerMissingThenCreated: the condition names the missing
// Issuer; creating it lets cert-manager issue, and the registry follows.
func TestCertManagerIssuerMissingThenCreated(t *testing.T) {
	ns := newNamespace(t)
	ra := classicRA(ns, "late")
	ra.Spec.TLS.IssuerRef = &v1alpha1.IssuerRef{Name: "org", Kind: "Issuer"}
	createWithUsers(t, ra)
	deleteOnCleanup(t, ns, "late")
	ra = waitCondition(t, ns, "late", v1alpha1.ConditionCertificatesReady, metav1.ConditionFalse, v1alpha1.ReasonIssuerNotFound)
	if c := condition(ra, v1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Stalled should say a missing Issuer needs the user: %+v", c)
	}
	if !exists(t, ns, "late-serving", &cmapi.Certificate{}) {
		t.Error("the Certificate should be requested already, to be issued once the Issuer exists")
	}
	orgCA := createCAIssuer(t, ns, "org")
	waitServedBy(t, ns, "late", orgCA)
	ra = waitCondition(t, ns, "late", v1alpha1.ConditionCertificatesReady, metav1.ConditionTrue, "")
	if condition(ra, v1alpha1.ConditionStalled) != nil {
		t.Error("Stalled not cleared")
	}
}

// TestCertManagerPendingCarriesItsReason: while cert-manager has not issued
// (here: the Issuer's CA Secret is missing), the condition carries
// cert-manager's own reason.
func TestCertManagerPendingCarriesItsReason(t *testing.T) {
	ns := newNamespace(t)
	readyRegistry(t, ns, "pend", createClassicT)
	issuer := &cmapi.Issuer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "broken"},
		Spec:       cmapi.IssuerSpec{IssuerConfig: cmapi.IssuerConfig{CA: &cmapi.CAIssuer{SecretName: "no-such-secret"}}},
	}
	if err := k8s.Create(context.Background(), issuer); err != nil {
		t.Fatal(err)
	}
	old := servingCert(t, ns, "pend")
	useIssuer(t, ns, "pend", "broken")
	ra := waitCondition(t, ns, "pend", v1alpha1.ConditionCertificatesReady, metav1.ConditionFalse, v1alpha1.ReasonIssuerNotReady)
	t.Logf("condition: %s", condition(ra, v1alpha1.ConditionCertificatesReady).Message)
	if !servingCert(t, ns, "pend").Equal(old) {
		t.Error("the certificate in use must keep serving while cert-manager cannot issue")
	}
}

// TestCertManagerRenewalReloadsWithoutRoll: cert-manager renews by rewriting
// its Secret (here on demand, as `cmctl renew` asks it); the operator copies
// the new certificate, the front door reloads it, no pod restarts.
func TestCertManagerRenewalReloadsWithoutRoll(t *testing.T) {
	ns := newNamespace(t)
	readyRegistry(t, ns, "cmrenew", createClassicT)
	orgCA := createCAIssuer(t, ns, "org")
	useIssuer(t, ns, "cmrenew", "org")
	waitServedBy(t, ns, "cmrenew", orgCA)
	settle(t)
	first := servingCert(t, ns, "cmrenew")
	hash := restartHash(t, ns, "cmrenew")

	cert := get(t, ns, "cmrenew-serving", &cmapi.Certificate{})
	patch := client.MergeFrom(cert.DeepCopy())
	now := metav1.Now()
	cert.Status.Conditions = append(cert.Status.Conditions, cmapi.CertificateCondition{
		Type: cmapi.CertificateConditionIssuing, Status: cmmeta.ConditionTrue, Reason: "ManuallyTriggered",
		Message: "renewal requested by the test", LastTransitionTime: &now,
	})
	if err := k8s.Status().Patch(context.Background(), cert, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() error {
		if servingCert(t, ns, "cmrenew").Equal(first) {
			return fmt.Errorf("renewed certificate not served yet")
		}
		return nil
	})
	if !pki.SignedBy(servingCert(t, ns, "cmrenew"), orgCA) {
		t.Error("renewed certificate from another CA")
	}
	settle(t)
	if restartHash(t, ns, "cmrenew") != hash {
		t.Error("a cert-manager renewal rolled builtin pods")
	}
	ra := get(t, ns, "cmrenew", &v1alpha1.RegistryAuth{})
	if !ra.Status.ServingCertificateNotAfter.Time.Equal(servingCert(t, ns, "cmrenew").NotAfter) {
		t.Error("status does not show the renewed certificate's expiry")
	}
}
