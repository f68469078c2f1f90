package render

import (
	"maps"
	"slices"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// identities renders spec.auth.identities for the builtin token server. A
// kubernetes identity without audiences is bound to the registry's service
// (the "aud" of the registry's own tokens): unique to this registry, and
// never the API server's audience.
func identities(ra *v1alpha1.RegistryAuth, w Wiring) []authconfig.Identity {
	var out []authconfig.Identity
	for _, id := range ra.Spec.Auth.Identities {
		r := authconfig.Identity{Name: id.Name, Account: id.Account, Labels: maps.Clone(id.Labels)}
		if o := id.OIDC; o != nil {
			r.OIDC = &authconfig.OIDCIssuer{Issuer: o.Issuer, Audiences: slices.Clone(o.Audiences), CAPEM: o.CABundle}
			for _, a := range o.Algorithms {
				r.OIDC.Algorithms = append(r.OIDC.Algorithms, string(a))
			}
		}
		if k := id.Kubernetes; k != nil {
			r.Kubernetes = &authconfig.KubernetesIssuer{Audiences: slices.Clone(k.Audiences)}
			if len(r.Kubernetes.Audiences) == 0 {
				r.Kubernetes.Audiences = []string{w.Service}
			}
		}
		out = append(out, r)
	}
	return out
}
