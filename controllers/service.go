package controllers

import (
	"context"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// reconcileService comes first: the serving certificate and the URLs need
// the ClusterIP the API server allocates.
func (r *RegistryAuthReconciler) reconcileService(ctx context.Context, st *state) error {
	svc := render.DesiredService(st.ra)
	if _, err := r.Applier.Apply(ctx, svc); err != nil {
		return err
	}
	st.svc = svc
	st.wiring = render.Wire(st.ra, st.opts, svc)
	w := st.wiring
	st.ra.Status.URLs = w.URLs
	st.ra.Status.Service = w.Service
	st.ra.Status.Issuer = w.Issuer
	st.ra.Status.Realm = w.Realm
	if w.RealmIsClusterInternal(st.opts) {
		st.set(v1alpha1.ConditionRealmReachable, false, v1alpha1.ReasonClusterInternalHost,
			"the docker_auth realm "+w.Realm+" names a cluster DNS name that nodes and clients outside the cluster cannot resolve: set spec.expose.host (or use the builtin provider, whose realm follows the host each client used)")
	} else {
		reason := v1alpha1.ReasonHostReachable
		msg := "the realm is " + w.Realm
		if w.Provider == v1alpha1.ProviderBuiltin {
			reason, msg = v1alpha1.ReasonFrontDoor, "the front door answers tokens on every host that reaches the registry"
		}
		st.set(v1alpha1.ConditionRealmReachable, true, reason, msg)
	}
	return nil
}
