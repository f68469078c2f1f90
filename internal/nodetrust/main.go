package nodetrust

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Main runs the agent: `node-trust --configmap=NS/NAME --host-dir=DIR`.
func Main(args []string) int {
	fs := flag.NewFlagSet("node-trust", flag.ContinueOnError)
	cmRef := fs.String("configmap", "", "NAMESPACE/NAME of the trust ConfigMap the operator writes")
	hostDir := fs.String("host-dir", "/etc/containerd/certs.d", "containerd certs.d directory of the node (mounted from the host)")
	probeAddr := fs.String("health-probe-bind-address", ":8081", "address of /healthz and /readyz (empty: off)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig (default: in-cluster)")
	providerDir := fs.String("credential-provider-dir", "", "install this binary as the kubelet's credential provider into this directory (the node's --image-credential-provider-bin-dir, mounted from the host; empty: do not)")
	providerName := fs.String("credential-provider-name", DefaultProviderName, "file name of the installed credential provider (providers[].name in the kubelet's CredentialProviderConfig)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ns, name, ok := strings.Cut(*cmRef, "/")
	if !ok || ns == "" || name == "" {
		log.Error("--configmap must be NAMESPACE/NAME", "value", *cmRef)
		return 2
	}
	if *providerDir != "" {
		// Once at start: the image is the binary, so a new binary means a
		// new pod. Before the trust loop, so readiness implies the provider.
		self, err := os.Executable()
		if err == nil {
			var changed bool
			changed, err = InstallProvider(self, *providerDir, *providerName)
			if err == nil {
				log.Info("credential provider in place", "path", *providerDir+"/"+*providerName, "replaced", changed)
			}
		}
		if err != nil {
			log.Error("installing the credential provider failed", "dir", *providerDir, "error", err)
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, &Watcher{Namespace: ns, Name: name}, *hostDir, *probeAddr, *kubeconfig); err != nil {
		log.Error("node-trust failed", "error", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, log *slog.Logger, w *Watcher, hostDir, probeAddr, kubeconfig string) error {
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	var ready atomic.Bool
	if probeAddr != "" {
		go serveProbes(ctx, log, probeAddr, &ready)
	}
	if err := w.Start(ctx, cs); err != nil {
		return err
	}
	owner := w.Namespace + "/" + w.Name
	log.Info("watching", "configmap", owner, "hostDir", hostDir)
	tick := time.NewTicker(resyncEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.Changed():
		case <-tick.C:
		}
		if err := syncOnce(log, w, hostDir, owner); err != nil {
			log.Error("sync failed", "error", err)
			continue
		}
		ready.Store(true)
	}
}

func syncOnce(log *slog.Logger, w *Watcher, hostDir, owner string) error {
	entries, err := w.Entries()
	if err != nil {
		return err
	}
	res, err := Sync(hostDir, owner, entries)
	for key, why := range res.Skipped {
		log.Warn("entry skipped", "host", key, "reason", why)
	}
	if len(res.Written)+len(res.Removed) > 0 {
		log.Info("trust updated", "written", res.Written, "removed", res.Removed, "entries", len(entries))
	}
	return err
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	return rest.InClusterConfig()
}

// serveProbes: /healthz is the process being alive, /readyz is the first
// successful sync having happened.
func serveProbes(ctx context.Context, log *slog.Logger, addr string, ready *atomic.Bool) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "not synced yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("probe server", "error", err)
	}
}
