package passwords

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// A fingerprint is HMAC-SHA256 under the operator's key of a verified
// (bcrypt hash, password) pair, prefixed with the key's ID:
//
//	v1.<key id>.<mac>
//
// It proves, to the holder of the key only, that this hash was made from (or
// checked against) this password, so the check costs an HMAC instead of a
// bcrypt comparison. Without the key it says nothing about the password: the
// MAC is a pseudo-random function of the pair, and the pair's salt makes two
// equal passwords' fingerprints differ. docs/security.md says what it means
// for someone who holds the key.
const fingerprintVersion = "v1"

// fingerprintDomain separates these MACs from any other use of the key.
const fingerprintDomain = "registryauth.dev/password-fingerprint/v1\x00"

type verdict int

const (
	// verdictUnknown: no usable fingerprint (none stored, no key, another
	// key): only bcrypt can tell.
	verdictUnknown verdict = iota
	verdictMatch
	// verdictMismatch: a fingerprint made with this key for this hash does
	// not cover this password, so the password changed.
	verdictMismatch
)

func (h *Hasher) check(existing Rendered, password []byte) verdict {
	if len(h.Key) == 0 || existing.Fingerprint == "" {
		return verdictUnknown
	}
	prefix := fingerprintVersion + "." + h.keyID() + "."
	mac, ok := strings.CutPrefix(existing.Fingerprint, prefix)
	if !ok {
		return verdictUnknown
	}
	want := h.mac(existing.Hash, password)
	if hmac.Equal([]byte(mac), []byte(want)) {
		return verdictMatch
	}
	return verdictMismatch
}

// fingerprint of a verified pair; empty without a key.
func (h *Hasher) fingerprint(hash string, password []byte) string {
	if len(h.Key) == 0 {
		return ""
	}
	return fingerprintVersion + "." + h.keyID() + "." + h.mac(hash, password)
}

func (h *Hasher) mac(hash string, password []byte) string {
	m := hmac.New(sha256.New, h.Key)
	m.Write([]byte(fingerprintDomain))
	m.Write([]byte(hash))
	m.Write([]byte{0})
	m.Write(password)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// keyID names the key without revealing it, so a new key (the Secret was
// deleted) falls back to bcrypt instead of taking every fingerprint for a
// changed password.
func (h *Hasher) keyID() string {
	m := hmac.New(sha256.New, h.Key)
	m.Write([]byte("registryauth.dev/password-fingerprint/key-id"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:6])
}
