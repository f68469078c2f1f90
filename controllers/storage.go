package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// claimPoll is how often a missing existing claim is looked for.
const claimPoll = 20 * time.Second

// reconcileStorage puts the claim for the blobs in place (or checks the
// existing one the spec names) and says plainly when blobs are ephemeral.
func (r *RegistryAuthReconciler) reconcileStorage(ctx context.Context, st *state) error {
	p := st.ra.Spec.Registry.Storage.PersistentVolumeClaim
	if st.ra.Spec.Registry.Storage.S3 != nil {
		apimeta.RemoveStatusCondition(&st.ra.Status.Conditions, v1alpha1.ConditionStorageReady)
		st.set(v1alpha1.ConditionStorageEphemeral, false, v1alpha1.ReasonS3,
			"blobs are kept in S3 bucket "+st.ra.Spec.Registry.Storage.S3.Bucket+", shared by every replica")
		return nil
	}
	if p == nil {
		apimeta.RemoveStatusCondition(&st.ra.Status.Conditions, v1alpha1.ConditionStorageReady)
		st.set(v1alpha1.ConditionStorageEphemeral, true, v1alpha1.ReasonEmptyDir,
			"blobs are kept in an emptyDir volume and are lost when the pod is replaced; set spec.registry.storage.persistentVolumeClaim to keep them")
		return nil
	}
	name := render.ClaimName(st.ra)
	live := &corev1.PersistentVolumeClaim{}
	found := true
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: st.ra.Namespace, Name: name}, live); err != nil {
		if !apierrors.IsNotFound(err) {
			return err
		}
		found = false
	}
	var keep string
	if p.ClaimName != "" {
		if !found {
			r.fail(st, v1alpha1.ConditionStorageReady, v1alpha1.ReasonClaimNotFound,
				fmt.Sprintf("spec.registry.storage.persistentVolumeClaim.claimName: PersistentVolumeClaim %q not found in namespace %q; the registry's pods wait for it", name, st.ra.Namespace))
			// A claim the operator does not own raises no event here: look again.
			st.renewals = append(st.renewals, st.now.Add(claimPoll))
			return nil
		}
		keep = "it is yours: the operator never changes or deletes it"
	} else {
		if found && !r.claimIsOurs(st.ra, live) {
			msg := fmt.Sprintf("PersistentVolumeClaim %q exists but was not created for this RegistryAuth (no labels %s=%s, %s=%s, or another controller owns it): the operator does not take it over; rename it, or set claimName to it to use it as it is",
				name, render.LabelInstance, st.ra.Name, render.LabelManagedBy, render.ManagedBy)
			r.fail(st, v1alpha1.ConditionStorageReady, v1alpha1.ReasonClaimNotOwned, msg)
			// A stall, not just a condition: the pods would mount the claim
			// by its name, so the Deployment (which needs this step) must not
			// be written.
			return stall(v1alpha1.ReasonClaimNotOwned, "%s", msg)
		}
		// The claim records the RegistryAuth that last used it: another UID
		// means it is kept from an earlier RegistryAuth of this name.
		adopted := found && live.Annotations[render.AnnotationClaimUser] != string(st.ra.UID)
		pvc := render.DesiredPVC(st.ra)
		_, err := r.Applier.Apply(ctx, pvc)
		var refused *apierrors.StatusError
		if err != nil && found && errors.As(err, &refused) && apierrors.IsInvalid(refused) {
			// A claim kept from an earlier RegistryAuth of this name whose
			// immutable fields differ from this spec (CEL refuses such edits
			// of one RegistryAuth; a new one cannot know the old claim).
			r.fail(st, v1alpha1.ConditionStorageReady, v1alpha1.ReasonClaimUnchangeable,
				fmt.Sprintf("PersistentVolumeClaim %q (created %s, with the data) cannot be changed to this spec: %s; make spec.registry.storage.persistentVolumeClaim match the claim (or set claimName to it); the pods keep using it as it is",
					name, live.CreationTimestamp.UTC().Format(time.RFC3339), refused.ErrStatus.Message))
			return nil
		}
		if err != nil {
			return err
		}
		live = pvc
		keep = "deletionPolicy Retain: it outlives this RegistryAuth and a RegistryAuth of the same name adopts it"
		if p.DeletionPolicy == v1alpha1.PVCDelete {
			keep = "deletionPolicy Delete: it is deleted with this RegistryAuth"
		}
		if adopted {
			log.FromContext(ctx).Info("adopted a retained claim", "claim", name, "created", live.CreationTimestamp)
			r.Recorder.Eventf(st.ra, nil, corev1.EventTypeNormal, "ClaimAdopted", "Reconcile",
				"PersistentVolumeClaim %s (created %s) kept from an earlier RegistryAuth of this name is used again, with its data",
				name, live.CreationTimestamp.UTC().Format(time.RFC3339))
		}
	}
	st.set(v1alpha1.ConditionStorageReady, true, v1alpha1.ReasonPersistentVolume,
		fmt.Sprintf("PersistentVolumeClaim %q (phase %s): %s", name, live.Status.Phase, keep))
	st.set(v1alpha1.ConditionStorageEphemeral, false, v1alpha1.ReasonPersistentVolume,
		fmt.Sprintf("blobs are kept in PersistentVolumeClaim %q", name))
	return nil
}

// claimIsOurs: the claim `<name>-data` was created for a RegistryAuth of
// this name in this namespace (its labels say so) and no other controller
// owns it. A retained claim has no owner at all; that is how it is adopted.
func (r *RegistryAuthReconciler) claimIsOurs(ra *v1alpha1.RegistryAuth, pvc *corev1.PersistentVolumeClaim) bool {
	l := pvc.Labels
	if l[render.LabelInstance] != ra.Name || l[render.LabelManagedBy] != render.ManagedBy {
		return false
	}
	c := metav1.GetControllerOf(pvc)
	return c == nil || c.UID == ra.UID
}
