package controllers

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/registry-auth-operator/registry-auth-operator/internal/apply"
	"github.com/registry-auth-operator/registry-auth-operator/internal/passwords"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
	"github.com/registry-auth-operator/registry-auth-operator/internal/selfcheck"
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
	cmCRDs := os.Getenv("CERT_MANAGER_CRDS")
	if cmCRDs == "" {
		fmt.Fprintln(os.Stderr, "CERT_MANAGER_CRDS is not set: run `make test-envtest`")
		return 1
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases"), cmCRDs},
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
	if k8s, err = client.New(cfg, client.Options{Scheme: NewScheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	for _, ns := range []string{operatorNamespace, "cert-manager"} {
		if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	tmp, err := os.MkdirTemp("", "registry-auth-envtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	cm, err := startCertManager(env, tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting cert-manager:", err)
		return 1
	}
	defer cm.stop()
	testOpts = render.DefaultOptions()
	testOpts.AuthImage = "registry-auth-operator:test"
	// Not the fallback registry:3, so tests see the flag's value arrive.
	testOpts.RegistryImage = "mirror.example/library/registry:3"
	// Short lifetimes, as the flags allow, so renewals are reachable.
	testOpts.SigningLifetime = time.Hour
	testOpts.ServingLifetime = 3 * time.Hour
	testOpts.ServingCAOverlap = 30 * time.Minute
	if err := startOperator(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	stopOperator()
	return code
}

// The operator under test: a manager with counted requests and a clock the
// tests can move forward (clockOffset). stopOperator + startOperator is an
// operator restart: nothing survives but what is in the cluster.
var (
	stopOperator func()
	clockOffset  atomic.Int64
	// The running operator's caches: tests assert on what they hold.
	operatorCache, secretMetaCache cache.Cache
)

func testNow() time.Time { return time.Now().Add(time.Duration(clockOffset.Load())) }

// advanceClock moves the operator's clock forward.
func advanceClock(d time.Duration) { clockOffset.Add(int64(d)) }

func startOperator() error {
	counted := rest.CopyConfig(testConfig)
	counted.Wrap(counter.wrap)
	mgr, err := ctrl.NewManager(counted, ctrl.Options{
		Scheme:  NewScheme(),
		Cache:   CacheOptions(Scope{OperatorNamespace: operatorNamespace, NodeTrust: true}),
		Metrics: metricsserver.Options{BindAddress: "0"},
		// Several managers in one process (after a restart) must not clash
		// on controller names in the metrics registry.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return err
	}
	key, err := passwords.LoadKey(context.Background(), k8s, operatorNamespace, "password-fingerprint-key")
	if err != nil {
		return err
	}
	r := &RegistryAuthReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Scheme:    mgr.GetScheme(),
		Applier:   &apply.Applier{Client: mgr.GetClient(), Reader: mgr.GetClient()},
		Recorder:  mgr.GetEventRecorder("registry-auth-operator"),
		Options:   testOpts,
		Hasher:    &passwords.Hasher{Cost: 4, Key: key},
		Checker:   envtestStandInChecker{},
		Now:       testNow,
	}
	reconc.inner.Store(r)
	meta, err := r.setupWith(mgr, reconc, SetupOptions{MaxConcurrentReconciles: 4})
	if err != nil {
		return err
	}
	operatorCache, secretMetaCache = mgr.GetCache(), meta
	pullRec = &PullAccessReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("registry-auth-operator"),
		Now: testNow, Settle: pullSettleNow, Prober: pullProber, reconciled: func() { pullReconciles.Add(1) }}
	if err := pullRec.SetupWithManager(mgr); err != nil {
		return err
	}
	nt := &NodeTrustReconciler{Client: mgr.GetClient(), Applier: r.Applier, Namespace: operatorNamespace, Name: nodeTrustConfigMap}
	if err := nt.SetupWithManager(mgr); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	stopOperator = func() { cancel(); <-done }
	return nil
}

// restartOperator stops the operator and starts a fresh one.
func restartOperator(t *testing.T) {
	t.Helper()
	stopOperator()
	if err := startOperator(); err != nil {
		t.Fatal(err)
	}
}

func zapLevel() int8 {
	if os.Getenv("TEST_VERBOSE") != "" {
		return -1
	}
	return 1 // warnings and errors only
}

// requestCounter records the manager's mutating requests (method and path).
type requestCounter struct {
	mu  sync.Mutex
	log []string
}

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		switch req.Method {
		case http.MethodPatch, http.MethodPut, http.MethodPost, http.MethodDelete:
			c.mu.Lock()
			c.log = append(c.log, req.Method+" "+req.URL.Path)
			c.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

// mark returns a position in the log.
func (c *requestCounter) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.log)
}

// writesIn returns the mutating requests since mark that touched namespace
// ns (other tests' objects are not this test's business).
func (c *requestCounter) writesIn(mark int, ns string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.log[mark:] {
		if strings.Contains(l, "/namespaces/"+ns+"/") {
			out = append(out, l)
		}
	}
	return out
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// countingReconciler counts finished reconciles, so a test can wait for the
// reconcile its change triggered.
type countingReconciler struct {
	inner atomic.Pointer[RegistryAuthReconciler]
	n     atomic.Int64
	// last is the value of n when each request last finished.
	last sync.Map
}

func (c *countingReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	defer func() { c.last.Store(req.NamespacedName, c.n.Add(1)) }()
	return c.inner.Load().Reconcile(ctx, req)
}

// envtestStandInChecker stands in for the self-check: envtest runs no
// registry to check, so it reports Verified for every registry whose pods
// the tests marked available. test/dataplane checks the real one.
// A test may set the result for the registries of one namespace.
type envtestStandInChecker struct{}

// standInResults maps a namespace to the result the stand-in reports there.
var standInResults sync.Map

func (envtestStandInChecker) Check(_ context.Context, t selfcheck.Target) selfcheck.Result {
	for ns, res := range standInResults.Range {
		if strings.Contains(t.URL, "."+ns.(string)+".svc") {
			return res.(selfcheck.Result)
		}
	}
	return selfcheck.Result{OK: true, Reason: selfcheck.ReasonVerified, Message: "stand-in: envtest runs no registry to check"}
}
