package authserver

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
)

// keyID is the RFC 7638 JWK thumbprint (SHA-256) of pub, computed the way
// distribution v3 computes it: EC coordinates and the RSA modulus and
// exponent are encoded as unpadded big-endian integers. RFC 7518 pads EC
// coordinates to the field size, so a generic JOSE library disagrees whenever
// a coordinate starts with a zero byte (about 1 key in 128 on P-256), and the
// registry would not recognise the key by its kid.
func keyID(pub crypto.PublicKey) (string, error) {
	var doc string
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		point, err := k.Bytes() // 0x04 || X || Y, each padded to the field size
		if err != nil {
			return "", fmt.Errorf("EC key: %w", err)
		}
		n := (len(point) - 1) / 2
		x := bytes.TrimLeft(point[1:1+n], "\x00")
		y := bytes.TrimLeft(point[1+n:], "\x00")
		doc = fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, k.Curve.Params().Name, b64(x), b64(y))
	case *rsa.PublicKey:
		e := big.NewInt(int64(k.E)).Bytes()
		doc = fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, b64(e), b64(k.N.Bytes()))
	default:
		return "", fmt.Errorf("unsupported key type %T (want ECDSA or RSA)", pub)
	}
	sum := sha256.Sum256([]byte(doc))
	return b64(sum[:]), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
