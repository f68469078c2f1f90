// Package manager runs the operator: flags, the controller-runtime manager
// and the controllers.
package manager

import (
	"errors"
	"flag"
	"os"
	"strings"
	"time"

	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// Config is the operator's command line.
type Config struct {
	MetricsAddr     string
	ProbeAddr       string
	LeaderElect     bool
	Namespace       string // the operator's own (leader lease, node-trust ConfigMap)
	NodeTrustConfig string
	Render          render.Options
	WatchNamespaces []string
	DevelopmentLog  bool
	// MaxConcurrentReconciles: registries reconciled at once.
	MaxConcurrentReconciles int
	// FingerprintKeySecret names the Secret in Namespace holding the key of
	// password fingerprints (empty: none, every restart re-checks with bcrypt).
	FingerprintKeySecret string
}

// ParseFlags reads the command line; OPERATOR_IMAGE and POD_NAMESPACE fill
// in what the chart passes through the environment.
func ParseFlags(args []string) (*Config, error) {
	c := &Config{Render: render.DefaultOptions()}
	fs := flag.NewFlagSet("registry-auth-operator", flag.ContinueOnError)
	fs.StringVar(&c.MetricsAddr, "metrics-bind-address", ":8080", "address of the metrics endpoint (0 disables it)")
	fs.StringVar(&c.ProbeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	fs.BoolVar(&c.LeaderElect, "leader-elect", false, "elect a leader, for running several replicas")
	fs.StringVar(&c.Render.ClusterDomain, "cluster-domain", c.Render.ClusterDomain, "cluster DNS domain, completes Service names in certificates")
	fs.StringVar(&c.Render.AuthImage, "auth-image", os.Getenv("OPERATOR_IMAGE"), "the operator's own image, run by builtin auth containers (default $OPERATOR_IMAGE)")
	fs.StringVar(&c.Render.DockerAuthImage, "docker-auth-image", c.Render.DockerAuthImage, "default image of the docker_auth provider")
	fs.StringVar(&c.Render.RegistryImage, "registry-image", c.Render.RegistryImage, "default image of the registry container (spec.registry.image overrides it), e.g. a mirror's in an air-gapped cluster")
	fs.DurationVar(&c.Render.CALifetime, "ca-lifetime", c.Render.CALifetime, "lifetime of the CAs the operator creates")
	fs.DurationVar(&c.Render.ServingLifetime, "serving-cert-lifetime", c.Render.ServingLifetime, "lifetime of serving certificates the operator issues")
	fs.DurationVar(&c.Render.SigningLifetime, "signing-cert-lifetime", c.Render.SigningLifetime, "lifetime of token-signing certificates")
	fs.DurationVar(&c.Render.ServingCAOverlap, "serving-ca-overlap", c.Render.ServingCAOverlap, "how long a new serving CA is published beside the old before the serving certificate moves to it")
	fs.StringVar(&c.NodeTrustConfig, "node-trust-configmap", "", "ConfigMap in the operator's namespace listing each registry's node address and CA for the node-trust agent (empty disables)")
	watch := fs.String("watch-namespaces", "", "comma-separated namespaces to watch (empty: all)")
	fs.IntVar(&c.MaxConcurrentReconciles, "max-concurrent-reconciles", 4, "registries reconciled at once")
	fs.StringVar(&c.FingerprintKeySecret, "password-fingerprint-secret", "registry-auth-operator-password-fingerprint-key",
		"Secret in the operator's namespace keeping the key of password fingerprints, created when missing (empty: no fingerprints)")
	fs.BoolVar(&c.DevelopmentLog, "zap-devel", false, "human-readable logs")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c.Namespace = os.Getenv("POD_NAMESPACE")
	for _, ns := range strings.Split(*watch, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			c.WatchNamespaces = append(c.WatchNamespaces, ns)
		}
	}
	if c.MaxConcurrentReconciles < 1 {
		return nil, errors.New("--max-concurrent-reconciles must be at least 1")
	}
	if c.Render.AuthImage == "" {
		return nil, errors.New("--auth-image (or $OPERATOR_IMAGE) is required: the builtin auth container runs the operator's own image")
	}
	if c.Render.RegistryImage == "" || c.Render.DockerAuthImage == "" {
		return nil, errors.New("--registry-image and --docker-auth-image must not be empty")
	}
	if c.NodeTrustConfig != "" && c.Namespace == "" {
		return nil, errors.New("--node-trust-configmap needs $POD_NAMESPACE (the operator's namespace)")
	}
	for _, d := range []time.Duration{c.Render.CALifetime, c.Render.ServingLifetime, c.Render.SigningLifetime} {
		if d < time.Minute {
			return nil, errors.New("certificate lifetimes must be at least 1m")
		}
	}
	return c, nil
}
