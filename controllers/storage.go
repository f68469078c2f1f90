package controllers

import (
	"context"
	"fmt"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// reconcileStorage creates the claim for persistent storage and says plainly
// when blobs are ephemeral.
func (r *RegistryAuthReconciler) reconcileStorage(ctx context.Context, st *state) error {
	pvc := render.DesiredPVC(st.ra)
	if pvc == nil {
		st.set(v1alpha1.ConditionStorageEphemeral, true, v1alpha1.ReasonEmptyDir,
			"blobs are kept in an emptyDir volume and are lost when the pod is replaced; set spec.registry.storage.persistentVolumeClaim to keep them")
		return nil
	}
	if _, err := r.Applier.Apply(ctx, pvc); err != nil {
		return err
	}
	st.set(v1alpha1.ConditionStorageEphemeral, false, v1alpha1.ReasonPersistentVolume,
		fmt.Sprintf("blobs are kept in PersistentVolumeClaim %q (phase %s)", pvc.Name, pvc.Status.Phase))
	return nil
}
