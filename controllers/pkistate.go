package controllers

import (
	"crypto/x509"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
)

// pemPair is a certificate and key as stored: kept byte for byte while valid,
// so an unchanged certificate never rewrites its Secret.
type pemPair struct {
	certPEM, keyPEM []byte
}

// caState is a CA in use, parsed and as stored.
type caState struct {
	pemPair
	pair *pki.KeyPair
}

// parsePair reads tls.crt and tls.key of a Secret; the pair is nil when the
// Secret is missing or does not hold a matching certificate and key.
func parsePair(s *corev1.Secret) (pemPair, *pki.KeyPair) {
	p := pemPair{certPEM: secretData(s, corev1.TLSCertKey), keyPEM: secretData(s, corev1.TLSPrivateKeyKey)}
	if len(p.certPEM) == 0 || len(p.keyPEM) == 0 {
		return p, nil
	}
	kp, err := pki.ParseKeyPair(p.certPEM, p.keyPEM)
	if err != nil {
		return p, nil
	}
	return p, kp
}

func encodePair(kp *pki.KeyPair, chain ...*x509.Certificate) (pemPair, error) {
	key, err := kp.KeyPEM()
	if err != nil {
		return pemPair{}, err
	}
	return pemPair{certPEM: pki.EncodeCertificates(append([]*x509.Certificate{kp.Cert}, chain...)...), keyPEM: key}, nil
}

// newCA creates a CA named after the RegistryAuth.
func (r *RegistryAuthReconciler) newCA(st *state, what string) (*caState, error) {
	kp, err := pki.NewCA(pki.Template{
		CommonName: st.ra.Namespace + "/" + st.ra.Name + " " + what, Lifetime: st.opts.CALifetime, Algorithm: pki.ECDSAP256,
	}, st.now)
	if err != nil {
		return nil, err
	}
	enc, err := encodePair(kp)
	if err != nil {
		return nil, err
	}
	return &caState{pemPair: enc, pair: kp}, nil
}

// caMaker makes new CAs for a rotation.
func (r *RegistryAuthReconciler) caMaker(st *state, what string) func() (*pki.KeyPair, error) {
	return func() (*pki.KeyPair, error) {
		ca, err := r.newCA(st, what)
		if err != nil {
			return nil, err
		}
		return ca.pair, nil
	}
}

// certSANs lists a certificate's DNS names and IP addresses, sorted like
// render.ServingSANs so the two compare directly.
func certSANs(c *x509.Certificate) []string {
	out := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func ptrTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t.UTC())
	return &mt
}
