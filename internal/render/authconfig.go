package render

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// AuthConfig renders the token server's config. hashes maps users of the
// spec to their bcrypt hashes (resolved from their Secrets); a user without
// one is left out, so it cannot log in (the caller reports why). The same file
// runs in the builtin server and in docker_auth; only the listen port differs.
// An invalid ACL (a regex that does not compile) is an error for the caller
// to report: CEL cannot check it at admission.
func AuthConfig(ra *v1alpha1.RegistryAuth, w Wiring, hashes map[string]string) (*authconfig.Config, error) {
	addr := PortFrontDoor
	if w.Provider == v1alpha1.ProviderDockerAuth {
		addr = PortAuthSplit
	}
	cfg := &authconfig.Config{
		Server: authconfig.Server{
			Addr:        ":" + strconv.Itoa(addr),
			Certificate: ServingTLSDir + "/tls.crt",
			Key:         ServingTLSDir + "/tls.key",
		},
		Token: authconfig.Token{
			Issuer:             w.Issuer,
			Expiration:         int64(w.TokenTTL.Seconds()),
			Certificate:        TokenSigningDir + "/tls.crt",
			Key:                TokenSigningDir + "/tls.key",
			DisableLegacyKeyID: !legacyKeyIDs(w),
		},
		Users: map[string]*authconfig.User{},
	}
	for _, u := range ra.Spec.Auth.Users {
		h, ok := hashes[u.Name]
		if !ok {
			continue
		}
		entry := &authconfig.User{Password: h}
		if len(u.Labels) > 0 {
			entry.Labels = map[string][]string{}
			for _, k := range slices.Sorted(maps.Keys(u.Labels)) {
				entry.Labels[k] = slices.Clone(u.Labels[k])
			}
		}
		cfg.Users[u.Name] = entry
	}
	for _, r := range ra.Spec.Auth.ACL {
		m := r.Match
		cfg.ACL = append(cfg.ACL, authconfig.ACLEntry{
			Match: authconfig.MatchConditions{
				Account: m.Account, Type: m.Type, Name: m.Name, Service: m.Service, IP: m.IP,
				Labels: maps.Clone(m.Labels),
			},
			Actions: append([]string{}, r.Actions...),
			Comment: r.Comment,
		})
		if m.Account != nil && *m.Account == "" && len(r.Actions) > 0 {
			// docker_auth authenticates anonymous requests as the "" user;
			// the entry exists only when some rule grants them something.
			cfg.Users[""] = &authconfig.User{}
		}
	}
	cfg.Identities = identities(ra, w)
	if err := authconfig.Validate(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// legacyKeyIDs: only docker_auth names its key by a "kid" alone (it sends no
// x5c), and the two registry lines look that kid up differently: 3.x by the
// RFC 7638 thumbprint (disable_legacy_key_id), 2.x by the legacy libtrust ID,
// and each rejects the other's. So a docker_auth registry whose image is
// tagged 2 or 2.x gets legacy IDs; every other tag (registry:3, the default)
// gets thumbprints. The builtin server sends x5c, which both lines verify.
func legacyKeyIDs(w Wiring) bool {
	if w.Provider != v1alpha1.ProviderDockerAuth {
		return false
	}
	image, _, _ := strings.Cut(w.RegistryImage, "@")
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return false // no tag
	}
	tag := image[i+1:]
	return tag == "2" || strings.HasPrefix(tag, "2.")
}
