package pki

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"slices"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func mustCA(t *testing.T, alg KeyAlgorithm) *KeyPair {
	t.Helper()
	ca, err := NewCA(Template{CommonName: "test CA", Lifetime: 24 * time.Hour, Algorithm: alg}, now)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestIssueChainsAndRoundTrips(t *testing.T) {
	for _, alg := range []KeyAlgorithm{ECDSAP256, RSA2048} {
		t.Run(string(alg), func(t *testing.T) {
			ca := mustCA(t, ECDSAP256)
			serving, err := ca.IssueServing(Template{CommonName: "svc", SANs: []string{"svc.ns.svc", "198.18.0.7"}, Lifetime: time.Hour, Algorithm: alg}, now)
			if err != nil {
				t.Fatal(err)
			}
			signing, err := ca.IssueSigning(Template{CommonName: "signer", Lifetime: time.Hour, Algorithm: alg}, now)
			if err != nil {
				t.Fatal(err)
			}
			for _, kp := range []*KeyPair{serving, signing} {
				if err := VerifyChain(kp.Cert, nil, []*x509.Certificate{ca.Cert}, now); err != nil {
					t.Errorf("%s does not chain to its CA: %v", kp.Cert.Subject.CommonName, err)
				}
				if !SignedBy(kp.Cert, ca.Cert) || kp.Cert.IsCA {
					t.Errorf("%s: signed by CA %v, IsCA %v", kp.Cert.Subject.CommonName, SignedBy(kp.Cert, ca.Cert), kp.Cert.IsCA)
				}
				if AlgorithmOf(kp.Cert.PublicKey) != alg {
					t.Errorf("algorithm %s, want %s", AlgorithmOf(kp.Cert.PublicKey), alg)
				}
				keyPEM, err := kp.KeyPEM()
				if err != nil {
					t.Fatal(err)
				}
				back, err := ParseKeyPair(append(kp.CertPEM(), ca.CertPEM()...), keyPEM)
				if err != nil || !back.Cert.Equal(kp.Cert) {
					t.Fatalf("PEM round trip: %v", err)
				}
			}
			if len(serving.Cert.ExtKeyUsage) != 1 || len(signing.Cert.ExtKeyUsage) != 0 {
				t.Error("serving certificates are for server auth; signing certificates carry no extended usage")
			}
			switch alg {
			case RSA2048:
				_, ok := signing.Key.Public().(*rsa.PublicKey)
				if !ok {
					t.Error("not RSA")
				}
			default:
				_, ok := signing.Key.Public().(*ecdsa.PublicKey)
				if !ok {
					t.Error("not ECDSA")
				}
			}
		})
	}
}

func TestSigningCertificateOfAnotherCADoesNotVerify(t *testing.T) {
	tokenCA, servingCA := mustCA(t, ECDSAP256), mustCA(t, ECDSAP256)
	leaf, _ := servingCA.IssueSigning(Template{CommonName: "x", Lifetime: time.Hour}, now)
	if VerifyChain(leaf.Cert, nil, []*x509.Certificate{tokenCA.Cert}, now) == nil || SignedBy(leaf.Cert, tokenCA.Cert) {
		t.Error("a certificate of another CA verified")
	}
}

func TestRenewalAtTwoThirds(t *testing.T) {
	ca := mustCA(t, ECDSAP256)
	leaf, _ := ca.IssueServing(Template{CommonName: "x", SANs: []string{"x"}, Lifetime: 3 * time.Hour}, now)
	// NotBefore is backdated 5 minutes: the lifetime is 3h05m.
	at := RenewalTime(leaf.Cert)
	if want := leaf.Cert.NotBefore.Add(leaf.Cert.NotAfter.Sub(leaf.Cert.NotBefore) * 2 / 3); !at.Equal(want) {
		t.Fatalf("renewal at %s, want %s", at, want)
	}
	cases := []struct {
		at   time.Time
		want bool
	}{
		{now, false}, {at.Add(-time.Second), false}, {at, true}, {leaf.Cert.NotAfter.Add(time.Hour), true},
	}
	for _, c := range cases {
		if got := NeedsRenewal(leaf.Cert, c.at); got != c.want {
			t.Errorf("NeedsRenewal at %s = %v, want %v", c.at, got, c.want)
		}
	}
}

func TestMissingSANs(t *testing.T) {
	ca := mustCA(t, ECDSAP256)
	leaf, _ := ca.IssueServing(Template{CommonName: "x", SANs: []string{"a.example", "*.wild.example", "198.18.0.1"}, Lifetime: time.Hour}, now)
	got := MissingSANs(leaf.Cert, []string{"a.example", "b.wild.example", "198.18.0.1", "198.18.0.2", "c.example"})
	if want := []string{"198.18.0.2", "c.example"}; !slices.Equal(got, want) {
		t.Errorf("missing %v, want %v", got, want)
	}
}

func TestParseRejectsMismatchAndGarbage(t *testing.T) {
	a, b := mustCA(t, ECDSAP256), mustCA(t, ECDSAP256)
	bKey, _ := b.KeyPEM()
	if _, err := ParseKeyPair(a.CertPEM(), bKey); err == nil {
		t.Error("a certificate with another key parsed")
	}
	if _, err := ParseCertificates([]byte("not pem")); err == nil {
		t.Error("garbage parsed")
	}
	if _, err := NewCA(Template{CommonName: "x"}, now); err == nil {
		t.Error("zero lifetime accepted")
	}
}
