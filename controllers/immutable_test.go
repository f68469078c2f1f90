package controllers

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestAdmissionRefusesClaimChangesTheAPIServerWouldRefuse: each edit of the
// claim's immutable fields is refused when the RegistryAuth is updated, with
// a message saying what to do instead, so the operator never retries a claim
// change that cannot happen. Growing the claim is accepted.
func TestAdmissionRefusesClaimChangesTheAPIServerWouldRefuse(t *testing.T) {
	ns := newNamespace(t)
	base := func(name string) *v1alpha1.RegistryAuth {
		ra := classicRA(ns, name)
		ra.Spec.Registry.Storage.PersistentVolumeClaim = &v1alpha1.PVCStorage{
			Size: ptr.To(resource.MustParse("2Gi")), StorageClassName: ptr.To("fast"), VolumeName: "pv-1",
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		}
		return ra
	}
	cases := []struct {
		name   string
		mutate func(*v1alpha1.PVCStorage)
		want   string // "" means accepted
	}{
		{"storage class", func(p *v1alpha1.PVCStorage) { p.StorageClassName = ptr.To("slow") }, "storageClassName cannot change"},
		{"storage class dropped", func(p *v1alpha1.PVCStorage) { p.StorageClassName = nil }, "storageClassName cannot change"},
		{"access modes", func(p *v1alpha1.PVCStorage) {
			p.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
		}, "accessModes cannot change"},
		{"volume name", func(p *v1alpha1.PVCStorage) { p.VolumeName = "pv-2" }, "volumeName cannot change"},
		{"smaller size", func(p *v1alpha1.PVCStorage) { p.Size = ptr.To(resource.MustParse("1Gi")) }, "size cannot shrink"},
		{"larger size", func(p *v1alpha1.PVCStorage) { p.Size = ptr.To(resource.MustParse("3Gi")) }, ""},
		{"same size written differently", func(p *v1alpha1.PVCStorage) { p.Size = ptr.To(resource.MustParse("2048Mi")) }, ""},
		{"switch to an existing claim", func(p *v1alpha1.PVCStorage) {
			*p = v1alpha1.PVCStorage{ClaimName: "copied"}
		}, ""},
		{"deletion policy", func(p *v1alpha1.PVCStorage) { p.DeletionPolicy = v1alpha1.PVCDelete }, ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ra := base("imm-" + string(rune('a'+i)))
			if err := k8s.Create(context.Background(), ra); err != nil {
				t.Fatal(err)
			}
			tc.mutate(ra.Spec.Registry.Storage.PersistentVolumeClaim)
			err := k8s.Update(context.Background(), ra)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an Invalid error saying %q, got %v", tc.want, err)
			}
		})
	}
}
