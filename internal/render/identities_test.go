package render

import (
	"testing"

	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// withIdentities is the classic registry trusting GitHub Actions for CI
// pushes and the cluster's ServiceAccounts for pulls by namespace.
func withIdentities() *v1alpha1.RegistryAuth {
	ra := classic()
	ra.Spec.Auth.Identities = []v1alpha1.Identity{{
		Name:    "github",
		Account: "${claim:repository}",
		Labels:  map[string]string{"repository": "repository", "ref": "ref"},
		OIDC: &v1alpha1.OIDCIdentity{
			Issuer: "https://token.actions.githubusercontent.com", Audiences: []string{"https://github.com/org"},
			Algorithms: []v1alpha1.TokenAlgorithm{"RS256"},
		},
	}, {
		Name: "cluster", Kubernetes: &v1alpha1.KubernetesIdentity{},
	}}
	ra.Spec.Auth.ACL = append([]v1alpha1.ACLRule{
		{Match: v1alpha1.ACLMatch{Account: ptr.To("/^github:/"), Name: ptr.To("${labels:repository}")}, Actions: []string{"pull", "push"}},
		{Match: v1alpha1.ACLMatch{Account: ptr.To("/^cluster:/"), Name: ptr.To("${labels:namespace}/*")}, Actions: []string{"pull"}},
	}, ra.Spec.Auth.ACL...)
	return ra
}

func TestIdentitiesAuthConfigGolden(t *testing.T) {
	ra := withIdentities()
	w := Wire(ra, testOptions, nil)
	cfg, err := AuthConfig(ra, w, hashes)
	if err != nil {
		t.Fatal(err)
	}
	// The kubernetes identity defaults to the registry's own audience.
	if k := cfg.Identities[1].Kubernetes; len(k.Audiences) != 1 || k.Audiences[0] != w.Service {
		t.Fatalf("kubernetes audiences = %v, want [%s]", k.Audiences, w.Service)
	}
	out, err := authconfig.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "identities-auth-config", out)
}
