package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	authnclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	"k8s.io/client-go/rest"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// Options tune validation; zero values take the defaults.
type Options struct {
	// TokenReviews is needed by a kubernetes identity (InClusterReviews).
	TokenReviews authnclient.TokenReviewInterface
	// Leeway for exp/nbf/iat against clock skew. Default 30s.
	Leeway time.Duration
	// KeysMaxAge: a JWKS older than this is fetched again. Default 5m.
	KeysMaxAge time.Duration
	// KeysMinRefresh: at most one fetch per issuer per this. Default 10s.
	KeysMinRefresh time.Duration
	// CacheSize and CacheTTL bound the TokenReview cache. Default 4096, 30s.
	CacheSize int
	CacheTTL  time.Duration
	Now       func() time.Time
}

func (o *Options) defaults() {
	if o.Leeway == 0 {
		o.Leeway = 30 * time.Second
	}
	if o.KeysMaxAge == 0 {
		o.KeysMaxAge = 5 * time.Minute
	}
	if o.KeysMinRefresh == 0 {
		o.KeysMinRefresh = 10 * time.Second
	}
	if o.CacheSize == 0 {
		o.CacheSize = 4096
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// InClusterReviews is a TokenReview client with the Pod's own ServiceAccount
// credentials (which need system:auth-delegator, docs/workload-identity.md).
func InClusterReviews() (authnclient.TokenReviewInterface, error) {
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, err
	}
	c, err := authnclient.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return c.TokenReviews(), nil
}

// Set is the configured identities: OIDC ones keyed by their issuer, and at
// most one kubernetes identity that takes the tokens no OIDC issuer claims.
type Set struct {
	oidc map[string]*oidcValidator
	kube *kubeValidator
}

// NeedsTokenReviews says whether ids include the cluster itself.
func NeedsTokenReviews(ids []authconfig.Identity) bool {
	for _, id := range ids {
		if id.Kubernetes != nil {
			return true
		}
	}
	return false
}

// NewSet builds validators for validated identities (authconfig.Validate).
func NewSet(ids []authconfig.Identity, o Options) (*Set, error) {
	o.defaults()
	s := &Set{oidc: map[string]*oidcValidator{}}
	for _, id := range ids {
		var err error
		switch {
		case id.OIDC != nil:
			var v *oidcValidator
			if v, err = newOIDC(id, o); err == nil {
				s.oidc[id.OIDC.Issuer] = v
			}
		case id.Kubernetes != nil:
			s.kube, err = newKube(id, o)
		}
		if err != nil {
			return nil, fmt.Errorf("identity %q: %w", id.Name, err)
		}
	}
	return s, nil
}

// Empty says whether no identity is configured.
func (s *Set) Empty() bool { return s == nil || len(s.oidc) == 0 && s.kube == nil }

// ErrNoIdentity means no configured identity takes tokens of this issuer.
var ErrNoIdentity = errors.New("no identity trusts this token's issuer")

// Validate checks a token and maps it to a Principal. The unverified iss
// only picks the validator; the validator checks everything again.
func (s *Set) Validate(ctx context.Context, raw string) (*Principal, error) {
	if s.Empty() || !LooksLikeJWT(raw) {
		return nil, ErrNoIdentity
	}
	u, ok := peek(raw)
	if !ok {
		return nil, errors.New("token: unreadable claims")
	}
	if v := s.oidc[u.Issuer]; v != nil {
		return v.validate(ctx, raw)
	}
	if s.kube != nil {
		return s.kube.validate(ctx, raw, u)
	}
	return nil, ErrNoIdentity
}

// ForgetCached empties the TokenReview cache (benchmarks of the uncached path).
func (s *Set) ForgetCached() {
	if s.kube != nil {
		s.kube.cache.clear()
	}
}
