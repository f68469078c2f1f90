package render

import (
	"bytes"
	"slices"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

func TestRenderedConfigsGolden(t *testing.T) {
	for name, ra := range map[string]func() *v1alpha1.RegistryAuth{
		"builtin": classic, "docker_auth": dockerAuth, "persistent": persistent, "s3": s3Storage,
	} {
		t.Run(name, func(t *testing.T) {
			r := ra()
			w := Wire(r, testOptions, liveService(r))
			reg, err := RegistryConfig(r, w)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+"-registry-config", reg)
			// The registry must accept what the operator renders.
			cfg, err := configuration.Parse(bytes.NewReader(reg))
			if err != nil {
				t.Fatalf("distribution rejects the rendered config: %v", err)
			}
			if cfg.Auth.Type() != "token" || cfg.Auth["token"]["issuer"] != w.Issuer || cfg.Auth["token"]["service"] != w.Service {
				t.Errorf("token auth not wired: %v", cfg.Auth)
			}

			ac, err := AuthConfig(r, w, hashes)
			if err != nil {
				t.Fatal(err)
			}
			out, err := authconfig.Marshal(ac)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+"-auth-config", out)
			// The token server's own loader reads it without complaint.
			if _, unknown, err := authconfig.Parse(out); err != nil || len(unknown) > 0 {
				t.Fatalf("authconfig.Parse: %v, unsupported keys %v", err, unknown)
			}

			golden(t, name+"-service", DesiredService(r, ""))
			golden(t, name+"-deployment", DesiredDeployment(r, testOptions, map[string]string{AnnotationRestartHash: "0123456789abcdef"}))
			if pvc := DesiredPVC(r); pvc != nil {
				golden(t, name+"-pvc", pvc)
			}
		})
	}
}

func TestWire(t *testing.T) {
	cases := []struct {
		name string
		ra   func() *v1alpha1.RegistryAuth
		svc  bool
		want Wiring
	}{
		{"builtin defaults before the Service exists", classic, false, Wiring{
			Provider: v1alpha1.ProviderBuiltin, Service: "acme.registry", Issuer: "acme.registry.registryauth.dev",
			Realm: "https://acme.registry.svc:5000/auth/token", TokenTTL: DefaultTokenTTL, ServiceDNS: "acme.registry.svc",
			URLs: v1alpha1.RegistryURLs{InCluster: "https://acme.registry.svc:5000"},
		}},
		{"builtin with ClusterIP, explicit names and an external host on 443", func() *v1alpha1.RegistryAuth {
			ra := classic()
			ra.Spec.Auth.Service, ra.Spec.Auth.Issuer = "registry.example.com", "auth.example.com"
			ra.Spec.Expose.Host, ra.Spec.Expose.Port = "registry.example.com", ptr.To[int32](443)
			return ra
		}, true, Wiring{
			Provider: v1alpha1.ProviderBuiltin, Service: "registry.example.com", Issuer: "auth.example.com",
			Realm: "https://acme.registry.svc:5000/auth/token", TokenTTL: DefaultTokenTTL, ServiceDNS: "acme.registry.svc",
			URLs: v1alpha1.RegistryURLs{
				InCluster: "https://acme.registry.svc:5000", Node: "https://198.18.128.17:5000", External: "https://registry.example.com",
			},
		}},
		{"docker_auth NodePort: realm and external URL use node ports", dockerAuth, true, Wiring{
			Provider: v1alpha1.ProviderDockerAuth, Service: "acme.registry", Issuer: "acme.registry.registryauth.dev",
			Realm: "https://registry.example.com:36001/auth", RealmHost: "registry.example.com", TokenTTL: DefaultTokenTTL,
			ServiceDNS: "acme.registry.svc",
			URLs: v1alpha1.RegistryURLs{
				InCluster: "https://acme.registry.svc:5000", Node: "https://198.18.128.17:5000", External: "https://registry.example.com:36000",
			},
		}},
		{"docker_auth without a host: the realm is the ClusterIP, which nodes reach", func() *v1alpha1.RegistryAuth {
			ra := dockerAuth()
			ra.Spec.Expose = v1alpha1.ExposeSpec{}
			return ra
		}, true, Wiring{
			Provider: v1alpha1.ProviderDockerAuth, Service: "acme.registry", Issuer: "acme.registry.registryauth.dev",
			Realm: "https://198.18.128.17:5001/auth", RealmHost: "198.18.128.17",
			TokenTTL: DefaultTokenTTL, ServiceDNS: "acme.registry.svc",
			URLs: v1alpha1.RegistryURLs{InCluster: "https://acme.registry.svc:5000", Node: "https://198.18.128.17:5000"},
		}},
		{"docker_auth without a host before the Service exists: cluster-internal fallback", func() *v1alpha1.RegistryAuth {
			ra := dockerAuth()
			ra.Spec.Expose = v1alpha1.ExposeSpec{}
			return ra
		}, false, Wiring{
			Provider: v1alpha1.ProviderDockerAuth, Service: "acme.registry", Issuer: "acme.registry.registryauth.dev",
			Realm: "https://acme.registry.svc.cluster.local:5001/auth", RealmHost: "acme.registry.svc.cluster.local",
			TokenTTL: DefaultTokenTTL, ServiceDNS: "acme.registry.svc",
			URLs: v1alpha1.RegistryURLs{InCluster: "https://acme.registry.svc:5000"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ra := tc.ra()
			var svc *corev1.Service
			if tc.svc {
				svc = liveService(ra)
			}
			tc.want.RegistryImage = "registry:3" // every fixture's
			if got := Wire(ra, testOptions, svc); got != tc.want {
				t.Errorf("Wire =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
	internal := dockerAuth()
	internal.Spec.Expose = v1alpha1.ExposeSpec{}
	if !Wire(internal, testOptions, nil).RealmIsClusterInternal(testOptions) || Wire(dockerAuth(), testOptions, nil).RealmIsClusterInternal(testOptions) ||
		Wire(internal, testOptions, liveService(internal)).RealmIsClusterInternal(testOptions) {
		t.Error("RealmIsClusterInternal misjudges the realm host")
	}
}

func TestServingSANs(t *testing.T) {
	ra := classic()
	ra.Spec.Expose.Host = "registry.example.com"
	ra.Spec.TLS.ExtraSANs = []string{"198.18.0.1", "localhost"}
	got := ServingSANs(ra, testOptions, liveService(ra))
	want := []string{"127.0.0.1", "198.18.0.1", "198.18.128.17", "acme", "acme.registry", "acme.registry.svc",
		"acme.registry.svc.cluster.local", "localhost", "registry.example.com"}
	if !slices.Equal(got, want) {
		t.Errorf("SANs %v, want %v", got, want)
	}
}

func TestAuthConfigUsers(t *testing.T) {
	ra := classic()
	w := Wire(ra, testOptions, nil)
	cfg, err := AuthConfig(ra, w, map[string]string{"admin": hashes["admin"]})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Users["reader"]; ok {
		t.Error("a user without a resolved password must be left out")
	}
	if _, ok := cfg.Users[""]; ok {
		t.Error("no rule grants anonymous access")
	}
	deny := dockerAuth()
	deny.Spec.Auth.ACL[len(deny.Spec.Auth.ACL)-1].Actions = []string{}
	cfg, _ = AuthConfig(deny, w, hashes)
	if _, ok := cfg.Users[""]; ok {
		t.Error("a rule that denies anonymous requests must not enable them")
	}
	bad := classic()
	bad.Spec.Auth.ACL[1].Match.Name = ptr.To("/(unclosed/")
	if _, err := AuthConfig(bad, w, hashes); err == nil {
		t.Error("an ACL regex that does not compile must be an error")
	}
}

func TestDeploymentStrategyAndRestartHash(t *testing.T) {
	if s := DesiredDeployment(persistent(), testOptions, nil).Spec.Strategy.Type; s != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("a ReadWriteOnce claim needs Recreate, got %s", s)
	}
	if s := DesiredDeployment(classic(), testOptions, nil).Spec.Strategy; s.Type != appsv1.RollingUpdateDeploymentStrategyType || s.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Errorf("emptyDir registries surge without losing availability, got %+v", s)
	}
	if RestartHash([]byte("ab"), []byte("c")) == RestartHash([]byte("a"), []byte("bc")) {
		t.Error("restart hash ignores part boundaries")
	}
	if RestartHash([]byte("x")) != RestartHash([]byte("x")) {
		t.Error("restart hash is not deterministic")
	}
}
