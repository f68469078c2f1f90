// Package passwords turns the value of a user's password Secret into the
// bcrypt hash the auth config holds, keeping the hash already rendered while
// it still matches: bcrypt salts differ each time, so re-hashing on every
// reconcile would rewrite the config (and bump the Secret) forever.
//
// Whether the rendered hash still matches is answered by a fingerprint kept
// beside it (see fingerprint.go) rather than by bcrypt: an operator that
// restarts with 500 registries checks 1000 passwords in microseconds instead
// of a minute of CPU. The Hasher holds no state, so it is safe for
// concurrent reconciles and forgets nothing because it remembers nothing.
package passwords

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// ErrEmpty is returned for an empty password.
var ErrEmpty = errors.New("the password is empty")

// ErrCost is returned for a supplied bcrypt hash whose cost is not the
// Hasher's: the token server would refuse it (authconfig.BcryptCost).
var ErrCost = errors.New("the bcrypt hash has the wrong cost")

// ErrTooLong is returned for plaintext bcrypt cannot hash (over 72 bytes).
var ErrTooLong = errors.New("the password is longer than 72 bytes, which bcrypt cannot hash")

// Hasher resolves passwords.
type Hasher struct {
	// Cost for new hashes, and the one cost a supplied hash may have
	// (authconfig.BcryptCost when zero).
	Cost int
	// Key keys the fingerprints. Without one, none is made or trusted and
	// every check is a bcrypt comparison.
	Key []byte
}

// Rendered is a password as the auth config holds it: the bcrypt hash and,
// for a password given in plaintext, the fingerprint of the pair.
type Rendered struct {
	Hash        string
	Fingerprint string
}

// IsHash reports whether value is a bcrypt hash ($2a$, $2b$, $2y$).
func IsHash(value []byte) bool {
	_, err := bcrypt.Cost(value)
	return err == nil
}

// Resolve returns what to render for value. A value that is already a
// bcrypt hash is used as is. For plaintext, existing (what was rendered
// before, if anything) is kept when it matches; otherwise a new hash is made.
// One trailing newline is dropped: `echo pw > file` Secrets carry one, and
// no client can send it.
func (h *Hasher) Resolve(value []byte, existing Rendered) (Rendered, error) {
	value = trimNewline(value)
	if len(value) == 0 {
		return Rendered{}, ErrEmpty
	}
	if IsHash(value) {
		if c, _ := bcrypt.Cost(value); c != h.cost() {
			return Rendered{}, fmt.Errorf("%w: it has cost %d; hash it at cost %d (htpasswd -nbBC %d USER PASSWORD), or store the plaintext and let the operator hash it",
				ErrCost, c, h.cost(), h.cost())
		}
		return Rendered{Hash: string(value)}, nil
	}
	if len(value) > 72 {
		return Rendered{}, ErrTooLong
	}
	if existing.Hash != "" {
		switch h.check(existing, value) {
		case verdictMatch:
			return Rendered{Hash: existing.Hash, Fingerprint: h.fingerprint(existing.Hash, value)}, nil
		case verdictUnknown:
			if bcrypt.CompareHashAndPassword([]byte(existing.Hash), value) == nil {
				return Rendered{Hash: existing.Hash, Fingerprint: h.fingerprint(existing.Hash, value)}, nil
			}
		}
	}
	out, err := bcrypt.GenerateFromPassword(value, h.cost())
	if err != nil {
		return Rendered{}, err
	}
	return Rendered{Hash: string(out), Fingerprint: h.fingerprint(string(out), value)}, nil
}

func (h *Hasher) cost() int {
	if h.Cost == 0 {
		return authconfig.BcryptCost
	}
	return h.Cost
}

func trimNewline(v []byte) []byte {
	v = bytes.TrimSuffix(v, []byte("\n"))
	return bytes.TrimSuffix(v, []byte("\r"))
}
