package controllers

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// annotationServingSource on the serving Secret names where its certificate
// came from.
const annotationServingSource = "registryauth.dev/serving-source"

// servingSource is a serving certificate from one of the three sources.
type servingSource struct {
	pemPair
	cert *x509.Certificate
	// caPEM is what clients must trust (ca.crt), published in the CA bundle
	// ConfigMap.
	caPEM []byte
	// source names it for humans: "operator", "cert-manager", "secret".
	source string
	// missingSANs says which names clients may use the certificate lacks.
	missingSANs string
}

// reconcileServingCertificate puts the serving certificate from its source
// in place. Whatever the source, the certificate is copied into the one
// Secret the pods mount, so switching sources never changes the pod
// template (and never restarts a builtin pod: the front door reloads it).
// The token PKI is the next step (token.go); the two only meet in the
// CertificatesReady condition (certstatus.go).
func (r *RegistryAuthReconciler) reconcileServingCertificate(ctx context.Context, st *state) error {
	var src *servingSource
	var err error
	switch {
	case st.ra.Spec.TLS.SecretName != "":
		src, err = r.userServingCertificate(ctx, st)
	case st.ra.Spec.TLS.IssuerRef != nil:
		src, err = r.certManagerServingCertificate(ctx, st)
	default:
		src, err = r.operatorServingCertificate(ctx, st)
	}
	if err != nil || src == nil {
		return err // a nil source: its condition says why
	}
	ann := map[string]string{annotationServingSource: src.source}
	if st.servingRequest != "" {
		ann[annotationServingRequest] = st.servingRequest
	}
	if _, err := r.apply(ctx, st, render.TLSSecret(st.ra, st.names.ServingTLS, "serving", src.certPEM, src.keyPEM, src.caPEM, ann)); err != nil {
		return err
	}
	if err := r.publishCABundle(ctx, st, src.caPEM); err != nil {
		return err
	}
	st.ra.Status.ServingCertificateNotAfter = ptrTime(src.cert.NotAfter)
	if missing := pki.MissingSANs(src.cert, render.ServingSANs(st.ra, st.opts, st.svc)); len(missing) > 0 {
		// Only a certificate the operator does not issue can lack names.
		// The condition stays True: the names it covers work.
		src.missingSANs = fmt.Sprintf("the serving certificate from %s does not cover %s: clients using these names will not trust it",
			src.source, strings.Join(missing, ", "))
		st.warnings = append(st.warnings, warning{v1alpha1.ConditionCertificatesReady, "ServingCertificateMissingSANs", src.missingSANs})
	}
	if st.wiring.Provider == v1alpha1.ProviderDockerAuth {
		// The registry serves TLS itself and never reloads its certificate.
		st.restartInputs = append(st.restartInputs, src.certPEM)
		st.podAnnotations[render.AnnotationServingCert] = render.ShortHash(src.certPEM)
	}
	// The operator renews its own certificates (see operatorServingCertificate);
	// another source's certificate is looked at again when it expires.
	st.renewals = append(st.renewals, src.cert.NotAfter)
	st.serving = src
	return nil
}

// userServingCertificate uses the user's own Secret as it is.
func (r *RegistryAuthReconciler) userServingCertificate(ctx context.Context, st *state) (*servingSource, error) {
	name := st.ra.Spec.TLS.SecretName
	if ownsSecretName(st, name) {
		// Copying the operator's own output onto itself would never renew.
		st.set(v1alpha1.ConditionCertificatesReady, false, v1alpha1.ReasonNameConflict,
			fmt.Sprintf("tls.secretName %q is a Secret this RegistryAuth writes itself (see NameConflict)", name))
		return nil, nil
	}
	s, err := r.getSecret(ctx, st.ra.Namespace, name)
	if err != nil {
		return nil, err
	}
	if s == nil {
		r.fail(st, v1alpha1.ConditionCertificatesReady, v1alpha1.ReasonSecretNotFound,
			fmt.Sprintf("tls.secretName: Secret %q not found in namespace %q", name, st.ra.Namespace))
		return nil, nil
	}
	return r.validServing(st, s, "Secret "+name, "tls.secretName: Secret "+name)
}

// validServing checks a serving certificate a source provides.
func (r *RegistryAuthReconciler) validServing(st *state, s *corev1.Secret, source, where string) (*servingSource, error) {
	pair, kp := parsePair(s)
	if kp == nil {
		r.fail(st, v1alpha1.ConditionCertificatesReady, v1alpha1.ReasonInvalidCertificate,
			where+" needs a PEM certificate in tls.crt and its private key in tls.key")
		return nil, nil
	}
	if !st.now.Before(kp.Cert.NotAfter) {
		r.fail(st, v1alpha1.ConditionCertificatesReady, v1alpha1.ReasonInvalidCertificate,
			fmt.Sprintf("%s: the certificate expired at %s", where, kp.Cert.NotAfter.UTC().Format(time.RFC3339)))
		return nil, nil
	}
	return &servingSource{pemPair: pair, cert: kp.Cert, caPEM: s.Data[render.KeyCACert], source: source}, nil
}
