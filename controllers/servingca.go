package controllers

import (
	"context"
	"slices"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
	"github.com/registry-auth-operator/registry-auth-operator/internal/rotation"
)

const (
	// servingCAPrefix prefixes the rotation state on the serving CA Secret.
	servingCAPrefix = "serving-ca.registryauth.dev/"
	// annotationServingRequest on the serving Secret records the last
	// renew-serving-certificate request acted upon.
	annotationServingRequest = "registryauth.dev/serving-certificate-request"
)

// operatorServingCertificate runs the operator's own serving CA. Its ca.crt
// is what clients trust; replacing the CA goes through the three steps:
// the new CA is published beside the old one (and reaches nodes through the
// node-trust agent) for --serving-ca-overlap, then the serving certificate
// moves to it, then the old CA is dropped.
func (r *RegistryAuthReconciler) operatorServingCertificate(ctx context.Context, st *state) (*servingSource, error) {
	caSecret, err := r.getSecret(ctx, st.ra.Namespace, st.names.ServingCA)
	if err != nil {
		return nil, err
	}
	set := readAnchorSet(caSecret, servingCAPrefix)
	if set.active == nil || !set.active.Cert.IsCA {
		ca, err := r.newCA(st, "registry CA")
		if err != nil {
			return nil, err
		}
		set = anchorSet{active: ca.pair, activePEM: ca.pemPair}
	}
	current, err := r.getSecret(ctx, st.ra.Namespace, st.names.ServingTLS)
	if err != nil {
		return nil, err
	}
	servingPEM, leaf := parsePair(current)

	req := st.ra.Annotations[v1alpha1.AnnotationRotateServingCA]
	signed := true // the builtin front door reloads the serving certificate live
	if st.wiring.Provider == v1alpha1.ProviderDockerAuth && leaf != nil {
		if signed, err = r.rolloutCarries(ctx, st, render.AnnotationServingCert, render.ShortHash(servingPEM.certPEM)); err != nil {
			return nil, err
		}
	}
	obs := rotation.Observed{
		Due: (req != "" && req != set.state.Requested) || pki.NeedsRenewal(set.active.Cert, st.now),
		// Clients outside the cluster cannot be observed: they get a fixed
		// overlap to pick up the new CA.
		Trusted:        set.state.Phase == rotation.Adding && !st.now.Before(set.state.StartedAt.Add(st.opts.ServingCAOverlap)),
		SignerSwitched: signed && leaf != nil && set.state.Phase == rotation.Switched && pki.SignedBy(leaf.Cert, set.active.Cert),
	}
	if err := r.stepRotation(st, &set, obs, req, "serving CA", propagationGrace, r.caMaker(st, "registry CA")); err != nil {
		return nil, err
	}
	if t := set.state.StartedAt.Add(st.opts.ServingCAOverlap); set.state.Phase == rotation.Adding {
		st.renewals = append(st.renewals, t)
	}

	sans := render.ServingSANs(st.ra, st.opts, st.svc)
	renew := st.ra.Annotations[v1alpha1.AnnotationRenewServingCertificate]
	lastRenew := ""
	if current != nil {
		lastRenew = current.Annotations[annotationServingRequest]
	}
	if leaf == nil || !pki.SignedBy(leaf.Cert, set.active.Cert) || pki.NeedsRenewal(leaf.Cert, st.now) ||
		!slices.Equal(certSANs(leaf.Cert), sans) || (renew != "" && renew != lastRenew) {
		kp, err := set.active.IssueServing(pki.Template{
			CommonName: st.wiring.ServiceDNS, SANs: sans, Lifetime: st.opts.ServingLifetime, Algorithm: pki.ECDSAP256,
		}, st.now)
		if err != nil {
			return nil, err
		}
		if servingPEM, err = encodePair(kp); err != nil {
			return nil, err
		}
		leaf = kp
	}
	bundle := pki.EncodeCertificates(set.certs()...)
	if _, err := r.Applier.Apply(ctx, render.AnchorSecret(st.ra, st.names.ServingCA, "serving-ca",
		set.secret(render.KeyCACert, bundle), set.state.Annotations(servingCAPrefix))); err != nil {
		return nil, err
	}
	if renew != "" {
		st.servingRequest = renew
	}
	st.renewals = append(st.renewals, pki.RenewalTime(set.active.Cert), pki.RenewalTime(leaf.Cert))
	if t := set.state.DropAt(); !t.IsZero() {
		st.renewals = append(st.renewals, t)
	}
	r.reportRotation(st, "serving CA", set.state)
	return &servingSource{pemPair: servingPEM, cert: leaf.Cert, caPEM: bundle, source: "the operator's CA"}, nil
}
