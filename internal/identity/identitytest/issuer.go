// Package identitytest runs a real OpenID Connect issuer for tests: a TLS
// server on loopback serving discovery and a JWKS, with keys that can be
// added and removed, signing tokens shaped as the test asks.
package identitytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
)

// Issuer is a live OIDC issuer on 127.0.0.1.
type Issuer struct {
	URL   string // the issuer identifier (https://127.0.0.1:PORT)
	CAPEM string // trust for its TLS certificate

	srv         *httptest.Server
	mu          sync.Mutex
	keys        map[string]*ecdsa.PrivateKey // published, by kid
	current     string
	next        int
	JWKSFetches atomic.Int64
	// Announce, when set before first use, is the issuer the discovery
	// document names (a misconfigured or impostor issuer).
	Announce string
}

// NewIssuer starts an issuer with one published key; it stops with the test.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	is := &Issuer{keys: map[string]*ecdsa.PrivateKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		is.mu.Lock()
		announced := is.Announce
		is.mu.Unlock()
		if announced == "" {
			announced = is.URL
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": announced, "jwks_uri": is.URL + "/keys", "id_token_signing_alg_values_supported": []string{"ES256"}})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, _ *http.Request) {
		is.JWKSFetches.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		var set jose.JSONWebKeySet
		for kid, k := range is.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
		}
		_ = json.NewEncoder(w).Encode(set)
	})
	// Its own CA, so two issuers never trust each other, and a certificate
	// for both loopback names (a test reaches it as "localhost" too).
	now := time.Now()
	ca, err := pki.NewCA(pki.Template{CommonName: "test issuer CA", Lifetime: time.Hour, Algorithm: pki.ECDSAP256}, now)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueServing(pki.Template{CommonName: "issuer", SANs: []string{"127.0.0.1", "localhost"}, Lifetime: time.Hour, Algorithm: pki.ECDSAP256}, now)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := leaf.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(leaf.CertPEM(), keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	is.srv = httptest.NewUnstartedServer(mux)
	is.srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	is.srv.StartTLS()
	t.Cleanup(is.srv.Close)
	is.URL = is.srv.URL
	is.CAPEM = string(ca.CertPEM())
	is.current = is.AddKey(t)
	return is
}

// NewKey makes a key that is not published (a stranger's key).
func NewKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// AddKey publishes a new key and returns its kid (not yet the signing key).
func (is *Issuer) AddKey(t testing.TB) string {
	k := NewKey(t)
	is.mu.Lock()
	defer is.mu.Unlock()
	is.next++
	kid := fmt.Sprintf("k%d", is.next)
	is.keys[kid] = k
	return kid
}

// Use makes kid the signing key.
func (is *Issuer) Use(kid string) { is.mu.Lock(); is.current = kid; is.mu.Unlock() }

// RemoveKey stops publishing kid (its key still signs, if asked to).
func (is *Issuer) RemoveKey(kid string) { is.mu.Lock(); delete(is.keys, kid); is.mu.Unlock() }

// Current is the kid of the signing key.
func (is *Issuer) Current() string { is.mu.Lock(); defer is.mu.Unlock(); return is.current }

// Key is a published (or removed but remembered by the caller) key.
func (is *Issuer) Key(kid string) *ecdsa.PrivateKey {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.keys[kid]
}

// Claims shaped like a GitHub Actions OIDC token for repo at ref, for aud,
// valid from now for ttl.
func (is *Issuer) Claims(aud, repo, ref string, now time.Time, ttl time.Duration) map[string]any {
	return map[string]any{
		"iss": is.URL, "aud": aud, "sub": "repo:" + repo + ":ref:" + ref,
		"repository": repo, "repository_owner": repo[:max(0, indexSlash(repo))], "ref": ref,
		"workflow": "ci", "event_name": "push",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
	}
}

func indexSlash(s string) int {
	for i := range s {
		if s[i] == '/' {
			return i
		}
	}
	return len(s)
}

// Sign signs claims with the current key.
func (is *Issuer) Sign(t testing.TB, claims map[string]any) string {
	kid := is.Current()
	return SignWith(t, is.Key(kid), kid, claims)
}

// SignWith signs claims with any ECDSA P-256 key under kid.
func SignWith(t testing.TB, k *ecdsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Unsigned is claims as an `alg: none` token.
func Unsigned(claims map[string]any) string {
	payload, _ := json.Marshal(claims)
	return b64(`{"alg":"none","typ":"JWT"}`) + "." + b64(string(payload)) + "."
}

// Close stops the issuer early (an outage).
func (is *Issuer) Close() { is.srv.Close() }
