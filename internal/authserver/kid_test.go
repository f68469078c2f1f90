package authserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/distribution/distribution/v3/registry/auth/token"
	"github.com/go-jose/go-jose/v4"
)

// TestKeyIDMatchesDistribution compares keyID with distribution v3's own
// thumbprint over many keys, and shows that a generic JOSE thumbprint (which
// pads coordinates) would differ for some of them.
func TestKeyIDMatchesDistribution(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 500
	}
	differsFromJOSE := 0
	for i := range n {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		got, err := keyID(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		if want := token.GetJWKThumbprint(&k.PublicKey); got != want {
			t.Fatalf("key %d: keyID %s, distribution %s", i, got, want)
		}
		tp, err := (&jose.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if b64(tp) != got {
			differsFromJOSE++
		}
	}
	t.Logf("%d of %d P-256 keys have a padded-coordinate thumbprint that differs", differsFromJOSE, n)
	if !testing.Short() && differsFromJOSE == 0 {
		t.Errorf("expected some of %d keys (about 1 in 128) to differ from the padded thumbprint", n)
	}
	for _, curve := range []elliptic.Curve{elliptic.P384(), elliptic.P521()} {
		k, _ := ecdsa.GenerateKey(curve, rand.Reader)
		if got, _ := keyID(&k.PublicKey); got != token.GetJWKThumbprint(&k.PublicKey) {
			t.Errorf("%s: keyID differs from distribution", curve.Params().Name)
		}
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := keyID(&rk.PublicKey); got != token.GetJWKThumbprint(&rk.PublicKey) {
		t.Errorf("RSA: keyID %s differs from distribution %s", got, token.GetJWKThumbprint(&rk.PublicKey))
	}
	if _, err := keyID(struct{}{}); err == nil {
		t.Error("keyID accepted an unknown key type")
	}
}
