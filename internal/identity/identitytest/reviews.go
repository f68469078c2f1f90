package identitytest

import (
	"sync"
	"sync/atomic"

	authnv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	authnclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	k8stesting "k8s.io/client-go/testing"
)

// FakeReviews is a STAND-IN for the API server's TokenReview (client-go's
// fake clientset with a reactor): it admits the tokens in Users, bound to
// the audiences in Auds, and checks no signature. The real API server is
// exercised by envtest.
type FakeReviews struct {
	mu    sync.Mutex
	users map[string]authnv1.UserInfo
	auds  []string
	// lax: admit listed tokens and report Auds as their audiences whatever
	// was asked (an authenticator that ignores audiences).
	lax   bool
	Calls atomic.Int64
}

// NewFakeReviews admits nothing yet; its tokens are bound to auds.
func NewFakeReviews(auds ...string) *FakeReviews {
	return &FakeReviews{users: map[string]authnv1.UserInfo{}, auds: auds}
}

// Admit makes token authenticate as u; Forget undoes it (a deleted
// ServiceAccount or Pod).
func (f *FakeReviews) Admit(token string, u authnv1.UserInfo) {
	f.mu.Lock()
	f.users[token] = u
	f.mu.Unlock()
}
func (f *FakeReviews) Forget(token string) { f.mu.Lock(); delete(f.users, token); f.mu.Unlock() }

// Bind changes the audiences tokens are bound to; lax as on the field.
func (f *FakeReviews) Bind(lax bool, auds ...string) {
	f.mu.Lock()
	f.lax, f.auds = lax, auds
	f.mu.Unlock()
}

// Client is a TokenReview client answered by f.
func (f *FakeReviews) Client() authnclient.TokenReviewInterface {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		f.Calls.Add(1)
		tr := a.(k8stesting.CreateAction).GetObject().(*authnv1.TokenReview).DeepCopy()
		f.mu.Lock()
		defer f.mu.Unlock()
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
	return cs.AuthenticationV1().TokenReviews()
}

// ServiceAccountUser is what the API server reports for a Pod's bound token.
func ServiceAccountUser(ns, name, pod string) authnv1.UserInfo {
	return authnv1.UserInfo{
		Username: "system:serviceaccount:" + ns + ":" + name, UID: "uid-" + name,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns},
		Extra: map[string]authnv1.ExtraValue{
			"authentication.kubernetes.io/pod-name": {pod}, "authentication.kubernetes.io/pod-uid": {"uid-" + pod},
		},
	}
}
