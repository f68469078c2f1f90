package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/identity/identitytest"
)

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// hs256 signs claims with HMAC-SHA256 under secret, with any header fields.
func hs256(t *testing.T, header map[string]any, claims map[string]any, secret []byte) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := b64url(h) + "." + b64url(c)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(in))
	return in + "." + b64url(m.Sum(nil))
}

// TestAttackForgedTokens: tokens an attacker can make without the issuer's
// private key. Each must be refused; what they try is in the name.
func TestAttackForgedTokens(t *testing.T) {
	is := identitytest.NewIssuer(t)
	now := time.Now()
	s := newTestSet(t, &clock{t: now}, githubIdentity(is))
	claims := is.Claims(testAud, "org/app", "refs/heads/main", now, 5*time.Minute)
	kid := is.Current()
	// The issuer's public key as the JWKS publishes it: what an HMAC
	// confusion attack would use as the shared secret.
	pub := jose.JSONWebKey{Key: is.Key(kid).Public(), KeyID: kid}
	pubJSON, _ := pub.MarshalJSON()
	attacker := identitytest.NewKey(t)
	attackerJWK, _ := jose.JSONWebKey{Key: attacker.Public(), KeyID: kid}.MarshalJSON()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: rsaKey}, (&jose.SignerOptions{}).WithHeader("kid", kid))
	payload, _ := json.Marshal(claims)
	rsaJWS, _ := rsaSigner.Sign(payload)
	rsaTok, _ := rsaJWS.CompactSerialize()
	embedded, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: attacker}, (&jose.SignerOptions{EmbedJWK: true}).WithHeader("kid", kid))
	embJWS, _ := embedded.Sign(payload)
	embTok, _ := embJWS.CompactSerialize()
	good := is.Sign(t, claims)
	parts := strings.Split(good, ".")
	var mixed map[string]any
	_ = json.Unmarshal(payload, &mixed)
	mixed["repository"] = "org/admin"
	mixedPayload, _ := json.Marshal(mixed)

	for name, tok := range map[string]string{
		"HS256 keyed with the public JWK":          hs256(t, map[string]any{"alg": "HS256", "kid": kid}, claims, pubJSON),
		"HS256 keyed with the public X coordinate": hs256(t, map[string]any{"alg": "HS256", "kid": kid}, claims, is.Key(kid).X.Bytes()),
		"alg NONE (case)":                          b64url([]byte(`{"alg":"NONE"}`)) + "." + parts[1] + ".",
		"RS256 by an RSA key under the EC kid":     rsaTok,
		"own key embedded in the header (jwk)":     embTok,
		"claims swapped under a good signature":    parts[0] + "." + b64url(mixedPayload) + "." + parts[2],
		"good signature, empty payload":            parts[0] + ".." + parts[2],
		"JWS JSON serialization":                   `{"payload":"` + parts[1] + `","signatures":[]}`,
		"header with attacker JWK as jwk field":    hs256(t, map[string]any{"alg": "ES256", "kid": kid, "jwk": json.RawMessage(attackerJWK)}, claims, nil),
	} {
		t.Run(name, func(t *testing.T) {
			if p, err := s.Validate(context.Background(), tok); err == nil {
				t.Fatalf("admitted as %+v", p)
			}
		})
	}
	if _, err := s.Validate(context.Background(), good); err != nil {
		t.Fatalf("the genuine token: %v", err)
	}
}

// TestFractionalExpIsAccepted: a NumericDate may carry a fraction (RFC
// 7519); the unverified read that picks the identity refused such a token
// as "unreadable claims" before its signature was even checked.
func TestFractionalExpIsAccepted(t *testing.T) {
	is := identitytest.NewIssuer(t)
	now := time.Now()
	s := newTestSet(t, &clock{t: now}, githubIdentity(is))
	c := is.Claims(testAud, "org/app", "refs/heads/main", now, 5*time.Minute)
	c["exp"] = float64(now.Add(5*time.Minute).Unix()) + 0.5
	if _, err := s.Validate(context.Background(), is.Sign(t, c)); err != nil {
		t.Fatalf("exp with a fraction: %v", err)
	}
	if exp, ok := UnverifiedExpiry(is.Sign(t, c)); !ok || exp.Unix() != now.Add(5*time.Minute).Unix() {
		t.Fatalf("unverified exp %v %v", exp, ok)
	}
}

// TestAttackIdentityLabelNotFromClaims: a mapping (or a claim) naming the
// label "identity" cannot set it: it always names the admitting identity.
func TestAttackIdentityLabelNotFromClaims(t *testing.T) {
	m := newMapping(authconfig.Identity{Name: "ci", Labels: map[string]string{LabelIdentity: "sub", "who": "identity"}}, "${claim:sub}", nil)
	p, err := m.apply(map[string]any{"sub": "admin", "identity": "cluster"}, time.Unix(1e9, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Labels[LabelIdentity]; len(got) != 1 || got[0] != "ci" {
		t.Fatalf("identity label %v, want [ci]", got)
	}
}
