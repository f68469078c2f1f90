package identity

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/identity/identitytest"
)

const testAud = "registry.example"

// clock is a settable time for the validators (the issuer signs with real
// timestamps chosen by each test).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func githubIdentity(is *identitytest.Issuer) authconfig.Identity {
	return authconfig.Identity{
		Name:    "github",
		OIDC:    &authconfig.OIDCIssuer{Issuer: is.URL, Audiences: []string{testAud}, CAPEM: is.CAPEM},
		Account: "${claim:repository}",
		Labels:  map[string]string{"repository": "repository", "ref": "ref"},
	}
}

func newTestSet(t *testing.T, c *clock, ids ...authconfig.Identity) *Set {
	t.Helper()
	s, err := NewSet(ids, Options{Now: c.now, KeysMaxAge: time.Minute, KeysMinRefresh: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOIDCValidatesAndMaps(t *testing.T) {
	is := identitytest.NewIssuer(t)
	now := time.Now()
	c := &clock{t: now}
	s := newTestSet(t, c, githubIdentity(is))
	p, err := s.Validate(context.Background(), is.Sign(t, is.Claims(testAud, "org/app", "refs/heads/main", now, 5*time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Account != "github:org/app" || p.Labels["repository"][0] != "org/app" || p.Labels["ref"][0] != "refs/heads/main" || p.Labels[LabelIdentity][0] != "github" {
		t.Fatalf("principal = %+v", p)
	}
	if !p.Expiry.Equal(time.Unix(now.Add(5*time.Minute).Unix(), 0)) {
		t.Fatalf("expiry = %v", p.Expiry)
	}
}

func TestOIDCRefuses(t *testing.T) {
	is := identitytest.NewIssuer(t)
	now := time.Now()
	c := &clock{t: now}
	s := newTestSet(t, c, githubIdentity(is))
	good := func() map[string]any { return is.Claims(testAud, "org/app", "refs/heads/main", now, 5*time.Minute) }
	with := func(k string, v any) map[string]any { m := good(); m[k] = v; return m }
	without := func(k string) map[string]any { m := good(); delete(m, k); return m }
	stranger := identitytest.NewKey(t)
	for name, tc := range map[string]struct {
		token string
		want  string
	}{
		"wrong audience":             {is.Sign(t, with("aud", "https://kubernetes.default.svc")), "audience"},
		"audience list without ours": {is.Sign(t, with("aud", []string{"a", "b"})), "audience"},
		"no audience":                {is.Sign(t, without("aud")), "audience"},
		"expired beyond leeway":      {is.Sign(t, with("exp", now.Add(-31*time.Second).Unix())), "expired"},
		"no exp":                     {is.Sign(t, without("exp")), "no exp"},
		"not yet valid":              {is.Sign(t, with("nbf", now.Add(time.Minute).Unix())), "not valid yet"},
		"issued in the future":       {is.Sign(t, with("iat", now.Add(time.Minute).Unix())), "future"},
		"alg none":                   {identitytest.Unsigned(good()), "unexpected signature algorithm"},
		"unknown key, its kid":       {identitytest.SignWith(t, stranger, "k-stranger", good()), "no signing key"},
		"unknown key, a known kid":   {identitytest.SignWith(t, stranger, is.Current(), good()), "signature"},
		"wrong issuer":               {is.Sign(t, with("iss", "https://token.actions.githubusercontent.com")), ErrNoIdentity.Error()},
		"account claim missing":      {is.Sign(t, without("repository")), "claim \"repository\""},
		"account claim is an array":  {is.Sign(t, with("repository", []string{"org/app", "org/other"})), "want one value"},
		"not a JWT":                  {"hunter2", ErrNoIdentity.Error()},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := s.Validate(context.Background(), tc.token)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %+v, %v; want an error with %q", p, err, tc.want)
			}
		})
	}
	// The leeway: a token that expired 10s ago still passes (skew), the
	// direct validator also refuses an issuer other than the pinned one.
	if _, err := s.Validate(context.Background(), is.Sign(t, with("exp", now.Add(-10*time.Second).Unix()))); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	v := s.oidc[is.URL]
	if _, err := v.validate(context.Background(), is.Sign(t, with("iss", is.URL+"/other"))); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Fatalf("pinned issuer: %v", err)
	}
}

func TestOIDCDiscoveryMustNameThePinnedIssuer(t *testing.T) {
	is := identitytest.NewIssuer(t)
	c := &clock{t: time.Now()}
	id := githubIdentity(is)
	// The same server reached as "localhost": discovery names 127.0.0.1.
	id.OIDC.Issuer = strings.Replace(is.URL, "127.0.0.1", "localhost", 1)
	s := newTestSet(t, c, id)
	claims := is.Claims(testAud, "org/app", "main", c.now(), time.Minute)
	claims["iss"] = id.OIDC.Issuer
	_, err := s.Validate(context.Background(), is.Sign(t, claims))
	if err == nil || !strings.Contains(err.Error(), "discovery names issuer") {
		t.Fatalf("err = %v", err)
	}
}

func TestOIDCUntrustedCAIsRefused(t *testing.T) {
	is := identitytest.NewIssuer(t)
	other := identitytest.NewIssuer(t) // its CA did not sign is's certificate
	c := &clock{t: time.Now()}
	id := githubIdentity(is)
	id.OIDC.CAPEM = other.CAPEM
	s := newTestSet(t, c, id)
	_, err := s.Validate(context.Background(), is.Sign(t, is.Claims(testAud, "org/app", "main", c.now(), time.Minute)))
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v", err)
	}
}

// TestJWKSRotation: a key published after the first fetch verifies at once
// (its unknown kid triggers a refresh); a key removed from the JWKS stops
// verifying once the cached set is older than KeysMaxAge.
func TestJWKSRotation(t *testing.T) {
	is := identitytest.NewIssuer(t)
	start := time.Now()
	c := &clock{t: start}
	s := newTestSet(t, c, githubIdentity(is))
	ctx := context.Background()
	token := func() string {
		return is.Sign(t, is.Claims(testAud, "org/app", "main", c.now(), 10*time.Minute))
	}
	old := is.Current()
	if _, err := s.Validate(ctx, token()); err != nil {
		t.Fatal(err)
	}
	fetches := is.JWKSFetches.Load()

	// New key: verifies after the refresh its kid triggers.
	is.Use(is.AddKey(t))
	c.add(2 * time.Second) // past KeysMinRefresh
	if _, err := s.Validate(ctx, token()); err != nil {
		t.Fatalf("new key after refresh: %v", err)
	}
	if is.JWKSFetches.Load() != fetches+1 {
		t.Fatalf("JWKS fetches = %d, want %d", is.JWKSFetches.Load(), fetches+1)
	}

	// Unknown kids do not hammer the issuer: within KeysMinRefresh, no fetch.
	stranger := identitytest.NewKey(t)
	for range 5 {
		_, _ = s.Validate(ctx, identitytest.SignWith(t, stranger, "junk", is.Claims(testAud, "org/app", "main", c.now(), time.Minute)))
	}
	if is.JWKSFetches.Load() != fetches+1 {
		t.Fatalf("junk kids caused fetches: %d", is.JWKSFetches.Load()-fetches-1)
	}

	// Removed key: still cached, so still verifies, until the set is stale.
	oldKey := is.Key(old)
	is.RemoveKey(old)
	signOld := func() string {
		return identitytest.SignWith(t, oldKey, old, is.Claims(testAud, "org/app", "main", c.now(), 10*time.Minute))
	}
	if _, err := s.Validate(ctx, signOld()); err != nil {
		t.Fatalf("removed key within max age: %v", err)
	}
	c.add(time.Minute)
	if _, err := s.Validate(ctx, signOld()); err == nil {
		t.Fatal("a key removed from the JWKS still verifies after the refresh")
	}
	if _, err := s.Validate(ctx, token()); err != nil {
		t.Fatalf("current key after refresh: %v", err)
	}
}

// TestJWKSRefreshIgnoresClientHangup: a refresh triggered by a request
// whose client already went away still completes, so it cannot be used to
// hold a new key off for KeysMinRefresh.
func TestJWKSRefreshIgnoresClientHangup(t *testing.T) {
	is := identitytest.NewIssuer(t)
	c := &clock{t: time.Now()}
	s := newTestSet(t, c, githubIdentity(is))
	if _, err := s.Validate(context.Background(), is.Sign(t, is.Claims(testAud, "org/app", "main", c.now(), time.Minute))); err != nil {
		t.Fatal(err)
	}
	is.Use(is.AddKey(t))
	c.add(2 * time.Second)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = s.Validate(gone, is.Sign(t, is.Claims(testAud, "org/app", "main", c.now(), time.Minute)))
	if _, err := s.Validate(context.Background(), is.Sign(t, is.Claims(testAud, "org/app", "main", c.now(), time.Minute))); err != nil {
		t.Fatalf("new key after a hung-up refresh: %v", err)
	}
}

func TestJWKSOutageKeepsKeysForABoundedTime(t *testing.T) {
	is := identitytest.NewIssuer(t)
	c := &clock{t: time.Now()}
	s := newTestSet(t, c, githubIdentity(is))
	ctx := context.Background()
	tok := func() string { return is.Sign(t, is.Claims(testAud, "org/app", "main", c.now(), 10*time.Minute)) }
	if _, err := s.Validate(ctx, tok()); err != nil {
		t.Fatal(err)
	}
	is.Close()
	c.add(90 * time.Second) // stale, refresh fails: old keys still serve
	if _, err := s.Validate(ctx, tok()); err != nil {
		t.Fatalf("within 2*max age: %v", err)
	}
	c.add(time.Minute) // beyond 2*max age
	if _, err := s.Validate(ctx, tok()); err == nil || !strings.Contains(err.Error(), "keys unavailable") {
		t.Fatalf("beyond 2*max age: %v", err)
	}
}

func TestNewSetRefusesDisallowedAlgorithm(t *testing.T) {
	id := authconfig.Identity{Name: "x", OIDC: &authconfig.OIDCIssuer{Issuer: "https://x", Audiences: []string{"a"}, Algorithms: []string{"HS256"}}}
	if _, err := NewSet([]authconfig.Identity{id}, Options{}); err == nil {
		t.Fatal("HS256 accepted")
	}
	id.Kubernetes, id.OIDC = &authconfig.KubernetesIssuer{Audiences: []string{"a"}}, nil
	if _, err := NewSet([]authconfig.Identity{id}, Options{}); err == nil || !errors.Is(err, err) || !strings.Contains(err.Error(), "TokenReview client") {
		t.Fatalf("kubernetes without a client: %v", err)
	}
}
