package manager

import (
	"fmt"
	"os"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/registry-auth-operator/registry-auth-operator/controllers"
	"github.com/registry-auth-operator/registry-auth-operator/internal/apply"
	"github.com/registry-auth-operator/registry-auth-operator/internal/passwords"
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

	opts := ctrl.Options{
		Scheme:                  controllers.NewScheme(),
		Metrics:                 metricsserver.Options{BindAddress: cfg.MetricsAddr},
		HealthProbeBindAddress:  cfg.ProbeAddr,
		LeaderElection:          cfg.LeaderElect,
		LeaderElectionID:        "registry-auth-operator.registryauth.dev",
		LeaderElectionNamespace: cfg.Namespace,
		// Release the lease on shutdown so a rollout hands over at once.
		LeaderElectionReleaseOnCancel: true,
	}
	if cfg.WatchNamespaces != "" {
		opts.Cache.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range strings.Split(cfg.WatchNamespaces, ",") {
			opts.Cache.DefaultNamespaces[strings.TrimSpace(ns)] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), opts)
	if err != nil {
		log.Error(err, "creating manager")
		return 1
	}
	if err := Setup(mgr, cfg); err != nil {
		log.Error(err, "setting up controllers")
		return 1
	}
	_ = mgr.AddHealthzCheck("healthz", healthz.Ping)
	_ = mgr.AddReadyzCheck("readyz", healthz.Ping)
	log.Info("starting manager", "authImage", cfg.Render.AuthImage, "clusterDomain", cfg.Render.ClusterDomain)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "manager stopped")
		return 1
	}
	return 0
}

// Setup registers the controllers with mgr.
func Setup(mgr ctrl.Manager, cfg *Config) error {
	applier := &apply.Applier{Client: mgr.GetClient(), Reader: mgr.GetClient()}
	if cfg.NodeTrustConfig != "" {
		nt := &controllers.NodeTrustReconciler{
			Client: mgr.GetClient(), Applier: applier, Namespace: cfg.Namespace, Name: cfg.NodeTrustConfig,
		}
		if err := nt.SetupWithManager(mgr); err != nil {
			return err
		}
	}
	r := &controllers.RegistryAuthReconciler{
		Client:   mgr.GetClient(),
		Scheme:   mgr.GetScheme(),
		Applier:  applier,
		Recorder: mgr.GetEventRecorder("registry-auth-operator"),
		Options:  cfg.Render,
		Hasher:   &passwords.Hasher{},
		Now:      time.Now,
	}
	return r.SetupWithManager(mgr)
}
