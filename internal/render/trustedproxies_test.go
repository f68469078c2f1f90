package render

import (
	"slices"
	"strings"
	"testing"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// spec.expose.trustedProxies reaches the front door as one flag; without
// it no flag is rendered (the server then trusts no X-Forwarded-For).
func TestTrustedProxiesFlag(t *testing.T) {
	args := func(ra *v1alpha1.RegistryAuth) []string {
		for _, c := range DesiredDeployment(ra, testOptions, nil).Spec.Template.Spec.Containers {
			if c.Name == ContainerAuth {
				return c.Args
			}
		}
		t.Fatal("no auth container")
		return nil
	}
	ra := classic()
	if a := args(ra); slices.ContainsFunc(a, func(s string) bool { return strings.HasPrefix(s, "--trusted-proxies") }) {
		t.Errorf("flag rendered without trustedProxies: %v", a)
	}
	ra.Spec.Expose.TrustedProxies = []v1alpha1.ProxyAddress{"10.244.0.0/16", "192.0.2.7"}
	if a := args(ra); !slices.Contains(a, "--trusted-proxies=10.244.0.0/16,192.0.2.7") {
		t.Errorf("args %v", a)
	}
}
