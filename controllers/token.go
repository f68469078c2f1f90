package controllers

import (
	"context"
	"crypto/x509"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// signingAlgorithm: ES256 for the builtin server; RSA for docker_auth, whose
// EC key IDs registry 3 rejects.
func signingAlgorithm(p v1alpha1.AuthProvider) pki.KeyAlgorithm {
	if p == v1alpha1.ProviderDockerAuth {
		return pki.RSA2048
	}
	return pki.ECDSAP256
}

// tokenCertificates keeps the token CA and the short-lived signing
// certificate it issues, and computes the registry's rootcertbundle. The
// token CA is never the serving CA: the bundle must trust nothing else.
func (r *RegistryAuthReconciler) tokenCertificates(ctx context.Context, st *state) (*x509.Certificate, error) {
	ns, names := st.ra.Namespace, st.names
	caSecret, err := r.getSecret(ctx, ns, names.TokenCA)
	if err != nil {
		return nil, err
	}
	ca, err := r.ensureCA(st, caSecret, st.ra.Namespace+"/"+st.ra.Name+" token CA", pki.ECDSAP256)
	if err != nil {
		return nil, err
	}
	alg := signingAlgorithm(st.wiring.Provider)
	signingSecret, err := r.getSecret(ctx, ns, names.TokenSigning)
	if err != nil {
		return nil, err
	}
	stored, leaf := parsePair(signingSecret)
	if leaf == nil || !pki.SignedBy(leaf.Cert, ca.pair.Cert) || pki.NeedsRenewal(leaf.Cert, st.now) ||
		pki.AlgorithmOf(leaf.Cert.PublicKey) != alg {
		if leaf, err = ca.pair.IssueSigning(pki.Template{
			CommonName: st.ra.Namespace + "/" + st.ra.Name + " token signer", Lifetime: st.opts.SigningLifetime, Algorithm: alg,
		}, st.now); err != nil {
			return nil, err
		}
		// tls.crt is the chain sent as x5c: the leaf, then the token CA.
		if stored, err = encodePair(leaf, ca.pair.Cert); err != nil {
			return nil, err
		}
	}
	bundle := ca.certPEM
	if st.wiring.Provider == v1alpha1.ProviderDockerAuth {
		// docker_auth sends no x5c, only a key ID: the registry must hold
		// the signing certificate itself.
		bundle = pki.EncodeCertificates(leaf.Cert)
	}
	// The bundle first: a signer must never be ahead of what the registry trusts.
	if _, err := r.Applier.Apply(ctx, render.TokenCASecret(st.ra, ca.certPEM, ca.keyPEM, bundle, nil)); err != nil {
		return nil, err
	}
	if _, err := r.Applier.Apply(ctx, render.TLSSecret(st.ra, names.TokenSigning, "token-signing", stored.certPEM, stored.keyPEM, nil, nil)); err != nil {
		return nil, err
	}
	st.bundle = bundle
	st.restartInputs = append(st.restartInputs, bundle)
	st.renewals = append(st.renewals, pki.RenewalTime(leaf.Cert), pki.RenewalTime(ca.pair.Cert))
	return leaf.Cert, nil
}
