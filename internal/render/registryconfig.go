package render

import (
	"fmt"
	"strconv"

	"sigs.k8s.io/yaml"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// Paths inside the pod.
const (
	RegistryConfigDir  = "/etc/distribution"
	RegistryConfigFile = "config.yml"
	TokenBundleDir     = "/etc/registry-auth/token-ca"
	TokenBundleFile    = "bundle.crt"
	AuthConfigDir      = "/etc/registry-auth/config"
	ServingTLSDir      = "/etc/registry-auth/tls"
	TokenSigningDir    = "/etc/registry-auth/token"
	StorageDir         = "/var/lib/registry"
	// DockerAuthConfigDir is where the docker_auth image reads its config.
	DockerAuthConfigDir = "/config"

	// RegistryDrainTimeout lets in-flight requests finish when a pod stops.
	RegistryDrainTimeout = "25s"
)

// registryConfig is the subset of distribution's config.yml the operator
// sets; field names follow distribution's configuration package.
type registryConfig struct {
	Version string         `json:"version"`
	Log     registryLog    `json:"log"`
	Storage map[string]any `json:"storage"`
	HTTP    registryHTTP   `json:"http"`
	Auth    map[string]any `json:"auth"`
	Health  map[string]any `json:"health"`
}

type registryLog struct {
	AccessLog registryAccessLog `json:"accesslog"`
	Level     string            `json:"level"`
	Formatter string            `json:"formatter"`
	Fields    map[string]string `json:"fields,omitempty"`
}

type registryAccessLog struct {
	Disabled bool `json:"disabled"`
}

type registryHTTP struct {
	Addr         string              `json:"addr"`
	RelativeURLs bool                `json:"relativeurls,omitempty"`
	DrainTimeout string              `json:"draintimeout"`
	TLS          *registryTLS        `json:"tls,omitempty"`
	Headers      map[string][]string `json:"headers"`
	Debug        registryDebug       `json:"debug"`
}

type registryTLS struct {
	Certificate string `json:"certificate"`
	Key         string `json:"key"`
}

type registryDebug struct {
	Addr       string         `json:"addr"`
	Prometheus map[string]any `json:"prometheus"`
}

// RegistryConfig renders distribution's config.yml. It holds no secret: the
// HTTP secret comes from the environment (REGISTRY_HTTP_SECRET).
func RegistryConfig(ra *v1alpha1.RegistryAuth, w Wiring) ([]byte, error) {
	token := map[string]any{
		"realm":          w.Realm,
		"service":        w.Service,
		"issuer":         w.Issuer,
		"rootcertbundle": TokenBundleDir + "/" + TokenBundleFile,
	}
	cfg := registryConfig{
		Version: "0.1",
		// No access log: every API request is already logged as JSON
		// ("response completed", with method, URI, status and client), and
		// the access log would add a line for each probe of "/" (docker_auth
		// layout) and name only 127.0.0.1 as client behind the front door.
		Log: registryLog{AccessLog: registryAccessLog{Disabled: true}, Level: "info", Formatter: "json",
			Fields: map[string]string{"service": "registry", "registryauth": ra.Namespace + "/" + ra.Name}},
		Storage: storageDriver(ra),
		HTTP: registryHTTP{
			DrainTimeout: RegistryDrainTimeout,
			Headers:      map[string][]string{"X-Content-Type-Options": {"nosniff"}},
			Debug: registryDebug{
				// Loopback only: the debug server serves pprof and expvar.
				Addr:       loopback(PortRegistryDebug),
				Prometheus: map[string]any{"enabled": true, "path": "/metrics"},
			},
		},
		Auth:   map[string]any{"token": token},
		Health: map[string]any{"storagedriver": map[string]any{"enabled": true, "interval": "10s", "threshold": 3}},
	}
	// Deleting manifests through the API (for users whose ACL grants
	// "delete") is what gives garbage collection something to collect.
	cfg.Storage["delete"] = map[string]any{"enabled": true}
	cfg.Storage["maintenance"] = map[string]any{"uploadpurging": map[string]any{"enabled": true, "age": "168h", "interval": "24h", "dryrun": false}}
	switch w.Provider {
	case v1alpha1.ProviderDockerAuth:
		// The registry is the TLS endpoint itself and the realm is static.
		cfg.HTTP.Addr = ":" + strconv.Itoa(PortFrontDoor)
		cfg.HTTP.TLS = &registryTLS{Certificate: ServingTLSDir + "/tls.crt", Key: ServingTLSDir + "/tls.key"}
	default:
		// Behind the front door: plain HTTP inside the pod; the realm follows
		// the Host and X-Forwarded-Proto the front door passes on.
		// Loopback only, so nothing in the cluster gets around the front door.
		cfg.HTTP.Addr = loopback(PortRegistryHTTP)
		cfg.HTTP.RelativeURLs = true
		token["autoredirect"] = true
		token["autoredirectpath"] = TokenPath
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("rendering registry config: %w", err)
	}
	return out, nil
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
