package identity

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// Principal is a caller admitted by an identity.
type Principal struct {
	// Identity is the name of the identity that admitted the token.
	Identity string
	// Account is "<identity>:<mapped account>".
	Account string
	// Labels mapped from the claims, plus "identity": [Identity].
	Labels map[string][]string
	// Expiry of the token: nothing derived from it may outlive this.
	Expiry time.Time
}

// LabelIdentity is always set to the admitting identity's name, so a rule can
// match on where a caller's labels came from.
const LabelIdentity = "identity"

// maxClaimValues bounds how many values one label may take from an array
// claim (the ACL tries every combination of label values).
const maxClaimValues = 32

// mapping turns verified claims into a Principal.
type mapping struct {
	name    string
	account string            // template, ${claim:PATH}
	labels  map[string]string // label key -> claim path
}

func newMapping(id authconfig.Identity, defAccount string, defLabels map[string]string) mapping {
	m := mapping{name: id.Name, account: id.Account, labels: id.Labels}
	if m.account == "" {
		m.account = defAccount
	}
	if len(m.labels) == 0 {
		m.labels = defLabels
	}
	return m
}

var errEmptyAccount = errors.New("the account template maps to an empty name")

// apply maps claims; a claim the account template names must be present and
// a single scalar, so an account is never built from a guess.
func (m mapping) apply(claims map[string]any, exp time.Time) (*Principal, error) {
	var missing error
	acct := authconfig.ClaimPlaceholderRE.ReplaceAllStringFunc(m.account, func(ph string) string {
		path := ph[len("${claim:") : len(ph)-1]
		vals := claimValues(claims, path)
		if len(vals) != 1 {
			missing = fmt.Errorf("claim %q: want one value for the account, found %d", path, len(vals))
			return ""
		}
		return vals[0]
	})
	if missing != nil {
		return nil, missing
	}
	if acct == "" {
		return nil, errEmptyAccount
	}
	p := &Principal{Identity: m.name, Account: m.name + ":" + acct, Labels: map[string][]string{}, Expiry: exp}
	keys := make([]string, 0, len(m.labels))
	for k := range m.labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if vals := claimValues(claims, m.labels[k]); len(vals) > 0 {
			p.Labels[k] = vals
		}
	}
	p.Labels[LabelIdentity] = []string{m.name}
	return p, nil
}

// claimValues follows a "/"-separated path into nested objects and returns
// the scalar(s) found: a string, number or bool is one value, an array of
// scalars is several; objects and null give none.
func claimValues(claims map[string]any, path string) []string {
	var cur any = claims
	for part := range strings.SplitSeq(path, "/") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = obj[part]; !ok {
			return nil
		}
	}
	if arr, ok := cur.([]any); ok {
		var out []string
		for _, v := range arr {
			if s, ok := scalar(v); ok && len(out) < maxClaimValues {
				out = append(out, s)
			}
		}
		return out
	}
	if s, ok := scalar(cur); ok {
		return []string{s}
	}
	return nil
}

func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, x != ""
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		// JSON numbers arrive as float64: beyond 2^53, or with a fraction,
		// distinct numbers in the token can decode to one value, so two
		// callers would share an account. Such a number is no value.
		if x != math.Trunc(x) || math.Abs(x) >= 1<<53 {
			return "", false
		}
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}
