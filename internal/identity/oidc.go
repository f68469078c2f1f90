package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// defaultAlgorithms are what GitHub Actions, GitLab and Kubernetes issuers sign with.
var defaultAlgorithms = []string{"RS256", "ES256"}

// oidcValidator checks tokens of one OpenID Connect issuer.
type oidcValidator struct {
	mapping
	issuer    string
	audiences []string
	algs      []jose.SignatureAlgorithm
	keys      *keySet
	leeway    time.Duration
	now       func() time.Time
}

func newOIDC(id authconfig.Identity, o Options) (*oidcValidator, error) {
	cfg := id.OIDC
	client, err := httpClient(cfg.CAPEM)
	if err != nil {
		return nil, err
	}
	names := cfg.Algorithms
	if len(names) == 0 {
		names = defaultAlgorithms
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(names))
	for _, a := range names {
		if !authconfig.SupportedTokenAlgorithms[a] {
			return nil, fmt.Errorf("algorithm %q is not allowed", a)
		}
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	return &oidcValidator{
		mapping:   newMapping(id, "${claim:sub}", nil),
		issuer:    cfg.Issuer,
		audiences: cfg.Audiences,
		algs:      algs,
		keys:      &keySet{issuer: cfg.Issuer, client: client, maxAge: o.KeysMaxAge, minInterval: o.KeysMinRefresh, now: o.Now},
		leeway:    o.Leeway,
		now:       o.Now,
	}, nil
}

// validate checks, in order: the header's algorithm is allowed (go-jose
// refuses any other, "none" included, before anything else is read), the
// signature by a key of the issuer's JWKS, iss equal to the pinned issuer,
// aud containing one of ours, exp present and not past, nbf and iat not in
// the future, all with a small leeway for clock skew.
func (v *oidcValidator) validate(ctx context.Context, raw string) (*Principal, error) {
	tok, err := jwt.ParseSigned(raw, v.algs)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("token: want exactly one signature")
	}
	h := tok.Headers[0]
	keys, err := v.keys.lookup(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	var std jwt.Claims
	var all map[string]any
	verified := false
	for _, k := range keys {
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue // the key is declared for another algorithm
		}
		if tok.Claims(k.Key, &std, &all) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, errors.New("token: signature not made by any key of the issuer")
	}
	if std.Expiry == nil {
		return nil, errors.New("token: no exp claim")
	}
	now := v.now()
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: v.issuer, AnyAudience: v.audiences, Time: now}, v.leeway); err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if len(std.Audience) == 0 || !slices.ContainsFunc(v.audiences, std.Audience.Contains) {
		return nil, errors.New("token: audience is not ours") // belt and braces: AnyAudience with no aud
	}
	return v.apply(all, std.Expiry.Time())
}
