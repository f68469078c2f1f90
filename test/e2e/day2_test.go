package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The day-2 test: what an admin's mistakes or cleanups do to a registry
// that clients already use. (1) Deleting the Service: the node URL stays the
// same and clients keep working against it (the time until they do is
// measured). (2) Deleting the RegistryAuth with the default deletion
// policy: the claim and the data stay, and a new RegistryAuth of the same
// name serves the images pushed before.
const (
	nsDay2   = "e2e-day2"
	raDay2   = "keep"
	day2Pass = "d4y-two"
	day2PV   = "e2e-day2-blobs"
	day2Repo = "day2/probe"
)

func TestDay2ServiceAndData(t *testing.T) {
	e := loadEnv(t)
	(&journey{env: e, dir: t.TempDir()}).helmInstall(t)
	d := setUpDay2(t, e)
	d.waitReady(t)
	host, roots := d.endpoint(t)
	ref, err := name.ParseReference(host + "/" + day2Repo + ":v1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(128<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, d.opts(roots)...); err != nil {
		t.Fatalf("pushing the probe image: %v", err)
	}

	t.Run("Service deleted: same node URL, clients keep working", func(t *testing.T) {
		svcUID := e.kubeOK(t, "-n", nsDay2, "get", "service", raDay2, "-o", "jsonpath={.metadata.uid}")
		p := startPulls(ref, d.opts(roots))
		defer p.stop()
		eventually(t, time.Minute, "pulls before the deletion", func() error {
			if ok, _ := p.since(time.Time{}); ok < 3 {
				return fmt.Errorf("%d pulls so far", ok)
			}
			return nil
		})
		e.kubeOK(t, "-n", nsDay2, "delete", "service", raDay2, "--wait=true")
		gone := time.Now()
		// Clients work again when 10 s of consecutive pulls, all started
		// after the deletion, succeeded.
		eventually(t, 3*time.Minute, "clients pulling again after the Service's deletion", func() error {
			ok, fails := p.since(gone)
			last := gone
			if len(fails) > 0 {
				last = fails[len(fails)-1].end
			}
			if ok == 0 || time.Since(last) < 10*time.Second {
				return fmt.Errorf("%d pulls ok, %d failed since the deletion", ok, len(fails))
			}
			return nil
		})
		ok, fails := p.since(gone)
		var window time.Duration
		if len(fails) > 0 {
			window = fails[len(fails)-1].end.Sub(gone)
		}
		e.record(t, fmt.Sprintf("Service deleted: clients failed until (%d of %d pulls failed)", len(fails), ok+len(fails)), window)
		newUID := e.kubeOK(t, "-n", nsDay2, "get", "service", raDay2, "-o", "jsonpath={.metadata.uid}")
		if newUID == svcUID {
			t.Fatal("the Service was not recreated: the test proves nothing")
		}
		if node := e.kubeOK(t, "-n", nsDay2, "get", "registryauth", raDay2, "-o", "jsonpath={.status.urls.node}"); node != "https://"+host {
			t.Errorf("status.urls.node moved from https://%s to %s", host, node)
		}
		for _, f := range fails {
			if strings.Contains(f.err, "x509") || strings.Contains(f.err, "certificate") {
				t.Errorf("a client saw a certificate error: the recreated address was not covered: %s", f.err)
			}
		}
		for i, f := range fails[:min(3, len(fails))] {
			t.Logf("failure %d at +%.1fs: %s", i, f.end.Sub(gone).Seconds(), f.err)
		}
	})

	t.Run("RegistryAuth deleted and recreated: claim and images kept", func(t *testing.T) {
		claimUID := e.kubeOK(t, "-n", nsDay2, "get", "pvc", raDay2+"-data", "-o", "jsonpath={.metadata.uid}")
		e.kubeOK(t, "-n", nsDay2, "delete", "registryauth", raDay2, "--wait=true", "--timeout=2m")
		// The garbage collector removes what the RegistryAuth owned.
		eventually(t, 3*time.Minute, "owned objects collected", func() error {
			out, _ := e.kube("", "-n", nsDay2, "get", "deployment,service,secret", "-l", "app.kubernetes.io/instance="+raDay2, "-o", "name")
			if strings.TrimSpace(out) != "" {
				return fmt.Errorf("still there: %s", strings.Fields(out))
			}
			return nil
		})
		if uid, err := e.kube("", "-n", nsDay2, "get", "pvc", raDay2+"-data", "-o", "jsonpath={.metadata.uid}"); err != nil || uid != claimUID {
			t.Fatalf("the claim did not outlive its RegistryAuth (uid %q, was %q): %v", uid, claimUID, err)
		}
		if phase := e.kubeOK(t, "-n", nsDay2, "get", "pvc", raDay2+"-data", "-o", "jsonpath={.status.phase}"); phase != "Bound" {
			t.Errorf("the kept claim is %s", phase)
		}
		start := time.Now()
		d.applyRegistryAuth(t)
		d.waitReady(t)
		e.record(t, "RegistryAuth recreated over a retained claim: to Ready", time.Since(start))
		if uid := e.kubeOK(t, "-n", nsDay2, "get", "pvc", raDay2+"-data", "-o", "jsonpath={.metadata.uid}"); uid != claimUID {
			t.Fatal("the claim was replaced, not adopted")
		}
		// A new CA and (the status being new) possibly a new address: read both again.
		host2, roots2 := d.endpoint(t)
		ref2, err := name.ParseReference(host2 + "/" + day2Repo + ":v1")
		if err != nil {
			t.Fatal(err)
		}
		// Ready may come a moment before kube-proxy sends the new address to
		// the new pod (a terminating old pod, with the old certificate, can
		// still be the only serving endpoint): clients retry, so does this.
		var got v1.Image
		var tries []string
		eventually(t, 2*time.Minute, "pulling the image pushed before the RegistryAuth was deleted", func() error {
			if got, err = remote.Image(ref2, d.opts(roots2)...); err != nil {
				tries = append(tries, err.Error())
			}
			return err
		})
		t.Logf("%d failed pulls after Ready, e.g. %v", len(tries), tries[:min(2, len(tries))])
		if gd, err := got.Digest(); err != nil || gd != digest {
			t.Fatalf("digest %v (%v), pushed %v", gd, err, digest)
		}
		layers, err := got.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				t.Fatalf("layer of the old image: %v", err)
			}
			rc.Close()
		}
	})
}

type day2 struct{ e *env }

func setUpDay2(t *testing.T, e *env) *day2 {
	t.Helper()
	// A static hostPath volume, prepared as docs/api.md says: owned by the
	// registry's uid/gid 65532 (hostPath gets no fsGroup).
	dir := filepath.Join(t.TempDir(), "blobs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65532, 65532); err != nil {
		t.Fatal(err)
	}
	e.freshNamespaceWithVolume(t, nsDay2, day2PV, raDay2+"-data", "ReadWriteOnce", dir)
	e.apply(t, map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"namespace": nsDay2, "name": "keep-admin"},
		"stringData": map[string]any{"password": day2Pass},
	})
	d := &day2{e: e}
	d.applyRegistryAuth(t)
	return d
}

// applyRegistryAuth applies the registry with the default deletion policy.
func (d *day2) applyRegistryAuth(t *testing.T) {
	t.Helper()
	d.e.apply(t, map[string]any{
		"apiVersion": "registryauth.dev/v1alpha1", "kind": "RegistryAuth",
		"metadata": map[string]any{"namespace": nsDay2, "name": raDay2},
		"spec": map[string]any{
			"registry": map[string]any{"storage": map[string]any{"persistentVolumeClaim": map[string]any{
				"size": "1Gi", "storageClassName": "", "volumeName": day2PV,
			}}},
			"auth": map[string]any{
				"users": []any{map[string]any{"name": "admin", "passwordSecretRef": map[string]any{"name": "keep-admin"}}},
				"acl":   []any{map[string]any{"match": map[string]any{"account": "admin"}, "actions": []string{"*"}}},
			},
		},
	})
}

func (d *day2) waitReady(t *testing.T) {
	t.Helper()
	eventually(t, 5*time.Minute, "day-2 registry Ready", func() error {
		s, _ := d.e.jsonpath(nsDay2, "registryauth/"+raDay2, `{.status.conditions[?(@.type=="Ready")].status}`)
		if s != "True" {
			return fmt.Errorf("Ready=%q", s)
		}
		return nil
	})
}

// endpoint returns the node address and the CA from the CA bundle ConfigMap,
// as a client outside the cluster gets them.
func (d *day2) endpoint(t *testing.T) (string, *x509.CertPool) {
	t.Helper()
	return endpointOf(t, d.e, nsDay2, raDay2)
}

// endpointOf reads the node address and the trusted CAs of a RegistryAuth.
func endpointOf(t *testing.T, e *env, ns, ra string) (string, *x509.CertPool) {
	t.Helper()
	node := e.kubeOK(t, "-n", ns, "get", "registryauth", ra, "-o", "jsonpath={.status.urls.node}")
	bundle := e.kubeOK(t, "-n", ns, "get", "registryauth", ra, "-o", "jsonpath={.status.caConfigMapName}")
	if bundle == "" || node == "" {
		t.Fatalf("status: urls.node %q, caConfigMapName %q", node, bundle)
	}
	ca := e.kubeOK(t, "-n", ns, "get", "configmap", bundle, "-o", `jsonpath={.data.ca\.crt}`)
	if strings.Contains(ca, "PRIVATE KEY") {
		t.Fatal("the CA bundle holds a private key")
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(ca)) {
		t.Fatalf("no certificate in ConfigMap %s", bundle)
	}
	return strings.TrimPrefix(node, "https://"), roots
}

// opts: admin's credentials, a fresh TLS connection per request (each checks
// the certificate served at that moment).
func (d *day2) opts(roots *x509.CertPool) []remote.Option {
	return clientOpts(roots, "admin", day2Pass)
}

func clientOpts(roots *x509.CertPool, user, password string) []remote.Option {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true,
	}
	return []remote.Option{remote.WithAuth(&authn.Basic{Username: user, Password: password}), remote.WithTransport(tr)}
}

// pulls is one client pulling the manifest in a loop (HEAD, token flow
// included), recording when each attempt started and ended.
type pulls struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	results []pullResult
}

type pullResult struct {
	start, end time.Time
	err        string
}

func startPulls(ref name.Reference, opts []remote.Option) *pulls {
	ctx, cancel := context.WithCancel(context.Background())
	p := &pulls{cancel: cancel}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for ctx.Err() == nil {
			start := time.Now()
			// A short timeout: a request into the gap fails fast, so the
			// measured failure window is not one hung request long.
			rctx, rcancel := context.WithTimeout(ctx, 3*time.Second)
			_, err := remote.Head(ref, append(opts, remote.WithContext(rctx))...)
			rcancel()
			if ctx.Err() != nil {
				return
			}
			r := pullResult{start: start, end: time.Now()}
			if err != nil {
				r.err = err.Error()
			}
			p.mu.Lock()
			p.results = append(p.results, r)
			p.mu.Unlock()
			time.Sleep(200 * time.Millisecond)
		}
	}()
	return p
}

// since counts the pulls started after t that succeeded, and returns those
// that failed.
func (p *pulls) since(t time.Time) (int, []pullResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ok, fails := 0, []pullResult(nil)
	for _, r := range p.results {
		switch {
		case r.start.Before(t):
		case r.err == "":
			ok++
		default:
			fails = append(fails, r)
		}
	}
	return ok, fails
}

func (p *pulls) stop() {
	p.cancel()
	p.wg.Wait()
}
