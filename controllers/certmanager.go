package controllers

import (
	"context"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// certManagerServingCertificate: cert-manager support is built in its own
// change; until then an issuerRef is reported, not silently ignored.
func (r *RegistryAuthReconciler) certManagerServingCertificate(_ context.Context, st *state) (*servingResult, error) {
	r.fail(st, v1alpha1.ConditionCertificatesReady, v1alpha1.ReasonCertManagerMissing,
		"tls.issuerRef is not supported by this version of the operator yet")
	return nil, nil
}
