package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestAdmissionRejectsInvalidSpecs: the API server itself (CEL rules, enums,
// patterns, list types) refuses each of these with a message naming the problem.
func TestAdmissionRejectsInvalidSpecs(t *testing.T) {
	ns := newNamespace(t)
	pvc := func(modes ...corev1.PersistentVolumeAccessMode) *v1alpha1.PVCStorage {
		return &v1alpha1.PVCStorage{Size: ptr.To(resource.MustParse("1Gi")), AccessModes: modes}
	}
	cases := []struct {
		name   string
		mutate func(*v1alpha1.RegistryAuth)
		want   string
	}{
		{"two storage kinds", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.Registry.Storage = v1alpha1.StorageSpec{EmptyDir: &v1alpha1.EmptyDirStorage{}, PersistentVolumeClaim: pvc()}
		}, "storage: set only one of emptyDir, persistentVolumeClaim and s3"},
		{"replicas>1 with emptyDir", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Replicas = ptr.To[int32](2) },
			"replicas > 1 needs shared storage"},
		{"replicas>1 with a ReadWriteOnce claim", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.Replicas = ptr.To[int32](3)
			ra.Spec.Registry.Storage.PersistentVolumeClaim = pvc(corev1.ReadWriteOnce)
		}, "replicas > 1 needs shared storage"},
		{"too many replicas", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Replicas = ptr.To[int32](11) }, "spec.replicas"},
		{"negative replicas", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Replicas = ptr.To[int32](-1) }, "spec.replicas"},
		{"bad action name", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Auth.ACL[0].Actions = []string{"write"} },
			`Unsupported value: "write"`},
		{"star with other actions", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Auth.ACL[0].Actions = []string{"*", "pull"} },
			`"*" already grants every action`},
		{"token TTL too short", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Auth.TokenTTL = &metav1.Duration{Duration: 10 * time.Second} },
			"tokenTTL must be between 1m and 24h"},
		{"token TTL too long", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Auth.TokenTTL = &metav1.Duration{Duration: 48 * time.Hour} },
			"tokenTTL must be between 1m and 24h"},
		{"issuerRef and secretName together", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.TLS = v1alpha1.TLSSpec{IssuerRef: &v1alpha1.IssuerRef{Name: "ca"}, SecretName: "mine"}
		}, "issuerRef and secretName are exclusive"},
		{"unknown provider", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Auth.Provider = "htpasswd" }, `Unsupported value: "htpasswd"`},
		{"duplicate user names", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.Auth.Users = append(ra.Spec.Auth.Users, ra.Spec.Auth.Users[0])
		}, "Duplicate value"},
		{"user name with a colon", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Auth.Users[0].Name = "ad:min" }, "spec.auth.users[0].name"},
		{"issuer kind", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.TLS.IssuerRef = &v1alpha1.IssuerRef{Name: "ca", Kind: "Vault"}
		}, `Unsupported value: "Vault"`},
		{"ExternalName service", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Expose.Service.Type = corev1.ServiceTypeExternalName },
			`Unsupported value: "ExternalName"`},
		{"nodePort on a ClusterIP service", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Expose.Service.NodePort = ptr.To[int32](30500) },
			"service.nodePort needs type NodePort or LoadBalancer"},
		{"nodePort out of range", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.Expose.Service.Type = corev1.ServiceTypeNodePort
			ra.Spec.Expose.Service.NodePort = ptr.To[int32](8080)
		}, "spec.expose.service.nodePort"},
		{"ACL ip not an address", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Auth.ACL[0].Match.IP = ptr.To("10.0.0.0/33") },
			"ip must be an IP address or a CIDR range"},
		{"zero-size claim", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.Registry.Storage.PersistentVolumeClaim = &v1alpha1.PVCStorage{Size: ptr.To(resource.MustParse("0"))}
		}, "persistentVolumeClaim.size must be greater than zero"},
		{"ReadOnlyMany claim", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.Registry.Storage.PersistentVolumeClaim = pvc(corev1.ReadOnlyMany)
		}, `Unsupported value: "ReadOnlyMany"`},
		{"expose.port without host", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Expose.Port = ptr.To[int32](443) },
			"expose.port needs expose.host"},
		{"invalid extra SAN", func(ra *v1alpha1.RegistryAuth) { ra.Spec.TLS.ExtraSANs = []string{"bad name!"} }, "spec.tls.extraSANs[0]"},
		{"password Secret name with capitals", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.Auth.Users[0].PasswordSecretRef.Name = "Admin_Secret"
		}, "spec.auth.users[0].passwordSecretRef.name"},
		{"claim with size and claimName", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.Registry.Storage.PersistentVolumeClaim = &v1alpha1.PVCStorage{Size: ptr.To(resource.MustParse("1Gi")), ClaimName: "mine"}
		}, "set size (the operator creates the claim <name>-data) or claimName"},
		{"claim with neither size nor claimName", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.Registry.Storage.PersistentVolumeClaim = &v1alpha1.PVCStorage{}
		}, "set size (the operator creates the claim <name>-data) or claimName"},
		{"existing claim with a storage class", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.Registry.Storage.PersistentVolumeClaim = &v1alpha1.PVCStorage{ClaimName: "mine", StorageClassName: ptr.To("fast")}
		}, "belong to that claim"},
		{"existing claim with deletionPolicy Delete", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.Registry.Storage.PersistentVolumeClaim = &v1alpha1.PVCStorage{ClaimName: "mine", DeletionPolicy: v1alpha1.PVCDelete}
		}, "never deletes"},
		{"unknown deletion policy", func(ra *v1alpha1.RegistryAuth) {
			ra.Spec.Registry.Storage.PersistentVolumeClaim = &v1alpha1.PVCStorage{Size: ptr.To(resource.MustParse("1Gi")), DeletionPolicy: "Recycle"}
		}, `Unsupported value: "Recycle"`},
		{"headless service", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Expose.Service.ClusterIP = "None" },
			"expose.service.clusterIP must be an IP address"},
		{"expose host with a scheme", func(ra *v1alpha1.RegistryAuth) { ra.Spec.Expose.Host = "https://registry.example.com" },
			"spec.expose.host"},
	}
	if len(cases) < 15 {
		t.Fatalf("only %d invalid specs", len(cases))
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ra := classicRA(ns, "invalid")
			ra.Name = "invalid-" + strings.Repeat("x", i%3) + string(rune('a'+i))
			tc.mutate(ra)
			err := k8s.Create(context.Background(), ra)
			if err == nil {
				t.Fatal("accepted")
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("message does not say %q:\n%v", tc.want, err)
			}
		})
	}
}

// TestAdmissionAcceptsTheClassicSpecAndDefaults: the valid base of the cases
// above is accepted and defaulted as documented.
func TestAdmissionAcceptsTheClassicSpecAndDefaults(t *testing.T) {
	ns := newNamespace(t)
	ra := classicRA(ns, "valid")
	ra.Spec.Replicas = ptr.To[int32](2)
	ra.Spec.Registry.Storage.PersistentVolumeClaim = &v1alpha1.PVCStorage{
		Size: ptr.To(resource.MustParse("1Gi")), AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
	}
	if err := k8s.Create(context.Background(), ra); err != nil {
		t.Fatal(err)
	}
	got := get(t, ns, "valid", &v1alpha1.RegistryAuth{})
	// No default for the registry image: empty means the operator's --registry-image.
	if got.Spec.Registry.Image != "" || got.Spec.Auth.Provider != v1alpha1.ProviderBuiltin ||
		got.Spec.Auth.TokenTTL == nil || got.Spec.Auth.TokenTTL.Duration != 5*time.Minute ||
		got.Spec.Auth.Users[0].PasswordSecretRef.Key != "password" || got.Spec.Expose.Service.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("defaults not applied: %+v", got.Spec)
	}
}
