package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// userCertificate makes a Secret as a user would bring it: tls.crt, tls.key
// and ca.crt from their own CA.
func userCertificate(t *testing.T, ns, name string, sans ...string) (*corev1.Secret, *pki.KeyPair) {
	t.Helper()
	ca, err := pki.NewCA(pki.Template{CommonName: "user CA", Lifetime: 24 * time.Hour}, testNow())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueServing(pki.Template{CommonName: "registry", SANs: sans, Lifetime: 12 * time.Hour}, testNow())
	if err != nil {
		t.Fatal(err)
	}
	key, _ := leaf.KeyPEM()
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"tls.crt": leaf.CertPEM(), "tls.key": key, "ca.crt": ca.CertPEM()},
	}, ca
}

// TestSwitchingTLSSourcesKeepsThePods: operator CA → the user's own Secret →
// back; the pods mount the same Secret all along, so the template (and an
// emptyDir's data) stays; a Secret the user replaces is picked up.
func TestSwitchingTLSSourcesKeepsThePods(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	readyRegistry(t, ns, "byo", createClassicT)
	operatorCA := caBundle(t, ns, "byo")[0]
	template := get(t, ns, "byo", &appsv1.Deployment{}).Spec.Template

	mine, userCA := userCertificate(t, ns, "my-cert", "byo."+ns+".svc")
	if err := k8s.Create(ctx, mine); err != nil {
		t.Fatal(err)
	}
	ra := get(t, ns, "byo", &v1alpha1.RegistryAuth{})
	ra.Spec.TLS.SecretName = "my-cert"
	if err := updateRA(ctx, ra); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		if !pki.SignedBy(servingCert(t, ns, "byo"), userCA.Cert) {
			return fmt.Errorf("the user's certificate is not served yet")
		}
		return nil
	})
	ra = waitCondition(t, ns, "byo", v1alpha1.ConditionCertificatesReady, metav1.ConditionTrue, "")
	if ra.Status.CAConfigMapName != "byo-ca-bundle" {
		t.Errorf("caConfigMapName %q", ra.Status.CAConfigMapName)
	}
	if msg := condition(ra, v1alpha1.ConditionCertificatesReady).Message; !strings.Contains(msg, "not trust it") {
		t.Errorf("the user's certificate lacks most SANs; the condition should say so: %q", msg)
	}

	// The user replaces their Secret: the watch picks it up.
	again, userCA2 := userCertificate(t, ns, "my-cert", "byo."+ns+".svc")
	current := get(t, ns, "my-cert", &corev1.Secret{})
	current.Data = again.Data
	if err := k8s.Update(ctx, current); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		if !pki.SignedBy(servingCert(t, ns, "byo"), userCA2.Cert) {
			return fmt.Errorf("the replaced Secret is not served yet")
		}
		return nil
	})

	// Back to the operator's CA: the same CA as before, so clients that
	// trusted it still do.
	ra = get(t, ns, "byo", &v1alpha1.RegistryAuth{})
	ra.Spec.TLS.SecretName = ""
	if err := updateRA(ctx, ra); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		if !pki.SignedBy(servingCert(t, ns, "byo"), caBundle(t, ns, "byo")[0]) {
			return fmt.Errorf("not back on the operator's CA")
		}
		return nil
	})
	if !caBundle(t, ns, "byo")[0].Equal(operatorCA) {
		t.Error("coming back to the operator's CA replaced it: clients trusting it would break")
	}
	settle(t)
	after := get(t, ns, "byo", &appsv1.Deployment{}).Spec.Template
	if after.Annotations[render.AnnotationRestartHash] != template.Annotations[render.AnnotationRestartHash] {
		t.Error("switching TLS sources rolled the pods (an emptyDir registry would lose its data)")
	}
}

// TestUserSecretProblemsAreConditions: a missing or broken Secret is a
// condition with reason, not a crash.
func TestUserSecretProblemsAreConditions(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	createClassic(t, ns, "bad")
	deleteOnCleanup(t, ns, "bad")
	ra := get(t, ns, "bad", &v1alpha1.RegistryAuth{})
	ra.Spec.TLS.SecretName = "absent"
	if err := updateRA(ctx, ra); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, ns, "bad", v1alpha1.ConditionCertificatesReady, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound)
	broken := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "absent"},
		Data: map[string][]byte{"tls.crt": []byte("not a certificate"), "tls.key": []byte("nope")}}
	if err := k8s.Create(ctx, broken); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, ns, "bad", v1alpha1.ConditionCertificatesReady, metav1.ConditionFalse, v1alpha1.ReasonInvalidCertificate)
}
