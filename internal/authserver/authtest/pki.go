// Package authtest builds what the token server reads, for tests: a PKI
// (serving CA and cert, token CA and signing leaf), Kubernetes-style Secret
// volume directories, and a rendered config. It is imported by tests only.
package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"
)

// KeyPair is a certificate with its private key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// KeyKind selects a key algorithm.
type KeyKind int

// Key kinds.
const (
	EC256 KeyKind = iota
	RSA2048
)

// NewKey generates a key of kind k.
func NewKey(k KeyKind) crypto.Signer {
	var (
		key crypto.Signer
		err error
	)
	switch k {
	case RSA2048:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		panic(err)
	}
	return key
}

// NewCA makes a self-signed CA.
func NewCA(cn string) *KeyPair {
	key := NewKey(EC256)
	tmpl := template(cn)
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid, tmpl.IsCA = true, true
	return sign(tmpl, key, tmpl, key)
}

// Issue makes a leaf signed by ca: a serving certificate when hosts are given
// (DNS names or IP addresses), otherwise a token signing certificate.
func (ca *KeyPair) Issue(cn string, kind KeyKind, hosts ...string) *KeyPair {
	key := NewKey(kind)
	tmpl := template(cn)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if len(hosts) > 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	return sign(tmpl, key, ca.Cert, ca.Key)
}

// CertPEM is the certificate in PEM.
func (kp *KeyPair) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: kp.Cert.Raw})
}

// KeyPEM is the private key in PKCS#8 PEM.
func (kp *KeyPair) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(kp.Key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// Pool is a CertPool holding the given certificates.
func Pool(certs ...*KeyPair) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c.Cert)
	}
	return p
}

func sign(tmpl *x509.Certificate, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer) *KeyPair {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return &KeyPair{Cert: cert, Key: key}
}

// template is a certificate valid from an hour ago for a day.
func template(cn string) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}
