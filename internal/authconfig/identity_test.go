package authconfig

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestIdentitiesParseAndValidate(t *testing.T) {
	doc := `
identities:
- name: github
  oidc: {issuer: "https://token.actions.githubusercontent.com", audiences: ["https://github.com/org"], algorithms: [RS256]}
  account: "${claim:repository}"
  labels: {repository: repository, ref: ref}
- name: cluster
  kubernetes: {audiences: [acme.registry]}
`
	var c Config
	if err := yaml.UnmarshalStrict([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	if errs := validateIdentities(c.Identities); len(errs) != 0 {
		t.Fatalf("valid identities refused: %v", errs)
	}
	if c.Identities[0].OIDC.Audiences[0] != "https://github.com/org" || c.Identities[1].Kubernetes.Audiences[0] != "acme.registry" || c.Identities[0].Labels["ref"] != "ref" {
		t.Fatalf("parsed wrong: %+v", c.Identities)
	}
}

func TestIdentitiesRefused(t *testing.T) {
	oidc := func(issuer string, auds ...string) *OIDCIssuer { return &OIDCIssuer{Issuer: issuer, Audiences: auds} }
	kube := &KubernetesIssuer{Audiences: []string{"r"}}
	for name, tc := range map[string]struct {
		ids  []Identity
		want string
	}{
		"no kind":               {[]Identity{{Name: "a"}}, "exactly one of oidc and kubernetes"},
		"both kinds":            {[]Identity{{Name: "a", OIDC: oidc("https://i", "r"), Kubernetes: kube}}, "exactly one"},
		"http issuer":           {[]Identity{{Name: "a", OIDC: oidc("http://i", "r")}}, "https URL"},
		"issuer with query":     {[]Identity{{Name: "a", OIDC: oidc("https://i?x=1", "r")}}, "https URL"},
		"no audience":           {[]Identity{{Name: "a", OIDC: oidc("https://i")}}, "audiences is required"},
		"kube without audience": {[]Identity{{Name: "a", Kubernetes: &KubernetesIssuer{}}}, "audiences is required"},
		"two kube":              {[]Identity{{Name: "a", Kubernetes: kube}, {Name: "b", Kubernetes: kube}}, "at most one kubernetes"},
		"same name":             {[]Identity{{Name: "a", Kubernetes: kube}, {Name: "a", OIDC: oidc("https://i", "r")}}, "used twice"},
		"same issuer":           {[]Identity{{Name: "a", OIDC: oidc("https://i", "r")}, {Name: "b", OIDC: oidc("https://i", "r")}}, "trusted twice"},
		"colon in name":         {[]Identity{{Name: "a:b", Kubernetes: kube}}, "may not contain ':'"},
		"alg none":              {[]Identity{{Name: "a", OIDC: &OIDCIssuer{Issuer: "https://i", Audiences: []string{"r"}, Algorithms: []string{"none"}}}}, "not supported"},
		"HS256":                 {[]Identity{{Name: "a", OIDC: &OIDCIssuer{Issuer: "https://i", Audiences: []string{"r"}, Algorithms: []string{"HS256"}}}}, "not supported"},
		"bad CA":                {[]Identity{{Name: "a", OIDC: &OIDCIssuer{Issuer: "https://i", Audiences: []string{"r"}, CAPEM: "nope"}}}, "no PEM"},
		"unknown placeholder":   {[]Identity{{Name: "a", Kubernetes: kube, Account: "${account}"}}, "only ${claim:PATH}"},
	} {
		errs := validateIdentities(tc.ids)
		if len(errs) == 0 || !strings.Contains(errs[0].Error(), tc.want) {
			t.Errorf("%s: errs = %v, want %q", name, errs, tc.want)
		}
	}
}
