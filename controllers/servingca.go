package controllers

import (
	"context"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

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
	current, err := r.getSecret(ctx, st.ra.Namespace, st.names.ServingTLS)
	if err != nil {
		return nil, err
	}
	set := readAnchorSet(caSecret, servingCAPrefix)
	caAnn := map[string]string{}
	if v := secretAnnotation(caSecret, annotationRecoveredAt); v != "" && set.state.Phase != rotation.Stable {
		caAnn[annotationRecoveredAt] = v
	}
	if set.active == nil || !set.active.Cert.IsCA {
		if current != nil {
			// Not a new registry: the CA was lost, clients still trust it.
			var recovered map[string]string
			if set, recovered, err = r.recoverLostCA(st, current); err != nil {
				return nil, err
			}
			caAnn = recovered
		} else {
			ca, err := r.newCA(st, "registry CA")
			if err != nil {
				return nil, err
			}
			set = anchorSet{active: ca.pair, activePEM: ca.pemPair}
		}
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
	why := servingRenewal(st, leaf, set.active, sans, renew, lastRenew)
	if why == whyCAChanged && set.previous != nil &&
		servingRenewal(st, leaf, &pki.KeyPair{Cert: set.previous}, sans, renew, lastRenew) == "" {
		// Fine but for its CA: kept while the CA that replaced a lost one
		// reaches clients.
		if until, keep := keepLostCALeaf(st, caAnn); keep {
			why = ""
			st.rotating = append(st.rotating, describeRecovery(until))
			st.renewals = append(st.renewals, until)
		}
	}
	if why != "" {
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
		r.event(st, corev1.EventTypeNormal, "ServingCertificateIssued", "Issue",
			"serving certificate issued (%s), valid until %s", why, kp.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	bundle := pki.EncodeCertificates(set.certs()...)
	if _, err := r.apply(ctx, st, render.AnchorSecret(st.ra, st.names.ServingCA, "serving-ca",
		set.secret(render.KeyCACert, bundle), mergeAnnotations(set.state.Annotations(servingCAPrefix), caAnn))); err != nil {
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

// whyCAChanged: the serving certificate is not signed by the active CA.
const whyCAChanged = "the serving CA changed"

// servingRenewal says why the serving certificate must be issued, or "".
func servingRenewal(st *state, leaf, ca *pki.KeyPair, sans []string, renew, lastRenew string) string {
	switch {
	case leaf == nil:
		return "none was in place"
	case !pki.SignedBy(leaf.Cert, ca.Cert):
		return whyCAChanged
	case pki.NeedsRenewal(leaf.Cert, st.now):
		return "renewal: it expires at " + leaf.Cert.NotAfter.UTC().Format(time.RFC3339)
	case !slices.Equal(certSANs(leaf.Cert), sans):
		return "the names it must cover changed: " + strings.Join(sans, ", ")
	case renew != "" && renew != lastRenew:
		return "renewal requested by annotation " + v1alpha1.AnnotationRenewServingCertificate
	}
	return ""
}
