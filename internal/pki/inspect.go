package pki

import (
	"crypto/x509"
	"net"
	"slices"
	"time"
)

// RenewalTime is when a certificate should be replaced: at two thirds of its
// lifetime, leaving a third for the new one to propagate.
func RenewalTime(c *x509.Certificate) time.Time {
	life := c.NotAfter.Sub(c.NotBefore)
	return c.NotBefore.Add(life * 2 / 3)
}

// NeedsRenewal reports whether c is due for renewal at now.
func NeedsRenewal(c *x509.Certificate, now time.Time) bool {
	return !now.Before(RenewalTime(c))
}

// MissingSANs lists the names of sans the certificate does not cover.
func MissingSANs(c *x509.Certificate, sans []string) []string {
	var missing []string
	for _, san := range sans {
		if ip := net.ParseIP(san); ip != nil {
			if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
				missing = append(missing, san)
			}
			continue
		}
		if c.VerifyHostname(san) != nil {
			missing = append(missing, san)
		}
	}
	return missing
}

// VerifyChain checks that leaf chains to one of roots through intermediates,
// for any key usage (token-signing certificates carry no server usage).
func VerifyChain(leaf *x509.Certificate, intermediates, roots []*x509.Certificate, now time.Time) error {
	rootPool, interPool := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range roots {
		rootPool.AddCert(r)
	}
	for _, i := range intermediates {
		interPool.AddCert(i)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         rootPool,
		Intermediates: interPool,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	return err
}

// SignedBy reports whether ca's key signed c.
func SignedBy(c, ca *x509.Certificate) bool {
	return c.CheckSignatureFrom(ca) == nil
}
