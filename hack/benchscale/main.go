// Command benchscale measures the operator at scale (make bench-scale): the
// operator binary runs as its own process against envtest (a real
// kube-apiserver and etcd), and for each N it prints how long N registries
// take to settle, the operator's memory (VmRSS, VmHWM) and CPU seconds, and
// the API requests by verb; then the noise step (unrelated Secrets and
// ConfigMaps), the restart step, the pull-access step (one registry, 1000
// selected namespaces: pullaccess.go) and the SIGKILL series. Figures go to
// docs/benchmarks.md with the machine's load; nothing here asserts a time.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/registry-auth-operator/registry-auth-operator/controllers"
)

type options struct {
	operator      string
	sizes         []int
	noiseSecrets  int
	noiseCMs      int
	kills         int
	killSize      int
	concurrency   int
	settleTimeout time.Duration
	nodeTrust     bool
	pull          int
}

func main() {
	var o options
	var sizes string
	flag.StringVar(&o.operator, "operator", "bin/registry-auth-operator", "operator binary")
	flag.StringVar(&sizes, "n", "100,500,1000", "numbers of registries, one run each (\"\" skips them)")
	flag.IntVar(&o.pull, "pull", 1000, "namespaces of the pull-access step (0 skips it)")
	flag.IntVar(&o.noiseSecrets, "noise-secrets", 10000, "unrelated Secrets of the noise step (0 skips it)")
	flag.IntVar(&o.noiseCMs, "noise-configmaps", 5000, "unrelated ConfigMaps of the noise step")
	flag.IntVar(&o.kills, "kills", 20, "SIGKILLs of the kill series (0 skips it)")
	flag.IntVar(&o.killSize, "kill-n", 100, "registries of the kill series")
	flag.IntVar(&o.concurrency, "max-concurrent-reconciles", 4, "passed to the operator")
	flag.BoolVar(&o.nodeTrust, "node-trust", true, "run the operator with the node-trust ConfigMap")
	flag.DurationVar(&o.settleTimeout, "settle-timeout", 15*time.Minute, "give up waiting for a settle after this")
	flag.Parse()
	for _, s := range strings.Split(sizes, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("-n %q: %v", sizes, err))
		}
		o.sizes = append(o.sizes, n)
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fatal(fmt.Errorf("KUBEBUILDER_ASSETS is not set: run make bench-scale"))
	}
	bin, err := filepath.Abs(o.operator)
	if err != nil {
		fatal(err)
	}
	o.operator = bin
	fmt.Printf("benchscale: %s, max-concurrent-reconciles=%d, node trust %v, load at start: %s\n", time.Now().Format(time.RFC3339), o.concurrency, o.nodeTrust, loadavg())
	for _, n := range o.sizes {
		if err := runSize(o, n, true); err != nil {
			fatal(err)
		}
	}
	if o.pull > 0 {
		if err := runPull(o, o.pull); err != nil {
			fatal(err)
		}
	}
	if o.kills > 0 {
		if err := runKills(o); err != nil {
			fatal(err)
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "benchscale:", err)
	os.Exit(1)
}

// cluster is one envtest control plane with the bench's client.
type cluster struct {
	env  *envtest.Environment
	c    client.Client
	kube *kubernetes.Clientset
	// kubeconfig for the operator process.
	kubeconfig string
	dir        string
	own        *ownRequests
}

func startCluster() (*cluster, error) {
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	// envtest's default Service range (/24) holds 254 Services: too few.
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.0.0.0/16")
	cfg, err := env.Start()
	if err != nil {
		return nil, err
	}
	cl := &cluster{env: env, own: &ownRequests{}}
	cfg.QPS, cfg.Burst = -1, 0
	counted := *cfg
	counted.Wrap(cl.own.wrap)
	if cl.c, err = client.New(&counted, client.Options{Scheme: controllers.NewScheme()}); err != nil {
		return nil, err
	}
	if cl.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	user, err := env.AddUser(envtest.User{Name: "operator", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return nil, err
	}
	if cl.dir, err = os.MkdirTemp("", "benchscale-"); err != nil {
		return nil, err
	}
	cl.kubeconfig = filepath.Join(cl.dir, "kubeconfig")
	return cl, os.WriteFile(cl.kubeconfig, kc, 0o600)
}

func (cl *cluster) stop() {
	_ = cl.env.Stop()
	_ = os.RemoveAll(cl.dir)
}

// runSize: N registries created → settled; with noise, the noise step and
// the restart step after.
func runSize(o options, n int, steps bool) error {
	ctx := context.Background()
	cl, op, err := bringUp(ctx, o)
	if err != nil {
		return err
	}
	defer cl.stop()
	defer op.stop()

	ph := cl.beginPhase(ctx, op)
	if err := cl.createRegistries(ctx, 0, n); err != nil {
		return err
	}
	if err := cl.waitSettled(ctx, op, n, o.settleTimeout); err != nil {
		return err
	}
	ph.report(ctx, fmt.Sprintf("N=%d created -> settled", n), n)

	if !steps {
		return nil
	}
	if o.noiseSecrets > 0 || o.noiseCMs > 0 {
		before := op.reconciles()
		ph = cl.beginPhase(ctx, op)
		if err := cl.createNoise(ctx, o.noiseSecrets, o.noiseCMs); err != nil {
			return err
		}
		if err := cl.waitSettled(ctx, op, n, o.settleTimeout); err != nil {
			return err
		}
		time.Sleep(5 * time.Second) // let the informers take in the last events
		ph.report(ctx, fmt.Sprintf("N=%d + %d unrelated Secrets, %d ConfigMaps", n, o.noiseSecrets, o.noiseCMs), n)
		fmt.Printf("  reconciles triggered by the noise: %.0f\n", op.reconciles()-before)
	}

	// Restart: SIGTERM, a fresh process, until it reconciled every registry.
	op.stop()
	if op, err = startOperator(o, cl); err != nil {
		return err
	}
	defer op.stop()
	ph = cl.beginPhase(ctx, op)
	if err := op.waitUp(ctx); err != nil {
		return err
	}
	if err := cl.waitRestarted(ctx, op, n, o.settleTimeout); err != nil {
		return err
	}
	ph.report(ctx, fmt.Sprintf("N=%d restart, nothing changed", n), n)
	return nil
}

// bringUp starts a control plane with the bench's namespaces and the operator.
func bringUp(ctx context.Context, o options) (*cluster, *operator, error) {
	cl, err := startCluster()
	if err != nil {
		return nil, nil, err
	}
	if err := cl.setup(ctx); err != nil {
		cl.stop()
		return nil, nil, err
	}
	op, err := startOperator(o, cl)
	if err == nil {
		err = op.waitUp(ctx)
	}
	if err != nil {
		cl.stop()
		return nil, nil, err
	}
	return cl, op, nil
}
