package identity

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

func claimsOf(t *testing.T, js string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMapping(t *testing.T) {
	// A Kubernetes OIDC token's nested claims, as another cluster's issuer sends them.
	kube := `{"sub":"system:serviceaccount:team-a:builder","kubernetes.io":{"namespace":"team-a","serviceaccount":{"name":"builder"},"pod":{"name":"job-1"}},"groups":["a","b",3,true,null,{"x":1}],"run":42,"empty":""}`
	exp := time.Unix(1e9, 0)
	for _, tc := range []struct {
		name       string
		id         authconfig.Identity
		claims     string
		wantAcct   string
		wantLabels map[string][]string
		wantErr    string
	}{{
		name:     "nested paths and arrays",
		id:       authconfig.Identity{Name: "east", Account: "${claim:kubernetes.io/namespace}/${claim:kubernetes.io/serviceaccount/name}", Labels: map[string]string{"namespace": "kubernetes.io/namespace", "pod": "kubernetes.io/pod/name", "groups": "groups", "run": "run", "gone": "nope/x", "obj": "kubernetes.io", "empty": "empty"}},
		claims:   kube,
		wantAcct: "east:team-a/builder",
		wantLabels: map[string][]string{"namespace": {"team-a"}, "pod": {"job-1"}, "groups": {"a", "b", "3", "true"}, "run": {"42"},
			LabelIdentity: {"east"}},
	}, {
		name:       "default account is sub",
		id:         authconfig.Identity{Name: "gh"},
		claims:     kube,
		wantAcct:   "gh:system:serviceaccount:team-a:builder",
		wantLabels: map[string][]string{LabelIdentity: {"gh"}},
	}, {
		name:    "account claim missing",
		id:      authconfig.Identity{Name: "gh", Account: "${claim:repository}"},
		claims:  kube,
		wantErr: `claim "repository"`,
	}, {
		name:    "account claim is an object",
		id:      authconfig.Identity{Name: "gh", Account: "${claim:kubernetes.io}"},
		claims:  kube,
		wantErr: "want one value",
	}, {
		name:    "account claim is empty",
		id:      authconfig.Identity{Name: "gh", Account: "${claim:empty}"},
		claims:  kube,
		wantErr: "want one value",
	}, {
		name:       "a mapped label cannot forge the identity label",
		id:         authconfig.Identity{Name: "gh", Account: "fixed", Labels: map[string]string{LabelIdentity: "sub"}},
		claims:     kube,
		wantAcct:   "gh:fixed",
		wantLabels: map[string][]string{LabelIdentity: {"gh"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := newMapping(tc.id, "${claim:sub}", nil).apply(claimsOf(t, tc.claims), exp)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Account != tc.wantAcct || !reflect.DeepEqual(p.Labels, tc.wantLabels) || !p.Expiry.Equal(exp) {
				t.Fatalf("got %q %v %v\nwant %q %v", p.Account, p.Labels, p.Expiry, tc.wantAcct, tc.wantLabels)
			}
		})
	}
}

func TestClaimValuesBoundsArrays(t *testing.T) {
	arr := make([]any, 100)
	for i := range arr {
		arr[i] = "v"
	}
	if n := len(claimValues(map[string]any{"a": arr}, "a")); n != maxClaimValues {
		t.Fatalf("values = %d, want %d", n, maxClaimValues)
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for s, want := range map[string]bool{
		"eyJhbGciOiJFUzI1NiJ9.e30.sig":       true,
		"eyJhbGciOiJub25lIn0.e30.":           true, // shaped like one; the validator refuses it
		"badmin":                             false,
		"a.b.c":                              false,
		"eyJ0eXAiOiJKV1QifQ.e30.sig":         false, // no alg
		"eyJhbGciOiJFUzI1NiJ9.e30.s.x":       false,
		strings.Repeat("a", MaxTokenBytes+1): false,
	} {
		if got := LooksLikeJWT(s); got != want {
			t.Errorf("LooksLikeJWT(%.30q) = %v, want %v", s, got, want)
		}
	}
}

// TestAttackNumericClaimsStayDistinct: claims are decoded as float64, which
// holds integers exactly only up to 2^53. Two different large numeric ids
// (9007199254740993 and 9007199254740992) became the same account, so one
// caller was granted the other's rights. A number that cannot be told apart
// from its neighbours is no value: an account using it is refused.
func TestAttackNumericClaimsStayDistinct(t *testing.T) {
	m := newMapping(authconfig.Identity{Name: "ci", Account: "${claim:uid}"}, "", nil)
	a, errA := m.apply(claimsOf(t, `{"uid":9007199254740993}`), time.Unix(1e9, 0))
	b, errB := m.apply(claimsOf(t, `{"uid":9007199254740992}`), time.Unix(1e9, 0))
	if errA == nil && errB == nil && a.Account == b.Account {
		t.Fatalf("two numeric ids map to one account %q", a.Account)
	}
	// Small integers (GitLab's project_id-like values) still map.
	if p, err := m.apply(claimsOf(t, `{"uid":4242}`), time.Unix(1e9, 0)); err != nil || p.Account != "ci:4242" {
		t.Fatalf("small integer: %+v %v", p, err)
	}
}
