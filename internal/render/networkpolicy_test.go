package render

import (
	"testing"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestNetworkPolicy: only when enabled; the Service's ports per layout and
// the builtin monitoring port, nothing else.
func TestNetworkPolicy(t *testing.T) {
	for name, ra := range map[string]func() *v1alpha1.RegistryAuth{"builtin": classic, "docker_auth": dockerAuth} {
		r := ra()
		if np := DesiredNetworkPolicy(r); np != nil {
			t.Errorf("%s: a NetworkPolicy without spec.expose.networkPolicy.enabled", name)
		}
		r.Spec.Expose.NetworkPolicy.Enabled = true
		golden(t, name+"-networkpolicy", DesiredNetworkPolicy(r))
	}
}
