package controllers

import (
	"crypto/rand"
	"encoding/base64"
)

// randomSecret is 32 random bytes, base64-encoded: the HTTP secret and the
// refresh-token key.
func randomSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics on failure)
	return []byte(base64.StdEncoding.EncodeToString(b))
}
