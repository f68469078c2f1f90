package render

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// AnnotationRestartHash on the pod template covers what a running container
// cannot reload (registry config, HTTP secret, token bundle; for docker_auth
// also its certificates). Changing it rolls the pods; nothing else in the
// inputs does (users, ACL and builtin certificates are reloaded live).
const AnnotationRestartHash = "registryauth.dev/restart-hash"

// AnnotationTokenBundle and AnnotationTokenSigner on the pod template name
// the token bundle and (docker_auth) signing certificate the pods were
// started with: a rotation step waits until the rollout that carries them
// has completed.
const (
	AnnotationTokenBundle = "registryauth.dev/token-bundle"
	AnnotationTokenSigner = "registryauth.dev/token-signer"
	// AnnotationServingCert (docker_auth) names the serving certificate the
	// registry container was started with.
	AnnotationServingCert = "registryauth.dev/serving-cert"
)

// ShortHash identifies content in an annotation.
func ShortHash(b []byte) string { return RestartHash(b) }

// RestartHash hashes the parts, length-prefixed so that boundaries count.
func RestartHash(parts ...[]byte) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
