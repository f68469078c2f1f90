package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env is the cluster hack/e2e.sh brought up.
type env struct {
	kubeconfig, netns, certsD, images, kubectl, helm, timings string
	kubeCache                                                 string
	repo                                                      string
	// The kubelet's credential provider: where the node-trust agent
	// installs it, and the one registry address and audience the kubelet
	// was started with (hack/cluster/lib.sh).
	providerDir, identityIP, identityAudience string
}

func loadEnv(t *testing.T) *env {
	t.Helper()
	e := &env{
		kubeconfig: os.Getenv("E2E_KUBECONFIG"),
		netns:      os.Getenv("E2E_NETNS"),
		certsD:     os.Getenv("E2E_CERTS_D"),
		images:     os.Getenv("E2E_IMAGES"),
		kubectl:    os.Getenv("E2E_KUBECTL"),
		helm:       os.Getenv("E2E_HELM"),
		timings:    os.Getenv("E2E_TIMINGS"),
		kubeCache:  os.Getenv("E2E_KUBE_CACHE"),

		providerDir:      os.Getenv("E2E_CREDENTIAL_PROVIDER_DIR"),
		identityIP:       os.Getenv("E2E_IDENTITY_IP"),
		identityAudience: os.Getenv("E2E_IDENTITY_AUDIENCE"),
	}
	if e.kubeconfig == "" {
		t.Skip("no local cluster: run `make test-e2e` (hack/e2e.sh brings up the cluster these tests need)")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	e.repo = root
	return e
}

// exe runs a command with optional stdin; stdout is returned, stderr is
// folded into the error. Secrets only ever travel on stdin.
func exe(ctx context.Context, stdin string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func ctx2m() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Minute)
}

// kubeFlags point kubectl at the cluster and keep its cache out of ~/.kube.
func (e *env) kubeFlags() []string {
	f := []string{"--kubeconfig", e.kubeconfig}
	if e.kubeCache != "" {
		f = append(f, "--cache-dir", e.kubeCache)
	}
	return f
}

// kube runs kubectl; kubeOK fails the test on error.
func (e *env) kube(stdin string, args ...string) (string, error) {
	ctx, cancel := ctx2m()
	defer cancel()
	return exe(ctx, stdin, e.kubectl, append(e.kubeFlags(), args...)...)
}

func (e *env) kubeOK(t *testing.T, args ...string) string {
	t.Helper()
	out, err := e.kube("", args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// apply sends one object (any JSON-marshalable value) to kubectl apply.
func (e *env) apply(t *testing.T, obj any) {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.kube(string(b), "apply", "-f", "-"); err != nil {
		t.Fatal(err)
	}
}

// namespace creates a namespace unless it exists (E2E_KEEP reruns).
func (e *env) namespace(t *testing.T, name string) {
	t.Helper()
	e.apply(t, map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}})
}

// jsonpath reads one field of an object.
func (e *env) jsonpath(ns, obj, path string) (string, error) {
	return e.kube("", "-n", ns, "get", obj, "-o", "jsonpath="+path)
}

// inNode runs a command in the node's network namespace, as a process on
// the node would (kube-proxy's rules, no cluster DNS).
func (e *env) inNode(ctx context.Context, stdin, name string, args ...string) (string, error) {
	return exe(ctx, stdin, "nsenter", append([]string{"--net=/var/run/netns/" + e.netns, name}, args...)...)
}

// eventually polls f until it returns nil or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = f(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(time.Second)
	}
}

// record appends a measured duration to the timings file hack/e2e.sh prints
// (figures for docs/benchmarks.md; never asserted on).
func (e *env) record(t *testing.T, what string, d time.Duration) {
	t.Logf("timing: %s: %.1fs", what, d.Seconds())
	if e.timings == "" {
		return
	}
	f, err := os.OpenFile(e.timings, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Log(err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s: %.1fs\n", what, d.Seconds())
}

func (e *env) imageRef(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.images, name+".ref"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// describe dumps what helps when a wait fails.
func (e *env) describe(t *testing.T, ns string, objs ...string) {
	t.Helper()
	for _, o := range objs {
		out, _ := e.kube("", "-n", ns, "describe", o)
		t.Logf("kubectl describe %s:\n%s", o, out)
	}
	ev, _ := e.kube("", "-n", ns, "get", "events", "--sort-by=.lastTimestamp")
	t.Logf("events in %s:\n%s", ns, ev)
}
