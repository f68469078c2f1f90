package controllers

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/passwords"
)

// KeyPasswordFingerprints is the key of the auth Secret that holds, per user
// given a plaintext password, the fingerprint of the verified (hash,
// password) pair: what lets a restarted operator skip bcrypt. It sits beside
// the hashes it vouches for, so both go and come back together.
const KeyPasswordFingerprints = "password-fingerprints.json"

// renderedPasswords reads the hashes and fingerprints the auth Secret holds.
func renderedPasswords(current *corev1.Secret) map[string]passwords.Rendered {
	out := map[string]passwords.Rendered{}
	cfg, _, err := authconfig.Parse(secretData(current, authconfig.ConfigFile))
	if err != nil {
		return out
	}
	var fps map[string]string
	_ = json.Unmarshal(secretData(current, KeyPasswordFingerprints), &fps) // unreadable: bcrypt decides
	for name, u := range cfg.Users {
		if u != nil {
			out[name] = passwords.Rendered{Hash: u.Password, Fingerprint: fps[name]}
		}
	}
	return out
}

// marshalFingerprints is the Secret value for rendered; nil when no password
// has a fingerprint (hashes given by the user, or no key).
func marshalFingerprints(rendered map[string]passwords.Rendered) []byte {
	fps := map[string]string{}
	for name, p := range rendered {
		if p.Fingerprint != "" {
			fps[name] = p.Fingerprint
		}
	}
	if len(fps) == 0 {
		return nil
	}
	b, _ := json.Marshal(fps) // sorted keys: stable bytes, no spurious apply
	return b
}
