package render

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestCABundleKeepsCertificatesOnly: whatever a source's ca.crt holds, the
// published bundle carries its certificates and nothing else.
func TestCABundleKeepsCertificatesOnly(t *testing.T) {
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x01}})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	ecKey := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	join := func(parts ...[]byte) []byte { return slices.Concat(parts...) }
	for _, tc := range []struct {
		name string
		in   []byte
		want []byte
	}{
		{"one certificate", cert, cert},
		{"certificate then key", join(cert, keyPEM), cert},
		{"key then two certificates", join(ecKey, cert, []byte("comment\n"), cert), join(cert, cert)},
		{"key only", keyPEM, nil},
		{"empty", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CertificatesOnly(tc.in); string(got) != string(tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			cm := CABundleConfigMap(classic(), tc.in)
			if tc.want == nil {
				if cm != nil {
					t.Errorf("a bundle without certificates was built: %v", cm.Data)
				}
				return
			}
			if cm.Name != "acme-ca-bundle" || len(cm.Data) != 1 || cm.Data[KeyCACert] != string(tc.want) {
				t.Errorf("bundle %s: %v", cm.Name, cm.Data)
			}
			if strings.Contains(cm.Data[KeyCACert], "PRIVATE KEY") {
				t.Error("a private key reached the bundle")
			}
		})
	}
}

// TestClaimOwnershipFollowsDeletionPolicy: only Delete lets garbage
// collection take the claim; an existing claim is never built at all.
func TestClaimOwnershipFollowsDeletionPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy v1alpha1.PVCDeletionPolicy
		owned  bool
	}{{"", false}, {v1alpha1.PVCRetain, false}, {v1alpha1.PVCDelete, true}} {
		ra := persistent()
		ra.Spec.Registry.Storage.PersistentVolumeClaim.DeletionPolicy = tc.policy
		pvc := DesiredPVC(ra)
		if owned := len(pvc.OwnerReferences) > 0; owned != tc.owned {
			t.Errorf("policy %q: owner references %v", tc.policy, pvc.OwnerReferences)
		}
		if pvc.Labels[LabelInstance] != "acme" || pvc.Labels[LabelManagedBy] != ManagedBy {
			t.Errorf("policy %q: labels %v do not let a RegistryAuth of the same name recognise it", tc.policy, pvc.Labels)
		}
	}
	ra := classic()
	ra.Spec.Registry.Storage.PersistentVolumeClaim = &v1alpha1.PVCStorage{ClaimName: "mine"}
	if DesiredPVC(ra) != nil || ClaimName(ra) != "mine" {
		t.Errorf("an existing claim: built %v, mounted %q", DesiredPVC(ra), ClaimName(ra))
	}
	vols := DesiredDeployment(ra, testOptions, nil).Spec.Template.Spec.Volumes
	if !slices.ContainsFunc(vols, func(v corev1.Volume) bool {
		return v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "mine"
	}) {
		t.Error("the pods do not mount the existing claim")
	}
	ra.Spec.Registry.Storage.PersistentVolumeClaim = &v1alpha1.PVCStorage{Size: ptr.To(resource.MustParse("1Gi"))}
	if ClaimName(ra) != "acme-data" {
		t.Errorf("created claim mounted as %q", ClaimName(ra))
	}
}

// TestServiceAskedForItsAddress: the pinned address wins over the remembered
// one, and the certificate covers it before any Service holds it.
func TestServiceAskedForItsAddress(t *testing.T) {
	ra := classic()
	ra.Status.ClusterIP = "198.18.0.7"
	if got := RequestedClusterIP(ra); got != "198.18.0.7" {
		t.Errorf("remembered: %q", got)
	}
	if !slices.Contains(ServingSANs(ra, testOptions, nil), "198.18.0.7") {
		t.Error("the remembered address is not in the SANs before the Service exists")
	}
	ra.Spec.Expose.Service.ClusterIP = "198.18.0.9"
	if got := RequestedClusterIP(ra); got != "198.18.0.9" {
		t.Errorf("pinned: %q", got)
	}
	if svc := DesiredService(ra, RequestedClusterIP(ra)); svc.Spec.ClusterIP != "198.18.0.9" {
		t.Errorf("Service asks for %q", svc.Spec.ClusterIP)
	}
	if svc := DesiredService(ra, ""); svc.Spec.ClusterIP != "" {
		t.Errorf("a live Service's address must be left alone, asked for %q", svc.Spec.ClusterIP)
	}
}
