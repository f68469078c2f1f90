package authserver

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/identity"
)

// Workload identities (docs/workload-identity.md): a client presents a
// token from a trusted issuer as its Basic password (or the password of the
// OAuth2 password grant). It is tried as a token only when the user name is
// not a password user and the password is shaped like a JWT, so password
// users, anonymous access and the timing of wrong passwords are unchanged,
// and no password is ever sent to an issuer or to a TokenReview.

// identityHolder keeps the validators of the current identities config
// across reloads that do not change it (a password change must not drop the
// JWKS and TokenReview caches). Built on first use.
type identityHolder struct {
	mu  sync.Mutex
	st  *state // the state last seen: same state, same set (no compare)
	key string
	set *identity.Set
	err error
}

func (s *Server) identitySet(st *state) (*identity.Set, error) {
	if len(st.identityConfig) == 0 {
		return nil, nil
	}
	h := &s.identities
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.st == st {
		return h.set, h.err
	}
	h.st = st
	raw, _ := json.Marshal(st.identityConfig)
	if h.key != string(raw) {
		h.key, h.set, h.err = string(raw), nil, nil
		ids := st.identityConfig
		o := identity.Options{TokenReviews: s.opts.TokenReviews}
		if o.TokenReviews == nil && identity.NeedsTokenReviews(ids) {
			var err error
			if o.TokenReviews, err = identity.InClusterReviews(); err != nil {
				// OIDC identities keep working; the cluster's tokens are
				// refused until the container has credentials.
				s.log.Error("the kubernetes identity is unavailable: no in-cluster credentials for TokenReview (docs/workload-identity.md)", "error", err)
				ids = slices.DeleteFunc(slices.Clone(ids), func(id authconfig.Identity) bool { return id.Kubernetes != nil })
			}
		}
		if h.set, h.err = identity.NewSet(ids, o); h.err != nil {
			s.log.Error("workload identities unavailable", "error", h.err)
		}
	}
	return h.set, h.err
}

// login authenticates a password or anonymous request, or a workload token.
// A refused token is then checked as the wrong password it also is: one
// bcrypt and one failure in the limiter, exactly as for a password user, so
// neither timing nor status tells a password user's name from any other.
func (s *Server) login(ctx context.Context, st *state, tr *tokenRequest, d *decision) (*account, bool) {
	if st.users[tr.user] != nil || len(st.identityConfig) == 0 || !identity.LooksLikeJWT(tr.password) {
		return s.authenticate(st, tr.user, tr.password, d.client)
	}
	set, err := s.identitySet(st)
	var p *identity.Principal
	if err == nil {
		p, err = set.Validate(ctx, tr.password)
	}
	if err != nil {
		d.identityError = err.Error()
		return s.authenticate(st, tr.user, tr.password, d.client)
	}
	d.identity, d.user = p.Identity, p.Account
	return &account{name: p.Account, labels: p.Labels, expiry: p.Expiry}, true
}

// tokenTTL: a registry token never outlives the workload token it was
// issued for.
func tokenTTL(st *state, a *account, now time.Time) time.Duration {
	if !a.expiry.IsZero() && a.expiry.Sub(now) < st.ttl {
		return max(a.expiry.Sub(now).Truncate(time.Second), time.Second)
	}
	return st.ttl
}
