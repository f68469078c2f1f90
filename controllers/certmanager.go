package controllers

import (
	"context"
	"fmt"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// +kubebuilder:rbac:groups=cert-manager.io,resources=certificates,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=cert-manager.io,resources=issuers;clusterissuers,verbs=get;list;watch

// certManagerServingCertificate asks cert-manager for the serving certificate
// and uses the Secret it writes. The token CA and the signing certificate stay
// with the operator (see docs/tls-and-rotation.md for why).
func (r *RegistryAuthReconciler) certManagerServingCertificate(ctx context.Context, st *state) (*servingSource, error) {
	if !r.CertManager {
		r.fail(st, v1alpha1.ConditionCertificatesReady, v1alpha1.ReasonCertManagerMissing,
			"tls.issuerRef needs cert-manager, whose API (cert-manager.io/v1) was not served when the operator started: install cert-manager, then restart the operator")
		return nil, nil
	}
	ref := st.ra.Spec.TLS.IssuerRef
	issuerOK, err := r.checkIssuer(ctx, st, ref)
	if err != nil {
		return nil, err
	}
	// The Certificate is applied even while the issuer is missing:
	// cert-manager issues it as soon as the issuer is there.
	cert := render.DesiredCertificate(st.ra, st.opts, render.ServingSANs(st.ra, st.opts, st.svc))
	if _, err := r.apply(ctx, st, cert); err != nil {
		return nil, err
	}
	if !issuerOK {
		return nil, nil // the issuer's condition says why
	}
	s, err := r.getSecret(ctx, st.ra.Namespace, st.names.CertManagerTLS)
	if err != nil {
		return nil, err
	}
	ready := certificateReady(cert)
	if s == nil || len(s.Data["tls.crt"]) == 0 {
		if ready.Status == cmmeta.ConditionTrue {
			ready.Reason, ready.Message = "SecretMissing", "cert-manager reports Ready but Secret "+st.names.CertManagerTLS+" is not there yet"
		}
		st.set(v1alpha1.ConditionCertificatesReady, false, v1alpha1.ReasonCertificatePending,
			fmt.Sprintf("waiting for cert-manager Certificate %q: %s: %s", cert.Name, ready.Reason, ready.Message))
		return nil, nil
	}
	// A renewal in flight (or failing) keeps the current certificate serving.
	return r.validServing(st, s, "cert-manager ("+ref.Kind+" "+ref.Name+")", "cert-manager Secret "+st.names.CertManagerTLS)
}

// checkIssuer reports a missing or unready cert-manager issuer as a
// condition; issuers of other API groups (external issuers) are not inspected.
func (r *RegistryAuthReconciler) checkIssuer(ctx context.Context, st *state, ref *v1alpha1.IssuerRef) (bool, error) {
	if ref.Group != "" && ref.Group != "cert-manager.io" {
		return true, nil
	}
	var obj client.Object
	var status *cmapi.IssuerStatus
	var where string
	if ref.Kind == "ClusterIssuer" {
		ci := &cmapi.ClusterIssuer{}
		obj, status, where = ci, &ci.Status, "ClusterIssuer "+ref.Name
	} else {
		is := &cmapi.Issuer{}
		obj, status, where = is, &is.Status, fmt.Sprintf("Issuer %q in namespace %q", ref.Name, st.ra.Namespace)
	}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: st.ra.Namespace, Name: ref.Name}, obj); err != nil {
		if client.IgnoreNotFound(err) != nil {
			return false, err
		}
		r.fail(st, v1alpha1.ConditionCertificatesReady, v1alpha1.ReasonIssuerNotFound,
			"tls.issuerRef: "+where+" not found; the serving certificate is requested and is issued once it exists")
		return false, nil
	}
	for _, c := range status.Conditions {
		if c.Type == cmapi.IssuerConditionReady && c.Status != cmmeta.ConditionTrue {
			st.set(v1alpha1.ConditionCertificatesReady, false, v1alpha1.ReasonIssuerNotReady,
				fmt.Sprintf("tls.issuerRef: %s is not ready: %s: %s", where, c.Reason, c.Message))
			return false, nil
		}
	}
	return true, nil
}

// certificateReady returns the Certificate's Ready condition (Unknown when unset).
func certificateReady(c *cmapi.Certificate) cmapi.CertificateCondition {
	for _, cond := range c.Status.Conditions {
		if cond.Type == cmapi.CertificateConditionReady {
			return cond
		}
	}
	return cmapi.CertificateCondition{Status: cmmeta.ConditionUnknown, Reason: "Pending", Message: "cert-manager has not reported on it yet"}
}
