package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/apply"
)

func persistentRA(ns, name string) *v1alpha1.RegistryAuth {
	ra := classicRA(ns, name)
	ra.Spec.Registry.Storage.PersistentVolumeClaim = &v1alpha1.PVCStorage{Size: ptr.To(resource.MustParse("1Gi"))}
	return ra
}

// mountedClaim is the claim the registry pods mount.
func mountedClaim(t *testing.T, ns, name string) string {
	t.Helper()
	for _, v := range get(t, ns, name, &appsv1.Deployment{}).Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			return v.PersistentVolumeClaim.ClaimName
		}
	}
	return ""
}

// TestRetainedClaimOutlivesAndIsAdopted: by default the claim has no owner
// reference (the garbage collector, which follows only owner references,
// leaves it when the RegistryAuth goes), and a new RegistryAuth of the same
// name takes the same claim, data and all, without recreating it.
func TestRetainedClaimOutlivesAndIsAdopted(t *testing.T) {
	ns := newNamespace(t)
	ra := createWithUsers(t, persistentRA(ns, "keep"))
	waitCondition(t, ns, "keep", v1alpha1.ConditionStorageReady, metav1.ConditionTrue, "")
	pvc := get(t, ns, "keep-data", &corev1.PersistentVolumeClaim{})
	if len(pvc.OwnerReferences) != 0 {
		t.Fatalf("a retained claim has owner references %v: the garbage collector would delete the data", pvc.OwnerReferences)
	}
	if got := get(t, ns, "keep", &v1alpha1.RegistryAuth{}).Spec.Registry.Storage.PersistentVolumeClaim.DeletionPolicy; got != v1alpha1.PVCRetain {
		t.Errorf("deletionPolicy defaults to %q, want Retain", got)
	}
	if err := k8s.Delete(context.Background(), ra); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if exists(t, ns, "keep", &v1alpha1.RegistryAuth{}) {
			return fmt.Errorf("the RegistryAuth is still there")
		}
		return nil
	})

	again := persistentRA(ns, "keep")
	if err := k8s.Create(context.Background(), again); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, ns, "keep", v1alpha1.ConditionStorageReady, metav1.ConditionTrue, "")
	assertEvents(t, ns, "keep", "ClaimAdopted")
	if got := get(t, ns, "keep-data", &corev1.PersistentVolumeClaim{}); got.UID != pvc.UID {
		t.Fatal("the claim was replaced, not adopted")
	}
	eventually(t, 10*time.Second, func() error {
		if c := mountedClaim(t, ns, "keep"); c != "keep-data" {
			return fmt.Errorf("pods mount %q", c)
		}
		return nil
	})
}

// TestDeletePolicyOwnsTheClaim: deletionPolicy Delete puts the controller
// owner reference on the claim (garbage collection removes it with the
// RegistryAuth); switching back to Retain takes it off again.
func TestDeletePolicyOwnsTheClaim(t *testing.T) {
	ns := newNamespace(t)
	ra := persistentRA(ns, "gone")
	ra.Spec.Registry.Storage.PersistentVolumeClaim.DeletionPolicy = v1alpha1.PVCDelete
	ra = createWithUsers(t, ra)
	eventually(t, 15*time.Second, func() error {
		pvc := &corev1.PersistentVolumeClaim{}
		if !exists(t, ns, "gone-data", pvc) {
			return fmt.Errorf("no claim yet")
		}
		if ref := metav1.GetControllerOf(pvc); ref == nil || ref.UID != ra.UID {
			return fmt.Errorf("deletionPolicy Delete, but the claim's controller is %v", ref)
		}
		return nil
	})
	ra = get(t, ns, "gone", &v1alpha1.RegistryAuth{})
	ra.Spec.Registry.Storage.PersistentVolumeClaim.DeletionPolicy = v1alpha1.PVCRetain
	if err := updateRA(context.Background(), ra); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		if refs := get(t, ns, "gone-data", &corev1.PersistentVolumeClaim{}).OwnerReferences; len(refs) != 0 {
			return fmt.Errorf("switched to Retain, but owner references %v remain", refs)
		}
		return nil
	})
}

// TestExistingClaimIsMountedUntouched: claimName mounts the user's claim and
// the operator never writes it; a missing one is a condition naming it.
func TestExistingClaimIsMountedUntouched(t *testing.T) {
	ns := newNamespace(t)
	ra := classicRA(ns, "byoc")
	ra.Spec.Registry.Storage.PersistentVolumeClaim = &v1alpha1.PVCStorage{ClaimName: "my-blobs"}
	createWithUsers(t, ra)
	ra = waitCondition(t, ns, "byoc", v1alpha1.ConditionStorageReady, metav1.ConditionFalse, v1alpha1.ReasonClaimNotFound)
	if msg := condition(ra, v1alpha1.ConditionStorageReady).Message; !strings.Contains(msg, `"my-blobs"`) {
		t.Errorf("the condition does not name the claim: %q", msg)
	}
	mine := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "my-blobs"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2Gi")}},
		},
	}
	if err := k8s.Create(context.Background(), mine); err != nil {
		t.Fatal(err)
	}
	// Creating the claim alone does not touch the RegistryAuth; the operator
	// looks again on its own within a poll.
	eventually(t, 45*time.Second, func() error {
		ra := get(t, ns, "byoc", &v1alpha1.RegistryAuth{})
		if c := condition(ra, v1alpha1.ConditionStorageReady); c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("StorageReady: %+v", c)
		}
		return nil
	})
	if c := mountedClaim(t, ns, "byoc"); c != "my-blobs" {
		t.Errorf("pods mount %q, want my-blobs", c)
	}
	got := get(t, ns, "my-blobs", &corev1.PersistentVolumeClaim{})
	for _, mf := range got.ManagedFields {
		if mf.Manager == apply.FieldOwner {
			t.Errorf("the operator wrote the user's claim: %+v", mf)
		}
	}
	if len(got.OwnerReferences) != 0 || exists(t, ns, "byoc-data", &corev1.PersistentVolumeClaim{}) {
		t.Error("the user's claim got an owner, or a claim of the operator's own was created besides")
	}
}

// TestForeignClaimIsNotTakenOver: a claim named like the one the operator
// would create, but not made for this RegistryAuth, is reported, not applied.
func TestForeignClaimIsNotTakenOver(t *testing.T) {
	ns := newNamespace(t)
	foreign := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "taken-data", Labels: map[string]string{"team": "other"}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("5Gi")}},
		},
	}
	if err := k8s.Create(context.Background(), foreign); err != nil {
		t.Fatal(err)
	}
	createWithUsers(t, persistentRA(ns, "taken"))
	waitCondition(t, ns, "taken", v1alpha1.ConditionStorageReady, metav1.ConditionFalse, v1alpha1.ReasonClaimNotOwned)
	got := get(t, ns, "taken-data", &corev1.PersistentVolumeClaim{})
	if got.ResourceVersion != foreign.ResourceVersion {
		t.Error("the operator changed a claim it does not own")
	}
	// Nor may the registry's pods mount it (they would write into it).
	if d := (&appsv1.Deployment{}); exists(t, ns, "taken", d) {
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "taken-data" {
				t.Error("the registry's pods mount a claim that is not theirs")
			}
		}
	}
}
