package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authnclient "k8s.io/client-go/kubernetes/typed/authentication/v1"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

const saPrefix = "system:serviceaccount:"

// Keys the API server puts in a bound token's user.extra.
const (
	extraPodName  = "authentication.kubernetes.io/pod-name"
	extraPodUID   = "authentication.kubernetes.io/pod-uid"
	extraNodeName = "authentication.kubernetes.io/node-name"
)

// kubeValidator asks the API server (TokenReview) about ServiceAccount
// tokens of the cluster the token server runs in. The API server checks the
// signature, expiry, audience, and that the ServiceAccount (and the Pod or
// Secret it is bound to) still exists: a deleted ServiceAccount or Pod ends
// access at the next review, at most the cache TTL later.
type kubeValidator struct {
	mapping
	audiences []string
	reviews   authnclient.TokenReviewInterface
	cache     *reviewCache
	now       func() time.Time
}

// The claims a review yields, for the mapping: namespace, serviceaccount,
// pod, pod_uid, node, uid, sub (the full user name), groups.
var kubeDefaultLabels = map[string]string{"namespace": "namespace", "serviceaccount": "serviceaccount", "pod": "pod"}

const kubeDefaultAccount = "${claim:namespace}/${claim:serviceaccount}"

func newKube(id authconfig.Identity, o Options) (*kubeValidator, error) {
	if o.TokenReviews == nil {
		return nil, errors.New("a kubernetes identity needs a TokenReview client (in-cluster credentials)")
	}
	return &kubeValidator{
		mapping:   newMapping(id, kubeDefaultAccount, kubeDefaultLabels),
		audiences: id.Kubernetes.Audiences,
		reviews:   o.TokenReviews,
		cache:     newReviewCache(o.CacheSize, o.CacheTTL),
		now:       o.Now,
	}, nil
}

func (v *kubeValidator) validate(ctx context.Context, raw string, u unverified) (*Principal, error) {
	now := v.now()
	if p := v.cache.get(raw, now); p != nil {
		return p, nil
	}
	// Bound tokens always carry exp; one without (a legacy Secret token)
	// could not bound the cache and is refused before asking.
	exp, ok := u.expiry()
	if !ok {
		return nil, errors.New("token: no exp claim (only bound ServiceAccount tokens are accepted)")
	}
	if !now.Before(exp) {
		return nil, errors.New("token: expired")
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	tr, err := v.reviews.Create(ctx, &authnv1.TokenReview{
		Spec: authnv1.TokenReviewSpec{Token: raw, Audiences: v.audiences},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("TokenReview: %w", err)
	}
	st := tr.Status
	if !st.Authenticated {
		msg := st.Error
		if msg == "" {
			msg = "not authenticated"
		}
		return nil, fmt.Errorf("TokenReview: %s", msg)
	}
	if !intersects(st.Audiences, v.audiences) {
		return nil, errors.New("TokenReview: the token is not bound to our audience")
	}
	claims, err := kubeClaims(st.User)
	if err != nil {
		return nil, err
	}
	p, err := v.apply(claims, exp)
	if err != nil {
		return nil, err
	}
	v.cache.add(raw, p, now)
	return p, nil
}

// kubeClaims turns a reviewed user into claims. Only ServiceAccounts: a
// person's token (OIDC login, client certificate proxy) is not a workload.
func kubeClaims(u authnv1.UserInfo) (map[string]any, error) {
	rest, ok := strings.CutPrefix(u.Username, saPrefix)
	ns, sa, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || ns == "" || sa == "" {
		return nil, fmt.Errorf("TokenReview: %q is not a ServiceAccount", u.Username)
	}
	c := map[string]any{"sub": u.Username, "namespace": ns, "serviceaccount": sa, "uid": u.UID}
	for key, claim := range map[string]string{extraPodName: "pod", extraPodUID: "pod_uid", extraNodeName: "node"} {
		if v := u.Extra[key]; len(v) == 1 {
			c[claim] = v[0]
		}
	}
	groups := make([]any, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = g
	}
	c["groups"] = groups
	return c, nil
}

func intersects(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}
