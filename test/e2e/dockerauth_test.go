package e2e

import (
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

const nsClassic = "e2e-docker-auth"

// dockerAuth checks what the running operator renders for the classic
// split-port layout (registry TLS on 5000, cesanta/docker_auth on 5001).
// TestDockerAuthProvider runs that layout live.
func (j *journey) dockerAuth(t *testing.T) {
	e := j.env
	e.namespace(t, nsClassic)
	e.apply(t, map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": "classic-admin", "namespace": nsClassic},
		"stringData": map[string]string{"password": adminPass},
	})
	for name, host := range map[string]string{"classic": "registry.example.test", "internal": ""} {
		spec := map[string]any{
			"registry": map[string]any{"storage": map[string]any{"emptyDir": map[string]any{}}},
			"auth": map[string]any{
				"provider": "docker_auth",
				"users":    []any{map[string]any{"name": "admin", "passwordSecretRef": map[string]any{"name": "classic-admin"}}},
				"acl":      []any{map[string]any{"match": map[string]any{"account": "admin"}, "actions": []string{"*"}}},
			},
		}
		if host != "" {
			spec["expose"] = map[string]any{"host": host}
		}
		e.apply(t, map[string]any{
			"apiVersion": "registryauth.dev/v1alpha1", "kind": "RegistryAuth",
			"metadata": map[string]any{"name": name, "namespace": nsClassic},
			"spec":     spec,
		})
	}

	t.Run("classic layout rendered", func(t *testing.T) {
		eventually(t, 2*time.Minute, "docker_auth objects rendered", func() error {
			_, err := e.kube("", "-n", nsClassic, "get", "deployment/classic", "configmap/classic-registry", "secret/classic-auth")
			return err
		})
		realm, _ := e.jsonpath(nsClassic, "registryauth/classic", "{.status.realm}")
		if realm != "https://registry.example.test:5001/auth" {
			t.Errorf("status.realm = %q, want the static docker_auth realm on expose.host", realm)
		}
		ports, _ := e.jsonpath(nsClassic, "service/classic", "{.spec.ports[*].port}")
		if ports != "5000 5001" {
			t.Errorf("Service ports = %q, want 5000 (registry TLS) and 5001 (docker_auth)", ports)
		}
		images, _ := e.jsonpath(nsClassic, "deployment/classic", "{.spec.template.spec.containers[*].image}")
		if !strings.Contains(images, "cesanta/docker_auth:1.14.0") {
			t.Errorf("containers run %q, want cesanta/docker_auth:1.14.0 among them", images)
		}

		regCfg, _ := e.jsonpath(nsClassic, "configmap/classic-registry", "{.data."+strings.ReplaceAll(render.RegistryConfigFile, ".", `\.`)+"}")
		var reg struct {
			Auth struct {
				Token struct{ Realm, Service, Issuer string } `json:"token"`
			} `json:"auth"`
			HTTP struct {
				TLS map[string]any `json:"tls"`
			} `json:"http"`
		}
		if err := yaml.Unmarshal([]byte(regCfg), &reg); err != nil {
			t.Fatalf("registry config: %v", err)
		}
		service, _ := e.jsonpath(nsClassic, "registryauth/classic", "{.status.service}")
		issuer, _ := e.jsonpath(nsClassic, "registryauth/classic", "{.status.issuer}")
		if reg.Auth.Token.Realm != realm || reg.Auth.Token.Service != service || reg.Auth.Token.Issuer != issuer {
			t.Errorf("registry token config %+v does not match status realm=%s service=%s issuer=%s", reg.Auth.Token, realm, service, issuer)
		}
		if len(reg.HTTP.TLS) == 0 {
			t.Error("the classic layout's registry must serve TLS itself (http.tls)")
		}

		authB64, _ := e.jsonpath(nsClassic, "secret/classic-auth", "{.data."+strings.ReplaceAll(authconfig.ConfigFile, ".", `\.`)+"}")
		authCfg, err := decodeB64(authB64)
		if err != nil || len(authCfg) == 0 {
			t.Fatalf("auth config: %v", err)
		}
		if strings.Contains(string(authCfg), adminPass) {
			t.Error("the rendered auth config holds the plaintext password")
		}
		if !strings.Contains(string(authCfg), "$2") {
			t.Error("the rendered auth config holds no bcrypt hash")
		}
		if err := conditionIs(e, "classic", "RealmReachable", "True"); err != nil {
			t.Error(err)
		}
	})

	t.Run("without expose.host the realm is the ClusterIP", func(t *testing.T) {
		eventually(t, 2*time.Minute, "RealmReachable=True on the ClusterIP realm", func() error {
			return conditionIs(e, "internal", "RealmReachable", "True")
		})
		ip, _ := e.jsonpath(nsClassic, "service/internal", "{.spec.clusterIP}")
		if realm, _ := e.jsonpath(nsClassic, "registryauth/internal", "{.status.realm}"); realm != "https://"+ip+":5001/auth" {
			t.Errorf("status.realm = %q, want the ClusterIP %s", realm, ip)
		}
	})

	_, _ = e.kube("", "delete", "namespace", nsClassic, "--wait=false")
}

func conditionIs(e *env, name, cond, want string) error {
	return conditionIsIn(e, nsClassic, name, cond, want)
}
