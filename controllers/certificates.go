package controllers

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// reconcileCertificates puts the serving certificate (from its source) and
// the token CA with its signing certificate in place.
func (r *RegistryAuthReconciler) reconcileCertificates(ctx context.Context, st *state) error {
	var serving *servingResult
	var err error
	switch {
	case st.ra.Spec.TLS.SecretName != "":
		serving, err = r.userServingCertificate(ctx, st)
	case st.ra.Spec.TLS.IssuerRef != nil:
		serving, err = r.certManagerServingCertificate(ctx, st)
	default:
		serving, err = r.operatorServingCertificate(ctx, st)
	}
	if err != nil {
		return err
	}
	signing, err := r.tokenCertificates(ctx, st)
	if err != nil {
		return err
	}
	if serving == nil {
		return nil // the source's condition says why
	}
	st.ra.Status.CASecretName = serving.caSecretName
	st.ra.Status.ServingCertificateNotAfter = ptrTime(serving.cert.NotAfter)
	st.ra.Status.SigningCertificateNotAfter = ptrTime(signing.NotAfter)
	msg := fmt.Sprintf("serving certificate valid until %s; token signing certificate valid until %s",
		serving.cert.NotAfter.UTC().Format("2006-01-02T15:04:05Z"), signing.NotAfter.UTC().Format("2006-01-02T15:04:05Z"))
	if missing := pki.MissingSANs(serving.cert, render.ServingSANs(st.ra, st.opts, st.svc)); len(missing) > 0 {
		// Only a certificate the operator does not issue can lack names.
		msg += "; clients using these names will not trust it: " + strings.Join(missing, ", ")
		r.Recorder.Eventf(st.ra, nil, corev1.EventTypeWarning, "ServingCertificateMissingSANs", "Reconcile",
			"serving certificate from %s does not cover %s", serving.source, strings.Join(missing, ", "))
	}
	st.set(v1alpha1.ConditionCertificatesReady, true, v1alpha1.ReasonSucceeded, msg)
	if st.wiring.Provider == v1alpha1.ProviderDockerAuth {
		// Neither the registry nor docker_auth reloads certificates.
		st.restartInputs = append(st.restartInputs, serving.certPEM, pki.EncodeCertificates(signing))
	}
	return nil
}

// servingResult is the serving certificate in use.
type servingResult struct {
	cert         *x509.Certificate
	certPEM      []byte
	caSecretName string
	source       string
}

// operatorServingCertificate runs the operator's own serving CA.
func (r *RegistryAuthReconciler) operatorServingCertificate(ctx context.Context, st *state) (*servingResult, error) {
	ns, names := st.ra.Namespace, st.names
	caSecret, err := r.getSecret(ctx, ns, names.ServingCA)
	if err != nil {
		return nil, err
	}
	ca, err := r.ensureCA(st, caSecret, st.ra.Namespace+"/"+st.ra.Name+" registry CA", pki.ECDSAP256)
	if err != nil {
		return nil, err
	}
	if _, err := r.Applier.Apply(ctx, render.TLSSecret(st.ra, names.ServingCA, "serving-ca", ca.certPEM, ca.keyPEM, ca.certPEM, nil)); err != nil {
		return nil, err
	}

	sans := render.ServingSANs(st.ra, st.opts, st.svc)
	tlsSecret, err := r.getSecret(ctx, ns, names.ServingTLS)
	if err != nil {
		return nil, err
	}
	leaf, fresh := parsePair(tlsSecret)
	if fresh == nil || !pki.SignedBy(fresh.Cert, ca.pair.Cert) || pki.NeedsRenewal(fresh.Cert, st.now) ||
		!slices.Equal(certSANs(fresh.Cert), sans) {
		kp, err := ca.pair.IssueServing(pki.Template{
			CommonName: st.wiring.ServiceDNS, SANs: sans, Lifetime: st.opts.ServingLifetime, Algorithm: pki.ECDSAP256,
		}, st.now)
		if err != nil {
			return nil, err
		}
		if leaf, err = encodePair(kp); err != nil {
			return nil, err
		}
		fresh = kp
	}
	if _, err := r.Applier.Apply(ctx, render.TLSSecret(st.ra, names.ServingTLS, "serving", leaf.certPEM, leaf.keyPEM, ca.certPEM, nil)); err != nil {
		return nil, err
	}
	st.renewals = append(st.renewals, pki.RenewalTime(fresh.Cert), pki.RenewalTime(ca.pair.Cert))
	return &servingResult{cert: fresh.Cert, certPEM: leaf.certPEM, caSecretName: names.ServingCA, source: "the operator's CA"}, nil
}

// userServingCertificate uses the user's own Secret as it is.
func (r *RegistryAuthReconciler) userServingCertificate(ctx context.Context, st *state) (*servingResult, error) {
	name := st.ra.Spec.TLS.SecretName
	s, err := r.getSecret(ctx, st.ra.Namespace, name)
	if err != nil {
		return nil, err
	}
	if s == nil {
		r.fail(st, v1alpha1.ConditionCertificatesReady, v1alpha1.ReasonSecretNotFound,
			fmt.Sprintf("tls.secretName: Secret %q not found in namespace %q", name, st.ra.Namespace))
		return nil, nil
	}
	_, kp := parsePair(s)
	if kp == nil {
		r.fail(st, v1alpha1.ConditionCertificatesReady, v1alpha1.ReasonInvalidCertificate,
			fmt.Sprintf("tls.secretName: Secret %q needs a PEM certificate in tls.crt and its private key in tls.key", name))
		return nil, nil
	}
	if !st.now.Before(kp.Cert.NotAfter) {
		r.fail(st, v1alpha1.ConditionCertificatesReady, v1alpha1.ReasonInvalidCertificate,
			fmt.Sprintf("tls.secretName: the certificate in Secret %q expired at %s", name, kp.Cert.NotAfter.UTC().Format("2006-01-02T15:04:05Z")))
		return nil, nil
	}
	caName := ""
	if len(s.Data[render.KeyCACert]) > 0 {
		caName = name
	}
	return &servingResult{cert: kp.Cert, certPEM: s.Data[corev1.TLSCertKey], caSecretName: caName, source: "Secret " + name}, nil
}
