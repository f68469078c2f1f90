// Package passwords turns the value of a user's password Secret into the
// bcrypt hash the auth config holds, keeping the hash already rendered while
// it still matches: bcrypt salts differ each time, so re-hashing on every
// reconcile would rewrite the config (and bump the Secret) forever.
package passwords

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

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

// Source identifies where a password value came from without holding it: the
// Secret's UID and resourceVersion change whenever the value may have changed.
type Source struct {
	SecretUID       string
	ResourceVersion string
	Key             string
}

// Hasher resolves passwords. It remembers which (source, rendered hash) pairs
// it has already verified, so a steady-state reconcile costs no bcrypt work.
// It stores no password material.
type Hasher struct {
	// Cost for new hashes, and the one cost a supplied hash may have
	// (authconfig.BcryptCost when zero).
	Cost int

	mu       sync.Mutex
	verified map[verifiedKey]struct{}
}

type verifiedKey struct {
	src  Source
	hash string
}

// IsHash reports whether value is a bcrypt hash ($2a$, $2b$, $2y$).
func IsHash(value []byte) bool {
	_, err := bcrypt.Cost(value)
	return err == nil
}

// Resolve returns the hash to render for value, read from src. A value that
// is already a bcrypt hash is used as is. For plaintext, existing (the hash
// rendered before, if any) is kept when it matches; otherwise a new hash is made.
// One trailing newline is dropped: `echo pw > file` Secrets carry one, and
// no client can send it.
func (h *Hasher) Resolve(src Source, value []byte, existing string) (string, error) {
	value = trimNewline(value)
	if len(value) == 0 {
		return "", ErrEmpty
	}
	if IsHash(value) {
		if c, _ := bcrypt.Cost(value); c != h.cost() {
			return "", fmt.Errorf("%w: it has cost %d; hash it at cost %d (htpasswd -nbBC %d USER PASSWORD), or store the plaintext and let the operator hash it",
				ErrCost, c, h.cost(), h.cost())
		}
		return string(value), nil
	}
	if len(value) > 72 {
		return "", ErrTooLong
	}
	if existing != "" && h.matches(src, value, existing) {
		return existing, nil
	}
	out, err := bcrypt.GenerateFromPassword(value, h.cost())
	if err != nil {
		return "", err
	}
	h.remember(src, string(out))
	return string(out), nil
}

func (h *Hasher) cost() int {
	if h.Cost == 0 {
		return authconfig.BcryptCost
	}
	return h.Cost
}

func (h *Hasher) matches(src Source, value []byte, existing string) bool {
	k := verifiedKey{src, existing}
	h.mu.Lock()
	_, ok := h.verified[k]
	h.mu.Unlock()
	if ok {
		return true
	}
	if bcrypt.CompareHashAndPassword([]byte(existing), value) != nil {
		return false
	}
	h.remember(src, existing)
	return true
}

func (h *Hasher) remember(src Source, hash string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.verified == nil {
		h.verified = map[verifiedKey]struct{}{}
	}
	// One entry per source: older resourceVersions of the same Secret key
	// are dropped with it, so the map stays as large as the set of users.
	for k := range h.verified {
		if k.src.SecretUID == src.SecretUID && k.src.Key == src.Key {
			delete(h.verified, k)
		}
	}
	h.verified[verifiedKey{src, hash}] = struct{}{}
}

func trimNewline(v []byte) []byte {
	v = bytes.TrimSuffix(v, []byte("\n"))
	return bytes.TrimSuffix(v, []byte("\r"))
}
