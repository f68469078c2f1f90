package controllers

import (
	"context"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete

// reconcilePDB applies the registry's PodDisruptionBudget while there are
// several replicas and deletes the one it controls when there is one (a
// budget of maxUnavailable 1 over a single pod would let a drain take it;
// left behind after scaling down it would only mislead).
func (r *RegistryAuthReconciler) reconcilePDB(ctx context.Context, st *state) error {
	if pdb := render.DesiredPDB(st.ra); pdb != nil {
		_, err := r.Applier.Apply(ctx, pdb)
		return err
	}
	live := &policyv1.PodDisruptionBudget{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: st.ra.Namespace, Name: st.names.Deployment}, live)
	if err != nil {
		return client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(live, st.ra) {
		return nil
	}
	return client.IgnoreNotFound(r.Client.Delete(ctx, live, client.Preconditions{UID: &live.UID}))
}
