package identity

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"time"
)

// MaxTokenBytes bounds what is parsed at all; real workload tokens are a
// few KiB.
const MaxTokenBytes = 16 << 10

// LooksLikeJWT says whether a password is shaped like a compact JWS (three
// base64url parts, a JSON header with "alg"), so the token server tries
// identities only for those and never sends a password to a TokenReview.
func LooksLikeJWT(s string) bool {
	if len(s) > MaxTokenBytes || strings.Count(s, ".") != 2 {
		return false
	}
	head, _, _ := strings.Cut(s, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	return json.Unmarshal(raw, &h) == nil && h.Alg != ""
}

// unverified are the claims read before any signature check: only to pick
// the identity (iss) and to bound a cache lifetime (exp). Nothing read here
// grants anything.
type unverified struct {
	Issuer string `json:"iss"`
	// A NumericDate may have a fraction (RFC 7519, section 2).
	Expiry *float64 `json:"exp"`
}

func peek(s string) (unverified, bool) {
	var u unverified
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return u, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return u, false
	}
	return u, json.Unmarshal(raw, &u) == nil
}

func (u unverified) expiry() (time.Time, bool) {
	if u.Expiry == nil {
		return time.Time{}, false
	}
	// Whole seconds, rounded down; beyond int64 seconds is "never" anyway.
	return time.Unix(int64(min(math.Floor(*u.Expiry), 1<<62)), 0), true
}

// UnverifiedExpiry reads a JWT's exp without checking anything: for
// bounding how long something derived from the token may be kept, never
// for deciding whether the token is good.
func UnverifiedExpiry(token string) (time.Time, bool) {
	u, ok := peek(token)
	if !ok {
		return time.Time{}, false
	}
	return u.expiry()
}
