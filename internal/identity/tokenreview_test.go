package identity

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/identity/identitytest"
)

// fakeReviews is a stand-in for the API server's TokenReview (client-go's
// fake clientset with a reactor): it admits tokens listed in users, bound to
// the audiences listed in auds. The real API server is exercised by the
// envtest in controllers (TestIdentityTokenReview).
type fakeReviews struct {
	users map[string]authnv1.UserInfo // token -> user
	auds  []string
	calls atomic.Int64
	// lax: admit listed tokens and report auds as their audiences whatever
	// was asked (an authenticator that ignores audiences).
	lax bool
}

func (f *fakeReviews) client() *fake.Clientset {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		f.calls.Add(1)
		tr := a.(k8stesting.CreateAction).GetObject().(*authnv1.TokenReview).DeepCopy()
		u, ok := f.users[tr.Spec.Token]
		var got []string
		for _, want := range tr.Spec.Audiences {
			for _, have := range f.auds {
				if want == have {
					got = append(got, want)
				}
			}
		}
		if f.lax {
			got = f.auds
		}
		if !ok || len(got) == 0 {
			tr.Status = authnv1.TokenReviewStatus{Error: "invalid bearer token"}
		} else {
			tr.Status = authnv1.TokenReviewStatus{Authenticated: true, User: u, Audiences: got}
		}
		return true, tr, nil
	})
	return cs
}

// saToken is a JWT-shaped token whose only readable part that matters is
// exp (the stand-in does not check signatures; the API server does).
func saToken(t *testing.T, n int, exp time.Time) string {
	t.Helper()
	return identitytest.SignWith(t, identitytest.NewKey(t), "sa", map[string]any{"iss": "https://kubernetes.default.svc", "exp": exp.Unix(), "n": n})
}

func saUser(ns, name, pod string) authnv1.UserInfo {
	return authnv1.UserInfo{
		Username: "system:serviceaccount:" + ns + ":" + name, UID: "uid-" + name,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns},
		Extra:  map[string]authnv1.ExtraValue{extraPodName: {pod}, extraPodUID: {"pod-uid"}},
	}
}

func kubeSet(t *testing.T, f *fakeReviews, c *clock, size int, ttl time.Duration) *Set {
	t.Helper()
	s, err := NewSet([]authconfig.Identity{{Name: "cluster", Kubernetes: &authconfig.KubernetesIssuer{Audiences: []string{"registry"}}}},
		Options{TokenReviews: f.client().AuthenticationV1().TokenReviews(), Now: c.now, CacheSize: size, CacheTTL: ttl})
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
	f := &fakeReviews{auds: []string{"registry"}, users: map[string]authnv1.UserInfo{
		good: saUser("team-a", "builder", "job-1"), person: {Username: "alice"}, noExp: saUser("a", "b", ""), expired: saUser("a", "b", ""),
	}}
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
	f.auds = []string{"https://kubernetes.default.svc"}
	s2 := kubeSet(t, f, c, 10, time.Minute)
	if _, err := s2.Validate(context.Background(), good); err == nil {
		t.Fatal("a token bound to another audience was admitted")
	}
	// And if the review admits it yet names other audiences, we refuse.
	f.lax = true
	s3 := kubeSet(t, f, c, 10, time.Minute)
	if _, err := s3.Validate(context.Background(), good); err == nil || !strings.Contains(err.Error(), "not bound to our audience") {
		t.Fatalf("review with foreign audiences: %v", err)
	}
}

// TestReviewCacheBounds: hits skip the API server; an entry lives at most
// the TTL and never past the token's exp; the size bound evicts the least
// recently used; refusals are not cached.
func TestReviewCacheBounds(t *testing.T) {
	now := time.Now()
	c := &clock{t: now}
	f := &fakeReviews{auds: []string{"registry"}, users: map[string]authnv1.UserInfo{}}
	s := kubeSet(t, f, c, 3, time.Minute)
	ctx := context.Background()
	long := saToken(t, 1, now.Add(time.Hour))
	short := saToken(t, 2, now.Add(20*time.Second))
	f.users[long], f.users[short] = saUser("a", "long", ""), saUser("a", "short", "")
	review := func(tok string) {
		t.Helper()
		if _, err := s.Validate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	calls := func(want int64) {
		t.Helper()
		if got := f.calls.Load(); got != want {
			t.Fatalf("TokenReviews = %d, want %d", got, want)
		}
	}
	review(long)
	review(long)
	review(short)
	review(short)
	calls(2)

	// The ServiceAccount is deleted: cached access lasts at most the TTL.
	delete(f.users, long)
	c.add(59 * time.Second)
	review(long)
	calls(2)
	// short's token expired at 20s: its entry died with it (and so does the token).
	if _, err := s.Validate(ctx, short); err == nil {
		t.Fatal("expired token admitted from the cache")
	}
	c.add(2 * time.Second)
	if _, err := s.Validate(ctx, long); err == nil {
		t.Fatal("deleted ServiceAccount still admitted after the cache TTL")
	}
	calls(3)

	// Refusals are not cached: the user comes back, the next review admits.
	f.users[long] = saUser("a", "long", "")
	review(long)
	calls(4)

	// Size bound: 3 entries; the least recently used goes.
	var toks []string
	for i := range 4 {
		tok := saToken(t, 10+i, c.now().Add(time.Hour))
		f.users[tok] = saUser("a", fmt.Sprint("sa", i), "")
		toks = append(toks, tok)
		review(tok)
	}
	if n := s.kube.cache.len(); n != 3 {
		t.Fatalf("cache holds %d, want 3", n)
	}
	before := f.calls.Load()
	review(toks[3])
	review(toks[2])
	review(toks[1])
	calls(before)
	review(toks[0]) // evicted: reviewed again
	calls(before + 1)
}
