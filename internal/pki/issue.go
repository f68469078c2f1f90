package pki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// backdate lets certificates verify on hosts whose clock is slightly behind.
const backdate = 5 * time.Minute

// Template describes a certificate to issue.
type Template struct {
	CommonName string
	// SANs are DNS names or IP addresses.
	SANs      []string
	Lifetime  time.Duration
	Algorithm KeyAlgorithm
}

// NewCA creates a self-signed CA.
func NewCA(t Template, now time.Time) (*KeyPair, error) {
	return issue(t, now, nil, func(c *x509.Certificate) {
		c.IsCA = true
		c.BasicConstraintsValid = true
		c.MaxPathLenZero = true
		c.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	})
}

// IssueServing issues a TLS server certificate for t.SANs.
func (ca *KeyPair) IssueServing(t Template, now time.Time) (*KeyPair, error) {
	return issue(t, now, ca, func(c *x509.Certificate) {
		c.BasicConstraintsValid = true
		c.KeyUsage = x509.KeyUsageDigitalSignature
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
}

// IssueSigning issues a token-signing certificate: it only ever signs JWTs.
func (ca *KeyPair) IssueSigning(t Template, now time.Time) (*KeyPair, error) {
	return issue(t, now, ca, func(c *x509.Certificate) {
		c.BasicConstraintsValid = true
		c.KeyUsage = x509.KeyUsageDigitalSignature
	})
}

func issue(t Template, now time.Time, parent *KeyPair, shape func(*x509.Certificate)) (*KeyPair, error) {
	if t.Lifetime <= 0 {
		return nil, fmt.Errorf("certificate %q: lifetime must be positive", t.CommonName)
	}
	key, err := newKey(t.Algorithm)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: t.CommonName, Organization: []string{"registry-auth-operator"}},
		NotBefore:    now.Add(-backdate).UTC().Truncate(time.Second),
		NotAfter:     now.Add(t.Lifetime).UTC().Truncate(time.Second),
	}
	for _, san := range t.SANs {
		if ip := net.ParseIP(san); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, san)
		}
	}
	shape(tmpl)
	if _, isRSA := key.Public().(*rsa.PublicKey); isRSA && !tmpl.IsCA {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	signerCert, signerKey := tmpl, key
	if parent != nil {
		signerCert, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signerKey)
	if err != nil {
		return nil, fmt.Errorf("issuing %q: %w", t.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}
