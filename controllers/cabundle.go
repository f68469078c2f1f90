package controllers

import (
	"context"

	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// publishCABundle puts what clients and nodes must trust into the ConfigMap
// `<name>-ca-bundle` (ca.crt only) and names it in status. Whoever may read
// trust thus never needs a Secret: the CA's key (`<name>-ca`) and the serving
// key (`<name>-tls`) stay readable by the operator and the pods alone.
// A source without a CA (e.g. cert-manager with a public ACME issuer) leaves
// the status field empty: clients rely on their system roots.
func (r *RegistryAuthReconciler) publishCABundle(ctx context.Context, st *state, caPEM []byte) error {
	cm := render.CABundleConfigMap(st.ra, caPEM)
	if cm == nil {
		st.ra.Status.CAConfigMapName = ""
		return nil
	}
	if _, err := r.apply(ctx, st, cm); err != nil {
		return err
	}
	st.ra.Status.CAConfigMapName = cm.Name
	return nil
}
