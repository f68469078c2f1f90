package manager

import (
	"context"
	"fmt"
	"os"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/registry-auth-operator/registry-auth-operator/controllers"
	"github.com/registry-auth-operator/registry-auth-operator/internal/apply"
	"github.com/registry-auth-operator/registry-auth-operator/internal/passwords"
	"github.com/registry-auth-operator/registry-auth-operator/internal/selfcheck"
)

// Main runs the manager until SIGTERM.
func Main(args []string) int {
	cfg, err := ParseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "registry-auth-operator:", err)
		return 2
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(cfg.DevelopmentLog)))
	log := ctrl.Log.WithName("setup")

	restConfig := ctrl.GetConfigOrDie()
	opts := ctrl.Options{
		Scheme:                  controllers.NewScheme(),
		Cache:                   controllers.CacheOptions(cfg.Scope()),
		Metrics:                 metricsserver.Options{BindAddress: cfg.MetricsAddr},
		HealthProbeBindAddress:  cfg.ProbeAddr,
		LeaderElection:          cfg.LeaderElect,
		LeaderElectionID:        "registry-auth-operator.registryauth.dev",
		LeaderElectionNamespace: cfg.Namespace,
		// Release the lease on shutdown so a rollout hands over at once.
		LeaderElectionReleaseOnCancel: true,
	}
	mgr, err := ctrl.NewManager(restConfig, opts)
	if err != nil {
		log.Error(err, "creating manager")
		return 1
	}
	key, err := fingerprintKey(cfg, mgr)
	if err != nil {
		log.Error(err, "loading the password fingerprint key")
		return 1
	}
	if err := Setup(mgr, cfg, key); err != nil {
		log.Error(err, "setting up controllers")
		return 1
	}
	_ = mgr.AddHealthzCheck("healthz", healthz.Ping)
	_ = mgr.AddReadyzCheck("readyz", healthz.Ping)
	log.Info("starting manager", "authImage", cfg.Render.AuthImage, "registryImage", cfg.Render.RegistryImage, "dockerAuthImage", cfg.Render.DockerAuthImage, "clusterDomain", cfg.Render.ClusterDomain,
		"watchNamespaces", cfg.WatchNamespaces, "maxConcurrentReconciles", cfg.MaxConcurrentReconciles)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "manager stopped")
		return 1
	}
	return 0
}

// Scope is where the controllers work.
func (c *Config) Scope() controllers.Scope {
	return controllers.Scope{WatchNamespaces: c.WatchNamespaces, OperatorNamespace: c.Namespace, NodeTrust: c.NodeTrustConfig != ""}
}

// fingerprintKey loads (or makes) the key of password fingerprints; without
// a namespace to keep it in there is none, and a restart re-checks with bcrypt.
func fingerprintKey(cfg *Config, mgr ctrl.Manager) ([]byte, error) {
	if cfg.FingerprintKeySecret == "" || cfg.Namespace == "" {
		ctrl.Log.WithName("setup").Info("no password fingerprint key: a restart re-checks every password with bcrypt",
			"namespace", cfg.Namespace, "secret", cfg.FingerprintKeySecret)
		return nil, nil
	}
	// The cache is not running yet: read (and create) through a direct client.
	c, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return passwords.LoadKey(ctx, c, cfg.Namespace, cfg.FingerprintKeySecret)
}

// Setup registers the controllers with mgr; key keys password fingerprints.
func Setup(mgr ctrl.Manager, cfg *Config, key []byte) error {
	applier := &apply.Applier{Client: mgr.GetClient(), Reader: mgr.GetClient()}
	if cfg.NodeTrustConfig != "" {
		nt := &controllers.NodeTrustReconciler{
			Client: mgr.GetClient(), Applier: applier, Namespace: cfg.Namespace, Name: cfg.NodeTrustConfig,
		}
		if err := nt.SetupWithManager(mgr); err != nil {
			return err
		}
	}
	pa := &controllers.PullAccessReconciler{
		Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("registry-auth-operator"), Now: time.Now,
		Namespaces: cfg.Scope().WatchNamespaces, Prober: selfcheck.HTTP{},
	}
	if err := pa.SetupWithManager(mgr); err != nil {
		return err
	}
	r := &controllers.RegistryAuthReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Scheme:    mgr.GetScheme(),
		Applier:   applier,
		Recorder:  mgr.GetEventRecorder("registry-auth-operator"),
		Options:   cfg.Render,
		Hasher:    &passwords.Hasher{Key: key},
		Checker:   selfcheck.HTTP{},
		Now:       time.Now,
	}
	if err := r.SetupWithManager(mgr, controllers.SetupOptions{Scope: cfg.Scope(), MaxConcurrentReconciles: cfg.MaxConcurrentReconciles}); err != nil {
		return err
	}
	return (&controllers.AuthSyncReconciler{Client: mgr.GetClient(), Pods: mgr.GetAPIReader()}).SetupWithManager(mgr)
}
