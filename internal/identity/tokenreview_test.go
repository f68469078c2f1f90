package identity

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/identity/identitytest"
)

// saToken is a JWT-shaped token whose readable exp is what matters here
// (the stand-in does not check signatures; the API server does).
func saToken(t *testing.T, n int, exp time.Time) string {
	t.Helper()
	return identitytest.SignWith(t, identitytest.NewKey(t), "sa", map[string]any{"iss": "https://kubernetes.default.svc", "exp": exp.Unix(), "n": n})
}

var saUser = identitytest.ServiceAccountUser

func kubeSet(t *testing.T, f *identitytest.FakeReviews, c *clock, size int, ttl time.Duration) *Set {
	t.Helper()
	s, err := NewSet([]authconfig.Identity{{Name: "cluster", Kubernetes: &authconfig.KubernetesIssuer{Audiences: []string{"registry"}}}},
		Options{TokenReviews: f.Client(), Now: c.now, CacheSize: size, CacheTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKubernetesMapsAndRefuses(t *testing.T) {
	now := time.Now()
	c := &clock{t: now}
	good := saToken(t, 1, now.Add(time.Hour))
	person := saToken(t, 2, now.Add(time.Hour))
	noExp := identitytest.SignWith(t, identitytest.NewKey(t), "sa", map[string]any{"iss": "x"})
	expired := saToken(t, 3, now.Add(-time.Second))
	f := identitytest.NewFakeReviews("registry")
	f.Admit(good, saUser("team-a", "builder", "job-1"))
	f.Admit(person, authnv1.UserInfo{Username: "alice"})
	f.Admit(noExp, saUser("a", "b", ""))
	f.Admit(expired, saUser("a", "b", ""))
	s := kubeSet(t, f, c, 10, time.Minute)
	p, err := s.Validate(context.Background(), good)
	if err != nil {
		t.Fatal(err)
	}
	if p.Account != "cluster:team-a/builder" || p.Labels["namespace"][0] != "team-a" || p.Labels["serviceaccount"][0] != "builder" || p.Labels["pod"][0] != "job-1" {
		t.Fatalf("principal = %+v", p)
	}
	for name, tc := range map[string]struct{ token, want string }{
		"a person, not a ServiceAccount": {person, "not a ServiceAccount"},
		"legacy token without exp":       {noExp, "no exp"},
		"expired":                        {expired, "expired"},
		"unknown to the API server":      {saToken(t, 4, now.Add(time.Hour)), "invalid bearer token"},
	} {
		if _, err := s.Validate(context.Background(), tc.token); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	// A token for another audience (the API server's): the review says so.
	f.Bind(false, "https://kubernetes.default.svc")
	if _, err := kubeSet(t, f, c, 10, time.Minute).Validate(context.Background(), good); err == nil {
		t.Fatal("a token bound to another audience was admitted")
	}
	// And if the review admits it yet names other audiences, we refuse.
	f.Bind(true, "https://kubernetes.default.svc")
	if _, err := kubeSet(t, f, c, 10, time.Minute).Validate(context.Background(), good); err == nil || !strings.Contains(err.Error(), "not bound to our audience") {
		t.Fatalf("review with foreign audiences: %v", err)
	}
}

// TestReviewCacheBounds: hits skip the API server; an entry lives at most
// the TTL and never past the token's exp; the size bound evicts the least
// recently used; refusals are not cached.
func TestReviewCacheBounds(t *testing.T) {
	now := time.Now()
	c := &clock{t: now}
	f := identitytest.NewFakeReviews("registry")
	s := kubeSet(t, f, c, 3, time.Minute)
	ctx := context.Background()
	long := saToken(t, 1, now.Add(time.Hour))
	short := saToken(t, 2, now.Add(20*time.Second))
	f.Admit(long, saUser("a", "long", ""))
	f.Admit(short, saUser("a", "short", ""))
	review := func(tok string) {
		t.Helper()
		if _, err := s.Validate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	calls := func(want int64) {
		t.Helper()
		if got := f.Calls.Load(); got != want {
			t.Fatalf("TokenReviews = %d, want %d", got, want)
		}
	}
	review(long)
	review(long)
	review(short)
	review(short)
	calls(2)

	// The ServiceAccount is deleted: cached access lasts at most the TTL.
	f.Forget(long)
	c.add(59 * time.Second)
	review(long)
	calls(2)
	// short's token expired at 20s: its entry died with it.
	if _, err := s.Validate(ctx, short); err == nil {
		t.Fatal("expired token admitted from the cache")
	}
	c.add(2 * time.Second)
	if _, err := s.Validate(ctx, long); err == nil {
		t.Fatal("deleted ServiceAccount still admitted after the cache TTL")
	}
	calls(3)

	// Refusals are not cached: the user comes back, the next review admits.
	f.Admit(long, saUser("a", "long", ""))
	review(long)
	calls(4)

	// Size bound: 3 entries; the least recently used goes.
	var toks []string
	for i := range 4 {
		tok := saToken(t, 10+i, c.now().Add(time.Hour))
		f.Admit(tok, saUser("a", fmt.Sprint("sa", i), ""))
		toks = append(toks, tok)
		review(tok)
	}
	if n := s.kube.cache.len(); n != 3 {
		t.Fatalf("cache holds %d, want 3", n)
	}
	before := f.Calls.Load()
	review(toks[3])
	review(toks[2])
	review(toks[1])
	calls(before)
	review(toks[0]) // evicted: reviewed again
	calls(before + 1)
}
