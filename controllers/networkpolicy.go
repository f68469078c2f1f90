package controllers

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete

// reconcileNetworkPolicy applies the registry's NetworkPolicy when
// spec.expose.networkPolicy is enabled, and deletes the one it owns when it
// is not: a policy left behind would keep restricting traffic the admin
// just opened up. Only a policy this RegistryAuth controls is deleted.
func (r *RegistryAuthReconciler) reconcileNetworkPolicy(ctx context.Context, st *state) error {
	if np := render.DesiredNetworkPolicy(st.ra); np != nil {
		_, err := r.apply(ctx, st, np)
		return err
	}
	live := &networkingv1.NetworkPolicy{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: st.ra.Namespace, Name: st.names.NetworkPolicy}, live)
	if err != nil {
		return client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(live, st.ra) {
		return nil
	}
	return client.IgnoreNotFound(r.Client.Delete(ctx, live, client.Preconditions{UID: &live.UID}))
}
