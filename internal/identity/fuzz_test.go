package identity

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/identity/identitytest"
)

// FuzzValidate: whatever arrives as a password, Validate never panics and
// never admits anything that the issuer did not sign. Seeds are real tokens
// and their mutations (header and payload swapped, alg changed).
func FuzzValidate(f *testing.F) {
	is := identitytest.NewIssuer(f)
	now := time.Now()
	good := is.Sign(f, is.Claims(testAud, "org/app", "main", now, time.Hour))
	f.Add(good)
	f.Add(identitytest.Unsigned(is.Claims(testAud, "org/app", "main", now, time.Hour)))
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.c2ln")
	f.Add("hunter2")
	s, err := NewSet([]authconfig.Identity{githubIdentity(is)}, Options{Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := s.Validate(context.Background(), tok)
		if err == nil && !sameSegments(tok, good) {
			// Only re-encodings of the one signed token could pass.
			t.Fatalf("admitted an unsigned variant: %q -> %+v", tok, p)
		}
	})
}

// sameSegments says whether two compact tokens decode to the same bytes
// (base64url may encode the same bytes with different trailing bits).
func sameSegments(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	if len(pa) != 3 || len(pb) != 3 {
		return false
	}
	for i := range pa {
		da, err1 := base64.RawURLEncoding.DecodeString(pa[i])
		db, err2 := base64.RawURLEncoding.DecodeString(pb[i])
		if err1 != nil || err2 != nil || !bytes.Equal(da, db) {
			return false
		}
	}
	return true
}

// FuzzMapping: arbitrary claims never panic the mapping, the account always
// carries the identity prefix, and the identity label is never forged.
func FuzzMapping(f *testing.F) {
	f.Add(`{"sub":"x","a":{"b":["c",1,true]}}`, "${claim:a/b}", "a/b")
	f.Add(`{"sub":""}`, "${claim:sub}", "sub")
	f.Fuzz(func(t *testing.T, claimsJSON, account, labelPath string) {
		var claims map[string]any
		if json.Unmarshal([]byte(claimsJSON), &claims) != nil {
			return
		}
		m := newMapping(authconfig.Identity{Name: "id", Account: account, Labels: map[string]string{"l": labelPath, LabelIdentity: labelPath}}, "${claim:sub}", nil)
		p, err := m.apply(claims, time.Unix(0, 0))
		if err != nil {
			return
		}
		if len(p.Account) <= len("id:") || p.Account[:3] != "id:" {
			t.Fatalf("account %q lacks the identity prefix", p.Account)
		}
		if v := p.Labels[LabelIdentity]; len(v) != 1 || v[0] != "id" {
			t.Fatalf("identity label = %v", v)
		}
		if len(p.Labels["l"]) > maxClaimValues {
			t.Fatalf("label took %d values", len(p.Labels["l"]))
		}
	})
}
