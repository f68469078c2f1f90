package controllers

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The stand-in for cert-manager issues, renews and waits for issuers like
// cert-manager's CA issuer.
func TestCertManagerStandInIssuesLikeTheCAIssuer(t *testing.T) {
	if cmStandIn == nil {
		t.Skip("runSuite does not start the cert-manager stand-in (startCertManagerStandIn)")
	}
	ctx := context.Background()
	cm, err := client.New(testConfig, client.Options{Scheme: cmStandIn.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t)
	caPEM, caKeyPEM := newStandInTestCA(t)
	create := func(obj client.Object) {
		t.Helper()
		if err := cm.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ca"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": caPEM, "tls.key": caKeyPEM}})
	create(&cmapi.Issuer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ca"},
		Spec: cmapi.IssuerSpec{IssuerConfig: cmapi.IssuerConfig{CA: &cmapi.CAIssuer{SecretName: "ca"}}}})
	names := []string{"web." + ns + ".svc", "web"}
	create(&cmapi.Certificate{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: cmapi.CertificateSpec{
			SecretName: "web-tls", CommonName: "web", DNSNames: names, IPAddresses: []string{"10.0.0.1"},
			IssuerRef:      cmmeta.IssuerReference{Name: "ca", Kind: "Issuer", Group: "cert-manager.io"},
			PrivateKey:     &cmapi.CertificatePrivateKey{Algorithm: cmapi.ECDSAKeyAlgorithm},
			Usages:         []cmapi.KeyUsage{cmapi.UsageServerAuth, cmapi.UsageDigitalSignature, cmapi.UsageKeyEncipherment},
			SecretTemplate: &cmapi.CertificateSecretTemplate{Labels: map[string]string{"app": "web"}},
		},
	})

	crt := waitStandInReady(t, cm, ns, "web")
	if got := *crt.Status.Revision; got != 1 {
		t.Errorf("revision %d, want 1", got)
	}
	if want := crt.Status.NotAfter.Add(-30 * 24 * time.Hour); !crt.Status.RenewalTime.Time.Equal(want) ||
		crt.Status.NotAfter.Sub(crt.Status.NotBefore.Time) != 90*24*time.Hour {
		t.Errorf("want 90 days, renewal 30 days before notAfter: %+v", crt.Status)
	}
	secret := get(t, ns, "web-tls", &corev1.Secret{})
	leaf := checkStandInSecret(t, secret, caPEM, names)
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || !strings.HasPrefix(string(secret.Data["tls.key"]), "-----BEGIN EC PRIVATE KEY") {
		t.Errorf("want an ECDSA key in PKCS1-style PEM, got %T", leaf.PublicKey)
	}
	want := map[string]string{
		"cert-manager.io/certificate-name": "web", "cert-manager.io/issuer-name": "ca", "cert-manager.io/issuer-kind": "Issuer",
		"cert-manager.io/issuer-group": "cert-manager.io", "cert-manager.io/common-name": "web",
		"cert-manager.io/alt-names": strings.Join(names, ","), "cert-manager.io/ip-sans": "10.0.0.1", "cert-manager.io/uri-sans": "",
	}
	for k, v := range want {
		if got, ok := secret.Annotations[k]; !ok || got != v {
			t.Errorf("annotation %s = %q, want %q", k, got, v)
		}
	}
	if secret.Labels["app"] != "web" || secret.Labels["controller.cert-manager.io/fao"] != "true" {
		t.Errorf("labels %v", secret.Labels)
	}
	if leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || leaf.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment {
		t.Errorf("usages %v %v", leaf.KeyUsage, leaf.ExtKeyUsage)
	}
	eventually(t, 20*time.Second, func() error {
		is := get(t, ns, "ca", &cmapi.Issuer{})
		if c := is.Status.Conditions; len(c) != 1 || c[0].Status != cmmeta.ConditionTrue || c[0].Reason != "KeyPairVerified" {
			return fmt.Errorf("issuer conditions %+v", c)
		}
		return nil
	})

	// Renew: a new key and certificate, revision 2.
	if err := cmStandIn.Renew(ns, "web"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		if crt := get(t, ns, "web", &cmapi.Certificate{}); crt.Status.Revision == nil || *crt.Status.Revision != 2 {
			return fmt.Errorf("revision %v, want 2", crt.Status.Revision)
		}
		return nil
	})
	renewed := get(t, ns, "web-tls", &corev1.Secret{})
	if bytes.Equal(renewed.Data["tls.key"], secret.Data["tls.key"]) || bytes.Equal(renewed.Data["tls.crt"], secret.Data["tls.crt"]) {
		t.Error("Renew kept the key or the certificate")
	}
	checkStandInSecret(t, renewed, caPEM, names)
	if n := cmStandIn.Issued(ns, "web"); n != 2 {
		t.Errorf("issued %d times, want 2", n)
	}

	// A changed spec is re-issued.
	crt = get(t, ns, "web", &cmapi.Certificate{})
	crt.Spec.DNSNames = append(names, "registry.example")
	if err := cm.Update(ctx, crt); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		if n := cmStandIn.Issued(ns, "web"); n != 3 {
			return fmt.Errorf("issued %d times, want 3", n)
		}
		return nil
	})
	checkStandInSecret(t, get(t, ns, "web-tls", &corev1.Secret{}), caPEM, []string{"registry.example"})

	// An Issuer that does not exist yet: cert-manager's reasons, then issued (RSA 2048 by default).
	create(&cmapi.Certificate{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "late"},
		Spec:       cmapi.CertificateSpec{SecretName: "late-tls", DNSNames: []string{"late"}, IssuerRef: cmmeta.IssuerReference{Name: "later"}},
	})
	eventually(t, 20*time.Second, func() error {
		c := getCondition(get(t, ns, "late", &cmapi.Certificate{}), cmapi.CertificateConditionReady)
		if c == nil || c.Status != cmmeta.ConditionFalse || c.Reason != "DoesNotExist" || c.Message != "Issuing certificate as Secret does not exist" {
			return fmt.Errorf("ready %+v", c)
		}
		if p, want := cmStandIn.Pending(ns, "late"), `Referenced "Issuer" not found: issuer.cert-manager.io "later" not found`; p != want {
			return fmt.Errorf("pending %q", p)
		}
		return nil
	})
	create(&cmapi.Issuer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "later"},
		Spec: cmapi.IssuerSpec{IssuerConfig: cmapi.IssuerConfig{CA: &cmapi.CAIssuer{SecretName: "ca"}}}})
	waitStandInReady(t, cm, ns, "late")
	lateLeaf := checkStandInSecret(t, get(t, ns, "late-tls", &corev1.Secret{}), caPEM, []string{"late"})
	if k, ok := lateLeaf.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 {
		t.Errorf("default key %T, want RSA 2048", lateLeaf.PublicKey)
	}

	// A ClusterIssuer's CA Secret lives in the cluster resource namespace.
	if err := cm.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cert-manager"}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "cert-manager", Name: ns + "-ca"},
		Data: map[string][]byte{"tls.crt": caPEM, "tls.key": caKeyPEM}})
	create(&cmapi.ClusterIssuer{ObjectMeta: metav1.ObjectMeta{Name: ns},
		Spec: cmapi.IssuerSpec{IssuerConfig: cmapi.IssuerConfig{CA: &cmapi.CAIssuer{SecretName: ns + "-ca"}}}})
	create(&cmapi.Certificate{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster"},
		Spec:       cmapi.CertificateSpec{SecretName: "cluster-tls", DNSNames: []string{"cluster"}, IssuerRef: cmmeta.IssuerReference{Name: ns, Kind: "ClusterIssuer"}},
	})
	waitStandInReady(t, cm, ns, "cluster")
	if s := get(t, ns, "cluster-tls", &corev1.Secret{}); s.Annotations["cert-manager.io/issuer-kind"] != "ClusterIssuer" {
		t.Errorf("annotations %v", s.Annotations)
	}
}

func waitStandInReady(t *testing.T, cm client.Client, ns, name string) *cmapi.Certificate {
	t.Helper()
	crt := &cmapi.Certificate{}
	eventually(t, 20*time.Second, func() error {
		if err := cm.Get(context.Background(), key(ns, name), crt); err != nil {
			return err
		}
		c := getCondition(crt, cmapi.CertificateConditionReady)
		if c == nil || c.Status != cmmeta.ConditionTrue || c.Reason != "Ready" || c.Message != "Certificate is up to date and has not expired" {
			return fmt.Errorf("ready %+v (pending: %q)", c, cmStandIn.Pending(ns, name))
		}
		return nil
	})
	return crt
}

// checkStandInSecret verifies the Secret's leaf against ca.crt for each name.
func checkStandInSecret(t *testing.T, s *corev1.Secret, caPEM []byte, names []string) *x509.Certificate {
	t.Helper()
	if s.Type != corev1.SecretTypeTLS || !bytes.Equal(s.Data["ca.crt"], caPEM) {
		t.Fatalf("type %s, ca.crt is the issuer's CA: %v", s.Type, bytes.Equal(s.Data["ca.crt"], caPEM))
	}
	leaf, err := decodeLeaf(s)
	if err != nil {
		t.Fatal(err)
	}
	key, err := decodePrivateKey(s.Data["tls.key"])
	if err != nil || !samePublicKey(key.Public(), leaf.PublicKey) {
		t.Fatalf("tls.key does not match tls.crt: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(s.Data["ca.crt"])
	for _, n := range names {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: n, Roots: roots}); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	return leaf
}

func newStandInTestCA(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stand-in test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}
