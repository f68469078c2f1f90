package controllers

import (
	"context"
	"crypto/x509"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
	"github.com/registry-auth-operator/registry-auth-operator/internal/rotation"
)

const (
	// tokenPrefix prefixes the rotation state on the token CA Secret.
	tokenPrefix = "token.registryauth.dev/"
	// annotationSigningRequest on the signing Secret records the last
	// rotate-signing-key request acted upon.
	annotationSigningRequest = "registryauth.dev/signing-key-request"
	// propagationGrace: the kubelet updates mounted Secrets within about a
	// minute, then the auth server reloads within seconds. Added to the
	// longest token lifetime before an old anchor is dropped.
	propagationGrace = 2 * time.Minute
)

// signingAlgorithm: ES256 for the builtin server; RSA for docker_auth, whose
// EC key IDs registry 3 rejects.
func signingAlgorithm(p v1alpha1.AuthProvider) pki.KeyAlgorithm {
	if p == v1alpha1.ProviderDockerAuth {
		return pki.RSA2048
	}
	return pki.ECDSAP256
}

// tokenKeys is what the token step reads: the token CA Secret's anchors and
// the signing certificate in use.
type tokenKeys struct {
	set        anchorSet
	signingPEM pemPair
	leaf       *pki.KeyPair
	// signingRequest is the last rotate-signing-key request acted upon.
	signingRequest string
}

// reconcileTokenPKI keeps the token CA and the short-lived signing
// certificate, and the registry's rootcertbundle. The token CA is never the
// serving CA: the bundle must trust nothing else. Replacing what the
// registry trusts goes through the three steps of internal/rotation.
func (r *RegistryAuthReconciler) reconcileTokenPKI(ctx context.Context, st *state) error {
	caSecret, err := r.getSecret(ctx, st.ra.Namespace, st.names.TokenCA)
	if err != nil {
		return err
	}
	signingSecret, err := r.getSecret(ctx, st.ra.Namespace, st.names.TokenSigning)
	if err != nil {
		return err
	}
	k := &tokenKeys{set: readAnchorSet(caSecret, tokenPrefix)}
	k.signingPEM, k.leaf = parsePair(signingSecret)
	if signingSecret != nil {
		k.signingRequest = signingSecret.Annotations[annotationSigningRequest]
	}
	var bundle []*x509.Certificate
	if st.wiring.Provider == v1alpha1.ProviderDockerAuth {
		bundle, err = r.pinnedLeafRotation(ctx, st, k)
	} else {
		bundle, err = r.tokenCARotation(ctx, st, k)
	}
	if err != nil {
		return err
	}
	if req := st.ra.Annotations[v1alpha1.AnnotationRotateSigningKey]; req != "" {
		k.signingRequest = req
	}
	bundlePEM := pki.EncodeCertificates(bundle...)
	// The bundle first: a signer must never be ahead of what the registry trusts.
	if _, err := r.apply(ctx, st, render.AnchorSecret(st.ra, st.names.TokenCA, "token-ca",
		k.set.secret(render.TokenBundleFile, bundlePEM), k.set.state.Annotations(tokenPrefix))); err != nil {
		return err
	}
	var ann map[string]string
	if k.signingRequest != "" {
		ann = map[string]string{annotationSigningRequest: k.signingRequest}
	}
	if _, err := r.apply(ctx, st, render.TLSSecret(st.ra, st.names.TokenSigning, "token-signing",
		k.signingPEM.certPEM, k.signingPEM.keyPEM, nil, ann)); err != nil {
		return err
	}
	st.bundle = bundlePEM
	st.restartInputs = append(st.restartInputs, bundlePEM)
	st.podAnnotations[render.AnnotationTokenBundle] = render.ShortHash(bundlePEM)
	st.renewals = append(st.renewals, pki.RenewalTime(k.leaf.Cert), pki.RenewalTime(k.set.active.Cert))
	if t := k.set.state.DropAt(); !t.IsZero() {
		st.renewals = append(st.renewals, t)
	}
	r.reportRotation(st, "token CA", k.set.state)
	st.signing = k.leaf.Cert
	st.ra.Status.SigningCertificateNotAfter = ptrTime(k.leaf.Cert.NotAfter)
	return nil
}

// signingRequested: a rotate-signing-key request not yet acted upon.
func (k *tokenKeys) signingRequested(ra *v1alpha1.RegistryAuth) bool {
	req := ra.Annotations[v1alpha1.AnnotationRotateSigningKey]
	return req != "" && req != k.signingRequest
}

// tokenCARequest returns the rotate-token-ca request and whether it is new.
func tokenCARequest(ra *v1alpha1.RegistryAuth, s rotation.State) (string, bool) {
	req := ra.Annotations[v1alpha1.AnnotationRotateTokenCA]
	return req, req != "" && req != s.Requested
}

// tokenCARotation (builtin): the registry trusts the token CA and the leaf
// travels in x5c, so a new leaf needs no change on the registry side; only
// replacing the CA goes through the three steps.
func (r *RegistryAuthReconciler) tokenCARotation(ctx context.Context, st *state, k *tokenKeys) ([]*x509.Certificate, error) {
	if k.set.active == nil || !k.set.active.Cert.IsCA {
		// No token CA yet (or a broken one): nothing can verify anyway.
		ca, err := r.newCA(st, "token CA")
		if err != nil {
			return nil, err
		}
		k.set = anchorSet{active: ca.pair, activePEM: ca.pemPair}
	}
	req, requested := tokenCARequest(st.ra, k.set.state)
	trusted, err := r.rolloutCarries(ctx, st, render.AnnotationTokenBundle, render.ShortHash(pki.EncodeCertificates(k.set.certs()...)))
	if err != nil {
		return nil, err
	}
	obs := rotation.Observed{
		Due:     requested || pki.NeedsRenewal(k.set.active.Cert, st.now),
		Trusted: trusted,
		// The auth server reloads the signing Secret live; the hold covers
		// the propagation.
		SignerSwitched: true,
	}
	if err := r.stepRotation(st, &k.set, obs, req, "token CA", st.wiring.TokenTTL+propagationGrace, r.caMaker(st, "token CA")); err != nil {
		return nil, err
	}
	// The leaf follows the active CA and is replaced live.
	ca := k.set.active
	if k.leaf == nil || !pki.SignedBy(k.leaf.Cert, ca.Cert) || pki.NeedsRenewal(k.leaf.Cert, st.now) ||
		pki.AlgorithmOf(k.leaf.Cert.PublicKey) != pki.ECDSAP256 || k.signingRequested(st.ra) {
		leaf, err := r.issueSigning(st, ca, pki.ECDSAP256)
		if err != nil {
			return nil, err
		}
		// tls.crt is the chain sent as x5c: the leaf, then the token CA.
		if k.signingPEM, err = encodePair(leaf, ca.Cert); err != nil {
			return nil, err
		}
		k.leaf = leaf
	}
	return k.set.certs(), nil
}

// pinnedLeafRotation (docker_auth): docker_auth sends no x5c, only a key ID,
// so the registry must trust the signing certificate itself: every new leaf
// goes through the three steps, and so does each switch of the signer (the
// pods restart to pick it up, as docker_auth does not reload certificates).
// The token CA (tls.* of the Secret) only issues the leaves.
func (r *RegistryAuthReconciler) pinnedLeafRotation(ctx context.Context, st *state, k *tokenKeys) ([]*x509.Certificate, error) {
	req, caRequested := tokenCARequest(st.ra, k.set.state)
	if k.set.active == nil || !k.set.active.Cert.IsCA || pki.NeedsRenewal(k.set.active.Cert, st.now) || caRequested {
		// Replacing this CA changes nothing the registry trusts by itself:
		// the leaf it issued is pinned. The next leaf comes from the new CA.
		ca, err := r.newCA(st, "token CA")
		if err != nil {
			return nil, err
		}
		k.set.active, k.set.activePEM = ca.pair, ca.pemPair
		k.set.state.Requested = req
	}
	ca := k.set.active
	// The anchors of this rotation are leaves: view the set with the signing
	// leaf as active, the CA stays in the Secret's tls.*.
	leaves := anchorSet{active: k.leaf, activePEM: k.signingPEM, next: k.set.next, nextPEM: k.set.nextPEM, previous: k.set.previous, state: k.set.state}
	if k.leaf == nil {
		// Nothing signs yet (a new registry, or a deleted Secret): start
		// directly with a trusted leaf.
		leaf, err := r.issueSigning(st, ca, pki.RSA2048)
		if err != nil {
			return nil, err
		}
		enc, err := encodePair(leaf)
		if err != nil {
			return nil, err
		}
		leaves = anchorSet{active: leaf, activePEM: enc, state: rotation.State{Requested: k.set.state.Requested}}
	}
	trusted, err := r.rolloutCarries(ctx, st, render.AnnotationTokenBundle, render.ShortHash(pki.EncodeCertificates(leaves.certs()...)))
	if err != nil {
		return nil, err
	}
	signed, err := r.rolloutCarries(ctx, st, render.AnnotationTokenSigner, render.ShortHash(leaves.activePEM.certPEM))
	if err != nil {
		return nil, err
	}
	leaf := leaves.active
	obs := rotation.Observed{
		Due: !pki.SignedBy(leaf.Cert, ca.Cert) || pki.NeedsRenewal(leaf.Cert, st.now) ||
			pki.AlgorithmOf(leaf.Cert.PublicKey) != pki.RSA2048 || k.signingRequested(st.ra),
		Trusted:        trusted,
		SignerSwitched: signed,
	}
	if err := r.stepRotation(st, &leaves, obs, leaves.state.Requested, "signing certificate", st.wiring.TokenTTL+propagationGrace, func() (*pki.KeyPair, error) {
		return r.issueSigning(st, ca, pki.RSA2048)
	}); err != nil {
		return nil, err
	}
	k.leaf, k.signingPEM = leaves.active, leaves.activePEM
	k.set.next, k.set.nextPEM, k.set.previous, k.set.state = leaves.next, leaves.nextPEM, leaves.previous, leaves.state
	st.restartInputs = append(st.restartInputs, k.signingPEM.certPEM)
	st.podAnnotations[render.AnnotationTokenSigner] = render.ShortHash(k.signingPEM.certPEM)
	return leaves.certs(), nil
}

// stepRotation takes the step internal/rotation says is due on set, with an
// Event for each, and records the new state.
func (r *RegistryAuthReconciler) stepRotation(st *state, set *anchorSet, obs rotation.Observed, request, what string, hold time.Duration, next func() (*pki.KeyPair, error)) error {
	action := rotation.Next(set.state, obs, st.now)
	switch action {
	case rotation.None:
		return nil
	case rotation.Begin:
		kp, err := next()
		if err != nil {
			return err
		}
		if err := set.begin(kp); err != nil {
			return err
		}
		r.event(st, corev1.EventTypeNormal, "RotationStarted", "Rotate",
			"new %s added to what the registry trusts; the signer switches once every pod trusts it", what)
	case rotation.Switch:
		set.switchToNext()
		r.event(st, corev1.EventTypeNormal, "RotationSwitched", "Rotate",
			"now signing with the new %s; the old one stays trusted for %s more", what, hold)
	case rotation.Drop:
		set.drop()
		r.event(st, corev1.EventTypeNormal, "RotationCompleted", "Rotate",
			"old %s removed: no token it signed is still valid", what)
	}
	set.state = set.state.Apply(action, st.now, hold, request)
	return nil
}

// reportRotation notes a rotation in progress in the status message of
// CertificatesReady (the registry keeps working meanwhile).
func (r *RegistryAuthReconciler) reportRotation(st *state, what string, s rotation.State) {
	switch s.Phase {
	case rotation.Adding:
		st.rotating = append(st.rotating, what+" rotation: waiting for every pod to trust the new "+what)
	case rotation.Switched:
		msg := what + " rotation: signing with the new " + what + "; the old one is dropped"
		if t := s.DropAt(); !t.IsZero() {
			msg += " at " + t.UTC().Format(time.RFC3339)
		} else {
			msg += " once every pod signs with the new one"
		}
		st.rotating = append(st.rotating, msg)
	}
}

func (r *RegistryAuthReconciler) issueSigning(st *state, ca *pki.KeyPair, alg pki.KeyAlgorithm) (*pki.KeyPair, error) {
	return ca.IssueSigning(pki.Template{
		CommonName: st.ra.Namespace + "/" + st.ra.Name + " token signer", Lifetime: st.opts.SigningLifetime, Algorithm: alg,
	}, st.now)
}
