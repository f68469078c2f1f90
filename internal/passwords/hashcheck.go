package passwords

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
)

// The bcrypt costs a stored hash may have. Below MinHashCost bcrypt itself
// refuses; above MaxHashCost one login costs seconds of the auth server's
// CPU (cost 10 is about 60 ms here and each step doubles it), so a single
// user's hash could be used to exhaust it.
const (
	MinHashCost = 4
	MaxHashCost = 14
)

// bcryptB64 is bcrypt's own base64 alphabet, without padding. Strict decoding
// also refuses a last character with bits set that the format leaves zero.
var bcryptB64 = base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").
	WithPadding(base64.NoPadding).Strict()

// LooksLikeHash reports whether value claims to be a bcrypt hash (it starts
// with $2a$, $2b$ or $2y$): such a value is never taken as a plaintext
// password, so it must pass CheckHash.
func LooksLikeHash(value []byte) bool {
	value = trimNewline(value)
	for _, p := range []string{"$2a$", "$2b$", "$2y$"} {
		if bytes.HasPrefix(value, []byte(p)) {
			return true
		}
	}
	return false
}

// CheckHash validates a bcrypt hash completely: $2x$NN$ followed by a 22
// character salt and a 31 character digest in bcrypt's alphabet (60 bytes in
// all), with a cost between MinHashCost and MaxHashCost. golang.org/x/crypto
// checks only the prefix and the cost, so a truncated or garbled hash would
// otherwise be rendered and no password could ever match it.
func CheckHash(value []byte) error {
	h := trimNewline(value)
	if !LooksLikeHash(h) {
		return fmt.Errorf("not a bcrypt hash: it must start with $2a$, $2b$ or $2y$")
	}
	if len(h) != 60 {
		return fmt.Errorf("malformed bcrypt hash: %d bytes, a bcrypt hash has 60", len(h))
	}
	if h[6] != '$' {
		return fmt.Errorf("malformed bcrypt hash: the cost must be two digits followed by $")
	}
	cost, err := strconv.Atoi(string(h[4:6]))
	if err != nil {
		return fmt.Errorf("malformed bcrypt hash: the cost %q is not a number", h[4:6])
	}
	if cost < MinHashCost || cost > MaxHashCost {
		return fmt.Errorf("bcrypt cost %d is outside the accepted range %d..%d", cost, MinHashCost, MaxHashCost)
	}
	if _, err := bcryptB64.DecodeString(string(h[7:29])); err != nil {
		return fmt.Errorf("malformed bcrypt hash: the salt is not in bcrypt's base64 alphabet")
	}
	if _, err := bcryptB64.DecodeString(string(h[29:])); err != nil {
		return fmt.Errorf("malformed bcrypt hash: the digest is not in bcrypt's base64 alphabet")
	}
	return nil
}
