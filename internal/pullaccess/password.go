package pullaccess

import (
	"crypto/rand"
	"encoding/base64"

	"golang.org/x/crypto/bcrypt"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// PasswordBytes of randomness per robot password (43 characters encoded,
// well under bcrypt's 72-byte limit).
const PasswordBytes = 32

// NewPassword returns a random password and its bcrypt hash at the one cost
// the auth server accepts. With 256 random bits the cost adds no strength;
// it is paid because the config format holds bcrypt hashes only, and paid
// once per credential: the hash is kept in State, never recomputed.
func NewPassword() (plain, hash string, err error) {
	b := make([]byte, PasswordBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	plain = base64.RawURLEncoding.EncodeToString(b)
	h, err := bcrypt.GenerateFromPassword([]byte(plain), authconfig.BcryptCost)
	if err != nil {
		return "", "", err
	}
	return plain, string(h), nil
}
