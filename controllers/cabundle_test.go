package controllers

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// TestCABundleIsAConfigMapWithoutKeys: status names a ConfigMap holding
// ca.crt and nothing else, equal to the CA the serving certificate chains
// to; no key is in it; and it follows a serving-CA rotation, so whoever
// trusts it never needs read access to a Secret.
func TestCABundleIsAConfigMapWithoutKeys(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "trust")
	ra := waitCondition(t, ns, "trust", v1alpha1.ConditionCertificatesReady, metav1.ConditionTrue, "")
	if ra.Status.CAConfigMapName != "trust-ca-bundle" {
		t.Fatalf("status.caConfigMapName %q, want trust-ca-bundle", ra.Status.CAConfigMapName)
	}
	cm := get(t, ns, "trust-ca-bundle", &corev1.ConfigMap{})
	if keys := mapKeys(cm.Data); !slices.Equal(keys, []string{render.KeyCACert}) || len(cm.BinaryData) > 0 {
		t.Errorf("bundle keys %v (binary %d), want only ca.crt", keys, len(cm.BinaryData))
	}
	if bytes.Contains([]byte(cm.Data[render.KeyCACert]), []byte("PRIVATE KEY")) {
		t.Fatal("the CA bundle holds a private key")
	}
	bundle := certs(t, []byte(cm.Data[render.KeyCACert]))
	if !slices.EqualFunc(bundle, caBundle(t, ns, "trust"), (*x509.Certificate).Equal) {
		t.Error("the bundle differs from the CA Secret's certificates")
	}
	if len(bundle) != 1 || !pki.SignedBy(servingCert(t, ns, "trust"), bundle[0]) {
		t.Fatalf("the bundle (%d certificates) is not the serving certificate's CA", len(bundle))
	}
	if ref := metav1.GetControllerOf(cm); ref == nil || ref.UID != ra.UID {
		t.Error("the CA bundle is not owned by its RegistryAuth")
	}

	// A serving-CA rotation publishes the incoming CA beside the old one.
	ra.Annotations = map[string]string{v1alpha1.AnnotationRotateServingCA: "bundle-test"}
	if err := updateRA(context.Background(), ra); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		got := certs(t, []byte(get(t, ns, "trust-ca-bundle", &corev1.ConfigMap{}).Data[render.KeyCACert]))
		if len(got) != 2 {
			return fmt.Errorf("bundle has %d certificates during the rotation, want 2", len(got))
		}
		return nil
	})
}

// TestCABundleFromAUserSecretDropsKeys: a user's Secret whose ca.crt also
// carries a private key (a common copy-paste slip) publishes only the
// certificate.
func TestCABundleFromAUserSecretDropsKeys(t *testing.T) {
	ns := newNamespace(t)
	ca, err := pki.NewCA(pki.Template{CommonName: "user CA", Lifetime: 24 * time.Hour, Algorithm: pki.ECDSAP256}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueServing(pki.Template{CommonName: "mine", SANs: []string{"mine.example"}, Lifetime: time.Hour, Algorithm: pki.ECDSAP256}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	caPair, err := encodePair(ca)
	if err != nil {
		t.Fatal(err)
	}
	leafPair, err := encodePair(leaf)
	if err != nil {
		t.Fatal(err)
	}
	sloppy := append(append([]byte{}, caPair.certPEM...), caPair.keyPEM...)
	if err := k8s.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mine"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: leafPair.certPEM, corev1.TLSPrivateKeyKey: leafPair.keyPEM, render.KeyCACert: sloppy},
	}); err != nil {
		t.Fatal(err)
	}
	ra := classicRA(ns, "byo")
	ra.Spec.TLS.SecretName = "mine"
	createWithUsers(t, ra)
	ra = waitCondition(t, ns, "byo", v1alpha1.ConditionCertificatesReady, metav1.ConditionTrue, "")
	cm := get(t, ns, ra.Status.CAConfigMapName, &corev1.ConfigMap{})
	if got := cm.Data[render.KeyCACert]; got != string(caPair.certPEM) {
		t.Fatalf("bundle = %q, want exactly the user's CA certificate", got)
	}
}

func mapKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
