package authserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/identity/identitytest"
)

// identityServer: the classic users plus a GitHub-Actions-like OIDC issuer
// (live, on loopback) and this cluster through a TokenReview stand-in.
func identityServer(t testing.TB) (*testServer, *identitytest.Issuer, *identitytest.FakeReviews) {
	t.Helper()
	is := identitytest.NewIssuer(t)
	reviews := identitytest.NewFakeReviews(testService)
	o := classic
	o.ACL = `
- match: {account: "/^github:/", name: "${labels:repository}"}
  actions: [pull, push]
- match: {account: "/^cluster:/", name: "${labels:namespace}/*"}
  actions: [pull]
` + classic.ACL
	o.Identities = []authconfig.Identity{{
		Name: "github", Account: "${claim:repository}", Labels: map[string]string{"repository": "repository", "ref": "ref"},
		OIDC: &authconfig.OIDCIssuer{Issuer: is.URL, Audiences: []string{testService}, CAPEM: is.CAPEM},
	}, {
		Name: "cluster", Kubernetes: &authconfig.KubernetesIssuer{Audiences: []string{testService}},
	}}
	ts := newTestServer(t, o, func(opts *Options) { opts.TokenReviews = reviews.Client() })
	return ts, is, reviews
}

func TestIdentityLogin(t *testing.T) {
	ts, is, reviews := identityServer(t)
	now := time.Now()
	ci := is.Sign(t, is.Claims(testService, "org/app", "refs/heads/main", now, 2*time.Minute))

	// Basic, any user name that is not a password user.
	for _, user := range []string{"oidc", "identity", "x"} {
		tr := decodeToken(t, ts.get(scopeQuery("repository:org/app:pull,push", "repository:org/other:push"), user, ci))
		c := ts.verify(t, tr.Token)
		if got := access(c); len(got) != 1 || got[0] != "repository:org/app:pull,push" || c.Subject != "github:org/app" {
			t.Fatalf("user %q: sub %q access %v", user, c.Subject, got)
		}
		// The registry token does not outlive the workload token.
		if tr.ExpiresIn > 120 || c.Expiration > now.Add(2*time.Minute).Unix() {
			t.Fatalf("registry token lives %ds, past the workload token", tr.ExpiresIn)
		}
	}

	// OAuth2 password grant, asking for a refresh token: none is issued.
	w := ts.post(url.Values{"grant_type": {"password"}, "username": {"oidc"}, "password": {ci}, "service": {testService},
		"scope": {"repository:org/app:push"}, "client_id": {"ci"}, "access_type": {"offline"}})
	if tr := decodeToken(t, w); tr.RefreshToken != "" || access(ts.verify(t, tr.Token))[0] != "repository:org/app:push" {
		t.Fatalf("password grant: refresh token issued %v, access %v", tr.RefreshToken != "", access(ts.verify(t, tr.Token)))
	}

	// The cluster: a ServiceAccount token, judged by ${labels:namespace}.
	sa := identitytest.SignWith(t, identitytest.NewKey(t), "sa", map[string]any{"iss": "https://kubernetes.default.svc", "exp": now.Add(time.Hour).Unix()})
	reviews.Admit(sa, identitytest.ServiceAccountUser("team-a", "default", "web-1"))
	c := ts.verify(t, decodeToken(t, ts.get(scopeQuery("repository:team-a/app:pull,push", "repository:team-b/app:pull"), "serviceaccount", sa)).Token)
	if got := access(c); len(got) != 1 || got[0] != "repository:team-a/app:pull" || c.Subject != "cluster:team-a/default" {
		t.Fatalf("service account: sub %q access %v", c.Subject, access(c))
	}

	// Password users and anonymous are unchanged.
	decodeToken(t, ts.get(scopeQuery(), "admin", "badmin"))
	// A password user's name with a token as password is a wrong password.
	if w := ts.get(scopeQuery(), "admin", ci); w.Code != http.StatusUnauthorized {
		t.Fatalf("password user with a token: %d", w.Code)
	}

	// The audit line carries the identity and the mapped account.
	var found bool
	for line := range strings.SplitSeq(ts.logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["identity"] == "github" && rec["user"] == "github:org/app" && rec["decision"] == "issued" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no audit line with identity github:\n%s", ts.logs.String())
	}
	if strings.Contains(ts.logs.String(), ci) || strings.Contains(ts.logs.String(), sa) {
		t.Fatal("a workload token was logged")
	}
}

func TestIdentityRefusalsAreLimited(t *testing.T) {
	ts, is, _ := identityServer(t)
	now := time.Now()
	wrongAud := is.Sign(t, is.Claims("https://kubernetes.default.svc", "org/app", "main", now, time.Minute))
	w := ts.get(scopeQuery("repository:org/app:pull"), "oidc", wrongAud)
	if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong audience: %d %v", w.Code, w.Header())
	}
	if !strings.Contains(ts.logs.String(), `"identity_error":"token: go-jose/go-jose/jwt: validation failed, invalid audience claim (aud)"`) {
		t.Fatalf("audit lacks the refusal reason:\n%s", ts.logs.String())
	}
	// Failed token logins count in the per-client limits like passwords.
	limited := false
	for range 30 {
		if w := ts.get(scopeQuery(), "oidc", wrongAud); w.Code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("30 refused tokens were never rate limited")
	}
}

// TestIdentityWithoutClusterCredentials: outside a cluster (no in-cluster
// credentials, no TokenReviews option) a kubernetes identity is dropped
// with an error in the log, and the OIDC identities beside it keep working.
func TestIdentityWithoutClusterCredentials(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	is := identitytest.NewIssuer(t)
	o := classic
	o.ACL = "- match: {account: \"/^github:/\"}\n  actions: [pull]\n"
	o.Identities = []authconfig.Identity{
		{Name: "github", Account: "${claim:repository}", OIDC: &authconfig.OIDCIssuer{Issuer: is.URL, Audiences: []string{testService}, CAPEM: is.CAPEM}},
		{Name: "cluster", Kubernetes: &authconfig.KubernetesIssuer{Audiences: []string{testService}}},
	}
	ts := newTestServer(t, o)
	now := time.Now()
	decodeToken(t, ts.get(scopeQuery("repository:org/app:pull"), "oidc", is.Sign(t, is.Claims(testService, "org/app", "main", now, time.Minute))))
	sa := identitytest.SignWith(t, identitytest.NewKey(t), "sa", map[string]any{"iss": "https://kubernetes.default.svc", "exp": now.Add(time.Hour).Unix()})
	if w := ts.get(scopeQuery(), "serviceaccount", sa); w.Code != http.StatusUnauthorized {
		t.Fatalf("cluster token without a TokenReview client: %d", w.Code)
	}
	if !strings.Contains(ts.logs.String(), "the kubernetes identity is unavailable") {
		t.Fatalf("no error logged:\n%s", ts.logs.String())
	}
}

// TestAttackIdentityNoNameOracle: with identities configured, a JWT-shaped
// wrong password for a password user costs a bcrypt (it is a password), and
// one for an unknown name was refused by the identity code at once. The
// difference (a bcrypt against microseconds) told from outside which names
// are password users. Every refused login must cost the same bcrypt.
func TestAttackIdentityNoNameOracle(t *testing.T) {
	ts, is, _ := identityServer(t)
	now := time.Now()
	jwts := map[string]string{
		"unknown issuer": identitytest.SignWith(t, identitytest.NewKey(t), "k", map[string]any{"iss": "https://nobody.example", "exp": now.Add(time.Hour).Unix()}),
		"wrong audience": is.Sign(t, is.Claims("elsewhere", "org/app", "main", now, time.Minute)),
		"alg none":       identitytest.Unsigned(is.Claims(testService, "org/app", "main", now, time.Minute)),
	}
	for name, tok := range jwts {
		for _, user := range []string{"admin", "nobody"} {
			before := metricValue(t, ts, "cache", "miss")
			if w := ts.get(scopeQuery(), user, tok); w.Code != http.StatusUnauthorized {
				t.Fatalf("%s as %s: %d", name, user, w.Code)
			}
			if n := metricValue(t, ts, "cache", "miss") - before; n != 1 {
				t.Errorf("%s as %s: %v bcrypt comparisons, want 1 (as for any wrong password)", name, user, n)
			}
		}
	}
}
