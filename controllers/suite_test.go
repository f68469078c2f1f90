package controllers

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/registry-auth-operator/registry-auth-operator/internal/apply"
	"github.com/registry-auth-operator/registry-auth-operator/internal/passwords"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// The suite runs one real kube-apiserver + etcd (built by hack/build-tools.sh
// envtest; make test-envtest sets KUBEBUILDER_ASSETS) and one manager whose
// requests are counted, so tests can assert what a reconcile sends.
var (
	k8s        client.Client // the tests' own client: not counted
	testConfig *rest.Config
	counter    = &requestCounter{}
	reconc     = &countingReconciler{}
	testOpts   render.Options
)

const (
	operatorNamespace  = "registry-auth-system"
	nodeTrustConfigMap = "registry-auth-node-trust"
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run `make test-envtest` (it builds kube-apiserver and etcd once and caches them)")
		return 1
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(zapcore.Level(zapLevel()))))
	start := time.Now()
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting envtest:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	fmt.Fprintf(os.Stderr, "envtest: control plane up in %s\n", time.Since(start).Round(time.Millisecond))

	testConfig = cfg
	scheme := NewScheme()
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	counted := rest.CopyConfig(cfg)
	counted.Wrap(counter.wrap)
	mgr, err := ctrl.NewManager(counted, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	testOpts = render.DefaultOptions()
	testOpts.AuthImage = "registry-auth-operator:test"
	r := &RegistryAuthReconciler{
		Client:   mgr.GetClient(),
		Scheme:   scheme,
		Applier:  &apply.Applier{Client: mgr.GetClient(), Reader: mgr.GetClient()},
		Recorder: mgr.GetEventRecorder("registry-auth-operator"),
		Options:  testOpts,
		Hasher:   &passwords.Hasher{Cost: 4},
		Now:      time.Now,
	}
	reconc.inner = r
	if err := r.setupWith(mgr, reconc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	nt := &NodeTrustReconciler{Client: mgr.GetClient(), Applier: r.Applier, Namespace: operatorNamespace, Name: nodeTrustConfigMap}
	if err := nt.SetupWithManager(mgr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	code := m.Run()
	cancel()
	<-done
	return code
}

func zapLevel() int8 {
	if os.Getenv("TEST_VERBOSE") != "" {
		return -1
	}
	return 1 // warnings and errors only
}

// requestCounter counts the manager's requests by HTTP method.
type requestCounter struct {
	mu       sync.Mutex
	byMethod map[string]int
	log      []string
}

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		c.mu.Lock()
		if c.byMethod == nil {
			c.byMethod = map[string]int{}
		}
		c.byMethod[req.Method]++
		if req.Method != http.MethodGet {
			c.log = append(c.log, req.Method+" "+req.URL.Path)
		}
		c.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

// snapshot returns the counts so far and the non-GET requests.
func (c *requestCounter) snapshot() (map[string]int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]int{}
	for k, v := range c.byMethod {
		m[k] = v
	}
	return m, append([]string(nil), c.log...)
}

// mutating counts PATCH, PUT, POST and DELETE since a snapshot.
func mutatingSince(before map[string]int) (int, map[string]int) {
	now, _ := counter.snapshot()
	diff := map[string]int{}
	n := 0
	for _, m := range []string{http.MethodPatch, http.MethodPut, http.MethodPost, http.MethodDelete} {
		if d := now[m] - before[m]; d > 0 {
			diff[m] = d
			n += d
		}
	}
	return n, diff
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// countingReconciler counts finished reconciles, so a test can wait for the
// reconcile its change triggered.
type countingReconciler struct {
	inner *RegistryAuthReconciler
	n     atomic.Int64
}

func (c *countingReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	defer c.n.Add(1)
	return c.inner.Reconcile(ctx, req)
}
