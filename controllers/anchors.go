package controllers

import (
	"crypto/x509"

	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
	"github.com/registry-auth-operator/registry-auth-operator/internal/rotation"
)

// anchorSet is the content of a Secret whose anchors rotate (see
// internal/rotation): the active pair, the incoming pair while adding, the
// outgoing certificate after the switch, and the rotation state.
type anchorSet struct {
	activePEM pemPair
	active    *pki.KeyPair
	nextPEM   pemPair
	next      *pki.KeyPair
	previous  *x509.Certificate
	state     rotation.State
}

// readAnchorSet parses s. A state whose material is missing or broken reads
// as stable: restarting a rotation from its first step is always safe.
func readAnchorSet(s *corev1.Secret, prefix string) anchorSet {
	var a anchorSet
	a.activePEM, a.active = parsePair(s)
	if s == nil {
		return a
	}
	a.state = rotation.Parse(s.Annotations, prefix)
	a.nextPEM = pemPair{certPEM: s.Data[render.KeyNextCert], keyPEM: s.Data[render.KeyNextKey]}
	if len(a.nextPEM.certPEM) > 0 {
		if kp, err := pki.ParseKeyPair(a.nextPEM.certPEM, a.nextPEM.keyPEM); err == nil {
			a.next = kp
		}
	}
	if prev, err := pki.ParseCertificates(s.Data[render.KeyPreviousCert]); err == nil {
		a.previous = prev[0]
	}
	switch {
	case a.state.Phase == rotation.Adding && a.next == nil,
		a.state.Phase == rotation.Switched && a.previous == nil:
		a.state = rotation.State{Requested: a.state.Requested}
	}
	if a.state.Phase != rotation.Adding {
		a.next, a.nextPEM = nil, pemPair{}
	}
	if a.state.Phase != rotation.Switched {
		a.previous = nil
	}
	return a
}

// begin adds an incoming pair.
func (a *anchorSet) begin(kp *pki.KeyPair) error {
	enc, err := encodePair(kp)
	if err != nil {
		return err
	}
	a.next, a.nextPEM = kp, enc
	return nil
}

// switchToNext makes the incoming pair active and keeps the old certificate.
func (a *anchorSet) switchToNext() {
	a.previous = a.active.Cert
	a.active, a.activePEM = a.next, a.nextPEM
	a.next, a.nextPEM = nil, pemPair{}
}

// drop forgets the outgoing certificate.
func (a *anchorSet) drop() { a.previous = nil }

// certs are what verifiers trust, oldest first: [previous,] active [, next].
// The order keeps the bundle byte-identical from adding to switched, so the
// switch itself changes nothing verifiers see.
func (a *anchorSet) certs() []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range []*x509.Certificate{a.previous, certOf(a.active), certOf(a.next)} {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

func certOf(kp *pki.KeyPair) *x509.Certificate {
	if kp == nil {
		return nil
	}
	return kp.Cert
}

// secret renders the set into an anchor Secret's content.
func (a *anchorSet) secret(bundleKey string, bundle []byte) render.Anchors {
	out := render.Anchors{
		CertPEM: a.activePEM.certPEM, KeyPEM: a.activePEM.keyPEM,
		NextCertPEM: a.nextPEM.certPEM, NextKeyPEM: a.nextPEM.keyPEM,
		BundleKey: bundleKey, BundlePEM: bundle,
	}
	if a.previous != nil {
		out.PreviousCertPEM = pki.EncodeCertificates(a.previous)
	}
	return out
}
