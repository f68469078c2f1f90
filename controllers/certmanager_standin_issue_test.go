package controllers

// How the cert-manager stand-in issues: cert-manager v1.21's key generation
// (pkg/util/pki/generate.go), certificate template and CA signing
// (pkg/util/pki, pkg/controller/certificaterequests/ca) and the Secret its
// issuing controller writes (pkg/controller/certificates/issuing/internal/secret.go).

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/csv"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"net/url"
	"strings"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// caKeyPair is an issuer's CA: certs[0] signs; the chain ends at the root.
type caKeyPair struct {
	certs []*x509.Certificate
	key   crypto.Signer
}

// loadCA reads a CA Secret like cert-manager's kube.SecretTLSKeyPairAndCA.
func loadCA(secret *corev1.Secret) (*caKeyPair, error) {
	key, err := decodePrivateKey(secret.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return nil, err
	}
	certs, err := decodeCerts(secret.Data[corev1.TLSCertKey])
	if err != nil {
		return nil, err
	}
	if extra, err := decodeCerts(secret.Data[cmmeta.TLSCAKey]); err == nil && !certs[len(certs)-1].Equal(extra[0]) {
		certs = append(certs, extra[0])
	}
	if !samePublicKey(certs[0].PublicKey, key.Public()) {
		return nil, errors.New("the private key does not match the certificate")
	}
	return &caKeyPair{certs: certs, key: key}, nil
}

// specError is a spec the stand-in cannot issue for (cert-manager: Failed).
type specError struct{ error }

// issue writes a new key and certificate into the Certificate's Secret.
func (s *certManagerStandIn) issue(ctx context.Context, crt *cmapi.Certificate, secret *corev1.Secret, ca *caKeyPair) (*x509.Certificate, error) {
	key, keyPEM, err := generatePrivateKey(crt.Spec.PrivateKey)
	if err != nil {
		return nil, specError{err}
	}
	template, err := certificateTemplate(crt, key.Public())
	if err != nil {
		return nil, specError{err}
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.certs[0], key.Public(), ca.key)
	if err != nil {
		return nil, specError{err}
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	// tls.crt: the leaf and the CA chain without a self-signed root; ca.crt: the chain's top.
	chain := append([]*x509.Certificate{leaf}, ca.certs...)
	top := chain[len(chain)-1]
	if isSelfSigned(top) {
		chain = chain[:len(chain)-1]
	}

	create := secret == nil
	if create {
		secret = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: crt.Namespace, Name: crt.Spec.SecretName},
			Type:       corev1.SecretTypeTLS,
		}
	}
	if secret.Data == nil {
		secret.Data = map[string][]byte{}
	}
	secret.Data[corev1.TLSCertKey] = encodeCerts(chain...)
	secret.Data[corev1.TLSPrivateKeyKey] = keyPEM
	secret.Data[cmmeta.TLSCAKey] = encodeCerts(top)
	applySecretMetadata(crt, secret, leaf)
	if create {
		return leaf, s.client.Create(ctx, secret)
	}
	return leaf, s.client.Update(ctx, secret)
}

// ensureSecretTemplate brings an up-to-date Secret's metadata in line
// (cert-manager does so without re-issuing).
func (s *certManagerStandIn) ensureSecretTemplate(ctx context.Context, crt *cmapi.Certificate, secret *corev1.Secret) error {
	leaf, err := decodeLeaf(secret)
	if err != nil {
		return err
	}
	want := secret.DeepCopy()
	applySecretMetadata(crt, want, leaf)
	if maps.Equal(want.Labels, secret.Labels) && maps.Equal(want.Annotations, secret.Annotations) {
		return nil
	}
	return s.client.Update(ctx, want)
}

// applySecretMetadata sets secretTemplate's labels and annotations, then
// cert-manager's own: certificate details, certificate and issuer names.
func applySecretMetadata(crt *cmapi.Certificate, secret *corev1.Secret, leaf *x509.Certificate) {
	if secret.Labels == nil {
		secret.Labels = map[string]string{}
	}
	if secret.Annotations == nil {
		secret.Annotations = map[string]string{}
	}
	if t := crt.Spec.SecretTemplate; t != nil {
		maps.Copy(secret.Labels, t.Labels)
		maps.Copy(secret.Annotations, t.Annotations)
	}
	a := secret.Annotations
	a[cmapi.CommonNameAnnotationKey] = leaf.Subject.CommonName
	a[cmapi.AltNamesAnnotationKey] = joinCSV(leaf.DNSNames)
	a[cmapi.IPSANAnnotationKey] = joinCSV(ipStrings(leaf.IPAddresses))
	a[cmapi.URISANAnnotationKey] = joinCSV(uriStrings(leaf))
	if len(leaf.EmailAddresses) > 0 {
		a[cmapi.EmailsAnnotationKey] = joinCSV(leaf.EmailAddresses)
	}
	a[cmapi.CertificateNameKey] = crt.Name
	a[cmapi.IssuerNameAnnotationKey] = crt.Spec.IssuerRef.Name
	a[cmapi.IssuerKindAnnotationKey] = crt.Spec.IssuerRef.Kind
	a[cmapi.IssuerGroupAnnotationKey] = crt.Spec.IssuerRef.Group
	secret.Labels[cmapi.PartOfCertManagerControllerLabelKey] = "true"
}

// certificateTemplate is what cert-manager's CA issuer signs for the spec.
func certificateTemplate(crt *cmapi.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	spec := crt.Spec
	ku, eku, err := keyUsages(spec.Usages, spec.IsCA)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	now := time.Now().Truncate(time.Second)
	t := &x509.Certificate{
		SerialNumber: serial, PublicKey: pub,
		Subject:        pkix.Name{CommonName: spec.CommonName},
		DNSNames:       spec.DNSNames,
		EmailAddresses: spec.EmailAddresses,
		NotBefore:      now, NotAfter: now.Add(certDuration(crt)),
		KeyUsage: ku, ExtKeyUsage: eku,
		BasicConstraintsValid: true, IsCA: spec.IsCA,
	}
	if sub := spec.Subject; sub != nil {
		t.Subject.Organization, t.Subject.Country, t.Subject.OrganizationalUnit = sub.Organizations, sub.Countries, sub.OrganizationalUnits
		t.Subject.Locality, t.Subject.Province, t.Subject.StreetAddress = sub.Localities, sub.Provinces, sub.StreetAddresses
		t.Subject.PostalCode, t.Subject.SerialNumber = sub.PostalCodes, sub.SerialNumber
	}
	for _, ip := range spec.IPAddresses {
		p := net.ParseIP(ip)
		if p == nil {
			return nil, fmt.Errorf("invalid IP address %q", ip)
		}
		t.IPAddresses = append(t.IPAddresses, p)
	}
	for _, u := range spec.URIs {
		p, err := url.Parse(u)
		if err != nil {
			return nil, err
		}
		t.URIs = append(t.URIs, p)
	}
	return t, nil
}

// certDuration defaults to cert-manager's 90 days.
func certDuration(crt *cmapi.Certificate) time.Duration {
	if crt.Spec.Duration != nil && crt.Spec.Duration.Duration > 0 {
		return crt.Spec.Duration.Duration
	}
	return cmapi.DefaultCertificateDuration
}

var (
	standInKeyUsages = map[cmapi.KeyUsage]x509.KeyUsage{
		cmapi.UsageSigning: x509.KeyUsageDigitalSignature, cmapi.UsageDigitalSignature: x509.KeyUsageDigitalSignature,
		cmapi.UsageContentCommitment: x509.KeyUsageContentCommitment, cmapi.UsageKeyEncipherment: x509.KeyUsageKeyEncipherment,
		cmapi.UsageKeyAgreement: x509.KeyUsageKeyAgreement, cmapi.UsageDataEncipherment: x509.KeyUsageDataEncipherment,
		cmapi.UsageCertSign: x509.KeyUsageCertSign, cmapi.UsageCRLSign: x509.KeyUsageCRLSign,
		cmapi.UsageEncipherOnly: x509.KeyUsageEncipherOnly, cmapi.UsageDecipherOnly: x509.KeyUsageDecipherOnly,
	}
	standInExtKeyUsages = map[cmapi.KeyUsage]x509.ExtKeyUsage{
		cmapi.UsageAny: x509.ExtKeyUsageAny, cmapi.UsageServerAuth: x509.ExtKeyUsageServerAuth,
		cmapi.UsageClientAuth: x509.ExtKeyUsageClientAuth, cmapi.UsageCodeSigning: x509.ExtKeyUsageCodeSigning,
		cmapi.UsageEmailProtection: x509.ExtKeyUsageEmailProtection, cmapi.UsageSMIME: x509.ExtKeyUsageEmailProtection,
		cmapi.UsageIPsecEndSystem: x509.ExtKeyUsageIPSECEndSystem, cmapi.UsageIPsecTunnel: x509.ExtKeyUsageIPSECTunnel,
		cmapi.UsageIPsecUser: x509.ExtKeyUsageIPSECUser, cmapi.UsageTimestamping: x509.ExtKeyUsageTimeStamping,
		cmapi.UsageOCSPSigning: x509.ExtKeyUsageOCSPSigning, cmapi.UsageMicrosoftSGC: x509.ExtKeyUsageMicrosoftServerGatedCrypto,
		cmapi.UsageNetscapeSGC: x509.ExtKeyUsageNetscapeServerGatedCrypto,
	}
)

// keyUsages is cert-manager's KeyUsagesForCertificateOrCertificateRequest:
// default "digital signature, key encipherment"; isCA adds cert sign.
func keyUsages(usages []cmapi.KeyUsage, isCA bool) (ku x509.KeyUsage, eku []x509.ExtKeyUsage, err error) {
	if isCA {
		ku |= x509.KeyUsageCertSign
	}
	if len(usages) == 0 {
		usages = cmapi.DefaultKeyUsages()
	}
	for _, u := range usages {
		if k, ok := standInKeyUsages[u]; ok {
			ku |= k
		} else if e, ok := standInExtKeyUsages[u]; ok {
			eku = append(eku, e)
		} else {
			return 0, nil, fmt.Errorf("unknown key usages: [%s]", u)
		}
	}
	return ku, eku, nil
}

// generatePrivateKey is cert-manager's GeneratePrivateKeyForCertificate
// (RSA 2048 by default, ECDSA P-256, Ed25519) with its encodings (PKCS1 by
// default; PKCS8). The stand-in always rotates the key (rotationPolicy Always,
// cert-manager's default).
func generatePrivateKey(spec *cmapi.CertificatePrivateKey) (crypto.Signer, []byte, error) {
	alg, size := privateKeySpec(spec)
	var key crypto.Signer
	var err error
	switch alg {
	case cmapi.RSAKeyAlgorithm:
		key, err = rsa.GenerateKey(rand.Reader, size)
	case cmapi.ECDSAKeyAlgorithm:
		curves := map[int]elliptic.Curve{256: elliptic.P256(), 384: elliptic.P384(), 521: elliptic.P521()}
		if curves[size] == nil {
			return nil, nil, fmt.Errorf("unsupported ecdsa keysize specified: %d", size)
		}
		key, err = ecdsa.GenerateKey(curves[size], rand.Reader)
	case cmapi.Ed25519KeyAlgorithm:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, nil, fmt.Errorf("unsupported private key algorithm specified: %s", alg)
	}
	if err != nil {
		return nil, nil, err
	}
	block := &pem.Block{}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		block.Type, block.Bytes = "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k)
	case *ecdsa.PrivateKey:
		block.Type = "EC PRIVATE KEY"
		block.Bytes, err = x509.MarshalECPrivateKey(k)
	}
	if spec != nil && spec.Encoding == cmapi.PKCS8 || alg == cmapi.Ed25519KeyAlgorithm {
		block.Type = "PRIVATE KEY"
		block.Bytes, err = x509.MarshalPKCS8PrivateKey(key)
	}
	return key, pem.EncodeToMemory(block), err
}

// privateKeySpec applies cert-manager's defaults to spec.privateKey.
func privateKeySpec(spec *cmapi.CertificatePrivateKey) (cmapi.PrivateKeyAlgorithm, int) {
	alg, size := cmapi.RSAKeyAlgorithm, 0
	if spec != nil {
		alg, size = cmapi.PrivateKeyAlgorithm(orDefault(string(spec.Algorithm), string(cmapi.RSAKeyAlgorithm))), spec.Size
	}
	if size == 0 {
		size = map[cmapi.PrivateKeyAlgorithm]int{cmapi.RSAKeyAlgorithm: 2048, cmapi.ECDSAKeyAlgorithm: 256}[alg]
	}
	return alg, size
}

// privateKeyViolations is cert-manager's PrivateKeyMatchesSpec.
func privateKeyViolations(key crypto.Signer, spec *cmapi.CertificatePrivateKey) []string {
	alg, size := privateKeySpec(spec)
	var gotAlg cmapi.PrivateKeyAlgorithm
	gotSize := 0
	switch k := key.(type) {
	case *rsa.PrivateKey:
		gotAlg, gotSize = cmapi.RSAKeyAlgorithm, k.N.BitLen()
	case *ecdsa.PrivateKey:
		gotAlg, gotSize = cmapi.ECDSAKeyAlgorithm, k.Curve.Params().BitSize
	case ed25519.PrivateKey:
		gotAlg = cmapi.Ed25519KeyAlgorithm
	}
	if gotAlg != alg {
		return []string{"spec.privateKey.algorithm"}
	}
	if gotSize != size {
		return []string{"spec.privateKey.size"}
	}
	return nil
}

func decodePrivateKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("error decoding private key PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("unknown private key type: %s", block.Type)
	}
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("the private key is not a signer")
	}
	return signer, nil
}

func decodeCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("error decoding certificate PEM block")
	}
	return certs, nil
}

// decodeLeaf returns the first certificate of the Secret's tls.crt.
func decodeLeaf(secret *corev1.Secret) (*x509.Certificate, error) {
	if secret == nil {
		return nil, errors.New("no Secret")
	}
	certs, err := decodeCerts(secret.Data[corev1.TLSCertKey])
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

func encodeCerts(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

// joinCSV is cert-manager's JoinWithEscapeCSV.
func joinCSV(values []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(values)
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}
