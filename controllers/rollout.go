package controllers

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// rolloutCarries reports whether the Deployment's pods all run with the
// template annotation key=value: the rollout that carries it has completed.
// A rotation step waits on it before moving on.
func (r *RegistryAuthReconciler) rolloutCarries(ctx context.Context, st *state, key, value string) (bool, error) {
	d := &appsv1.Deployment{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: st.ra.Namespace, Name: st.names.Deployment}, d)
	if err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if d.Spec.Template.Annotations[key] != value {
		return false, nil
	}
	ok, _, _ := deploymentAvailable(d)
	return ok, nil
}
