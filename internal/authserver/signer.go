package authserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenSigner signs access tokens with the token key. Each token carries the
// certificate chain as x5c (the registry verifies it up to the token CA in its
// rootcertbundle, so a new leaf needs no registry change) and the key's
// thumbprint as kid.
type tokenSigner struct {
	method   jwt.SigningMethod
	key      crypto.PrivateKey
	header   string // the encoded JOSE header: the same for every token of this key
	kid      string
	leaf     *x509.Certificate
	chainLen int
}

// newTokenSigner takes the PEM certificate file (leaf first, then the chain up
// to and including the token CA) and the PEM private key of the leaf.
func newTokenSigner(certPEM, keyPEM []byte) (*tokenSigner, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("token certificate and key: %w", err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("token certificate: %w", err)
		}
	}
	method, err := methodFor(pair.PrivateKey)
	if err != nil {
		return nil, err
	}
	kid, err := keyID(leaf.PublicKey)
	if err != nil {
		return nil, err
	}
	x5c := make([]string, len(pair.Certificate))
	for i, der := range pair.Certificate {
		x5c[i] = base64.StdEncoding.EncodeToString(der) // x5c is standard base64, not URL
	}
	// The header is encoded once per key, by the library, and reused.
	t := jwt.New(method)
	t.Header["kid"] = kid
	t.Header["x5c"] = x5c
	signing, err := t.SigningString()
	if err != nil {
		return nil, fmt.Errorf("token header: %w", err)
	}
	header, _, _ := strings.Cut(signing, ".")
	return &tokenSigner{method: method, key: pair.PrivateKey, header: header, kid: kid, leaf: leaf, chainLen: len(x5c)}, nil
}

func methodFor(key crypto.PrivateKey) (jwt.SigningMethod, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return jwt.SigningMethodES256, nil
		case elliptic.P384():
			return jwt.SigningMethodES384, nil
		case elliptic.P521():
			return jwt.SigningMethodES512, nil
		}
		return nil, fmt.Errorf("unsupported EC curve %s", k.Curve.Params().Name)
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, errors.New("RSA token key must have at least 2048 bits")
		}
		return jwt.SigningMethodRS256, nil
	}
	return nil, fmt.Errorf("unsupported token key type %T (want ECDSA or RSA)", key)
}

// ResourceActions is one entry of the "access" claim.
type ResourceActions struct {
	Type    string   `json:"type"`
	Class   string   `json:"class,omitempty"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// accessClaims are the claims of an access token. Audience is one string:
// registry 2.8 declares "aud" a string and rejects an array.
type accessClaims struct {
	Issuer     string            `json:"iss"`
	Subject    string            `json:"sub"`
	Audience   string            `json:"aud"`
	Expiration int64             `json:"exp"`
	NotBefore  int64             `json:"nbf"`
	IssuedAt   int64             `json:"iat"`
	JWTID      string            `json:"jti"`
	Access     []ResourceActions `json:"access"`
}

// clockSkew backdates nbf a little, for verifiers whose clock runs behind.
const clockSkew = 5 * time.Second

func (s *tokenSigner) sign(issuer, subject, audience string, ttl time.Duration, now time.Time, access []ResourceActions) (string, error) {
	if access == nil {
		access = []ResourceActions{}
	}
	payload, err := json.Marshal(accessClaims{
		Issuer:     issuer,
		Subject:    subject,
		Audience:   audience,
		IssuedAt:   now.Unix(),
		NotBefore:  now.Add(-clockSkew).Unix(),
		Expiration: now.Add(ttl).Unix(),
		JWTID:      randomID(),
		Access:     access,
	})
	if err != nil {
		return "", err
	}
	signing := s.header + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := s.method.Sign(signing, s.key)
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
