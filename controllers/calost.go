package controllers

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/rotation"
)

// annotationRecoveredAt on the serving CA Secret marks a CA that replaced a
// lost one: until it plus --serving-ca-overlap, the serving certificate the
// lost CA signed keeps being served while clients learn the new CA.
const annotationRecoveredAt = servingCAPrefix + "recovered-at"

// recoverLostCA starts over with a new CA when the CA Secret (and the CA's
// key with it) was deleted, without breaking clients that trust the old CA:
// the old CA's certificate is taken from the serving Secret's ca.crt and
// published beside the new CA, and the serving certificate it signed keeps
// being served for --serving-ca-overlap (see keepLostCALeaf), as in a
// planned rotation. The rotation is entered directly in its switched phase:
// the old CA cannot sign anything any more. Without a still-valid serving
// certificate there is nothing to keep and the new CA simply takes over.
func (r *RegistryAuthReconciler) recoverLostCA(st *state, current *corev1.Secret) (anchorSet, map[string]string, error) {
	ca, err := r.newCA(st, "registry CA")
	if err != nil {
		return anchorSet{}, nil, err
	}
	set := anchorSet{active: ca.pair, activePEM: ca.pemPair}
	_, leaf := parsePair(current)
	var old *pki.KeyPair
	if leaf != nil && st.now.Before(leaf.Cert.NotAfter) {
		certs, _ := pki.ParseCertificates(secretData(current, "ca.crt"))
		for _, c := range certs {
			if c.IsCA && pki.SignedBy(leaf.Cert, c) {
				old = &pki.KeyPair{Cert: c}
			}
		}
	}
	if old == nil {
		r.event(st, corev1.EventTypeWarning, "ServingCADeleted", "Recover",
			"Secret %s with the serving CA was deleted (or holds no usable CA) and no valid serving certificate signed by it remains: a new CA was created; clients must trust it (ca.crt of Secret %s)",
			st.names.ServingCA, st.names.ServingCA)
		return set, nil, nil
	}
	set.previous = old.Cert
	set.state = rotation.State{}.Apply(rotation.Begin, st.now, 0, "").Apply(rotation.Switch, st.now, propagationGrace, "")
	until := st.now.Add(st.opts.ServingCAOverlap)
	r.event(st, corev1.EventTypeWarning, "ServingCADeleted", "Recover",
		"Secret %s with the serving CA was deleted (or holds no usable CA): a new CA is trusted beside the old one, and the serving certificate signed by the old CA (valid until %s) is kept until %s; clients and nodes must trust the new CA by then",
		st.names.ServingCA, leaf.Cert.NotAfter.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
	return set, map[string]string{annotationRecoveredAt: st.now.UTC().Format(time.RFC3339)}, nil
}

// keepLostCALeaf: whether the overlap after a lost CA still runs, and
// until when; meanwhile a serving certificate signed by the old CA that
// needs nothing else is kept.
func keepLostCALeaf(st *state, caAnn map[string]string) (time.Time, bool) {
	at, err := time.Parse(time.RFC3339, caAnn[annotationRecoveredAt])
	if err != nil {
		return time.Time{}, false
	}
	until := at.Add(st.opts.ServingCAOverlap)
	return until, st.now.Before(until)
}

// secretAnnotation reads an annotation of a possibly missing Secret.
func secretAnnotation(s *corev1.Secret, key string) string {
	if s == nil {
		return ""
	}
	return s.Annotations[key]
}

// mergeAnnotations returns a with b's entries added.
func mergeAnnotations(a, b map[string]string) map[string]string {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// describeRecovery is the rotation note while a lost CA is being replaced.
func describeRecovery(until time.Time) string {
	return fmt.Sprintf("serving CA replaced after its Secret was deleted: the old CA's certificate is served until %s", until.UTC().Format(time.RFC3339))
}
