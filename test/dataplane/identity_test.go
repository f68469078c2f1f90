package dataplane

import (
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/identity/identitytest"
)

const ciAudience = "https://github.com/org"

// TestWorkloadIdentityOIDC: the real registry behind the auth-server
// process, which trusts an OIDC issuer the test runs on loopback (discovery
// and JWKS over TLS, trusted through caBundle only). A "CI job" holding a
// GitHub-Actions-shaped token pushes to org/app with the token as its
// password only when its claims match the ACL (repository org/app, ref
// main); every malformed or foreign token is refused by the token endpoint.
func TestWorkloadIdentityOIDC(t *testing.T) {
	is := identitytest.NewIssuer(t)
	s := newStack(t, frontDoor, func(t testing.TB, s *stack) {
		s.env.Config.Identities = []authconfig.Identity{{
			Name: "github", Account: "${claim:repository}",
			Labels: map[string]string{"repository": "repository", "ref": "ref"},
			OIDC:   &authconfig.OIDCIssuer{Issuer: is.URL, Audiences: []string{ciAudience}, CAPEM: is.CAPEM},
		}}
		s.env.Config.ACL = append([]authconfig.ACLEntry{{
			Match:   authconfig.MatchConditions{Account: ptr.To("/^github:/"), Name: ptr.To("${labels:repository}"), Labels: map[string]string{"ref": "refs/heads/main"}},
			Actions: []string{"pull", "push"},
		}}, s.env.Config.ACL...)
		if err := s.env.WriteConfig(); err != nil {
			t.Fatal(err)
		}
	})
	now := time.Now()
	job := func(repo, ref string) *craneClient {
		return s.crane("oidc", is.Sign(t, is.Claims(ciAudience, repo, ref, now, 5*time.Minute)))
	}

	// The CI job of org/app on main pushes and pulls its image.
	want, err := job("org/app", "refs/heads/main").push(t, "org/app", "1")
	if err != nil {
		t.Fatalf("CI job push to org/app: %v", err)
	}
	if got, err := job("org/app", "refs/heads/main").pull("org/app", "1"); err != nil || got != want {
		t.Fatalf("CI job pull: %v %v", got, err)
	}
	// Claims that do not match the ACL: logged in, but not granted.
	_, err = job("org/app", "refs/heads/feature").push(t, "org/app", "2")
	wantDenied(t, "a feature branch pushing", err)
	_, err = job("org/other", "refs/heads/main").push(t, "org/app", "2")
	wantDenied(t, "another repository's job pushing to org/app", err)

	// Tokens the token endpoint refuses outright.
	good := func() map[string]any { return is.Claims(ciAudience, "org/app", "refs/heads/main", now, 5*time.Minute) }
	with := func(k string, v any) map[string]any { m := good(); m[k] = v; return m }
	other := identitytest.NewIssuer(t)
	otherClaims := other.Claims(ciAudience, "org/app", "refs/heads/main", now, 5*time.Minute)
	for name, tok := range map[string]string{
		"wrong audience":         is.Sign(t, with("aud", "https://kubernetes.default.svc")),
		"expired":                is.Sign(t, with("exp", now.Add(-2*time.Minute).Unix())),
		"wrong issuer":           other.Sign(t, otherClaims),
		"iss of ours, other key": identitytest.SignWith(t, identitytest.NewKey(t), other.Current(), good()),
		"alg none":               identitytest.Unsigned(good()),
		"unknown key":            identitytest.SignWith(t, identitytest.NewKey(t), "unknown", good()),
	} {
		// A user name per case: the per-(user, client) failure limit (5 in
		// a burst) applies to refused tokens too.
		_, err := s.crane("ci-"+strings.ReplaceAll(name, " ", "-"), tok).push(t, "org/app", "3")
		wantDenied(t, name, err)
		if err == nil || !strings.Contains(err.Error(), "invalid username or password") {
			t.Errorf("%s: want the token endpoint's refusal, got %v", name, err)
		}
	}
	// Password users are unchanged beside identities.
	if _, err := s.crane("admin", "badmin").pull("org/app", "1"); err != nil {
		t.Fatalf("admin pull: %v", err)
	}
}
