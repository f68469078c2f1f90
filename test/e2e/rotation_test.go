package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The rotation test: a registry with two replicas on shared storage serves
// continuous pulls and token requests from several clients while (a) its
// serving certificate renews, (b) its signing key rotates and (c) its token
// CA rotates in three steps with two rolling restarts. Every request is
// counted; none may fail. The figures go to docs/benchmarks.md.
const (
	nsRotation   = "e2e-rotation"
	raRotation   = "rot"
	rotationPass = "r0tate-me"
	rotationRepo = "rotation/probe"
	rotClients   = 4
	rotationPV   = "e2e-rotation-blobs"
)

func TestRotationUnderTraffic(t *testing.T) {
	e := loadEnv(t)
	(&journey{env: e, dir: t.TempDir()}).helmInstall(t)
	r := setUpRotationRegistry(t, e)
	load := startLoad(t, r)
	defer load.stop()

	phases := []struct {
		name       string
		annotation string
		done       func(t *testing.T, before rotationSnapshot) error
	}{
		{"serving certificate renewal", "registryauth.dev/renew-serving-certificate", func(t *testing.T, b rotationSnapshot) error {
			if s := r.snapshot(t); s.servingSerial == b.servingSerial {
				return fmt.Errorf("still serving certificate %s", s.servingSerial)
			}
			return nil
		}},
		{"signing key rotation", "registryauth.dev/rotate-signing-key", func(t *testing.T, b rotationSnapshot) error {
			if s := r.snapshot(t); s.signerSerial == b.signerSerial {
				return fmt.Errorf("tokens still signed by %s", s.signerSerial)
			}
			return nil
		}},
		{"token CA rotation (three steps)", "registryauth.dev/rotate-token-ca", func(t *testing.T, b rotationSnapshot) error {
			s := r.snapshot(t)
			switch {
			case s.signerIssuer == b.signerIssuer:
				return fmt.Errorf("tokens still chain to the old token CA")
			case s.bundleCerts != 1:
				return fmt.Errorf("bundle still holds %d CAs (old one not dropped yet)", s.bundleCerts)
			case s.rotationPhase != "":
				return fmt.Errorf("rotation phase %q", s.rotationPhase)
			}
			return r.ready()
		}},
	}
	for i, p := range phases {
		t.Run(p.name, func(t *testing.T) {
			before := r.snapshot(t)
			load.reset()
			start := time.Now()
			e.kubeOK(t, "-n", nsRotation, "annotate", "registryauth/"+raRotation, fmt.Sprintf("%s=e2e-%d", p.annotation, i), "--overwrite")
			eventually(t, 10*time.Minute, p.name, func() error { return p.done(t, before) })
			took := time.Since(start)
			time.Sleep(10 * time.Second) // keep the load on past the last step
			req, fails := load.counts()
			t.Logf("%s: %d requests during %.0fs, %d failed", p.name, req, took.Seconds(), len(fails))
			e.record(t, fmt.Sprintf("rotation %q: %d requests from %d clients, %d failed, rotation took", p.name, req, rotClients, len(fails)), took)
			if req == 0 {
				t.Fatal("no traffic ran during the rotation: the check proves nothing")
			}
			if len(fails) > 0 {
				t.Fatalf("%d of %d requests failed during the %s, e.g. %v", len(fails), req, p.name, fails[:min(5, len(fails))])
			}
		})
	}
}

// rotationRegistry is the registry under test and how to reach it.
type rotationRegistry struct {
	e       *env
	host    string // host:port of status.urls.node
	service string
	roots   *x509.CertPool
	image   name.Reference
}

func setUpRotationRegistry(t *testing.T, e *env) *rotationRegistry {
	t.Helper()
	// Shared storage so two replicas roll without losing the image: a static
	// hostPath volume on the single node, ReadWriteMany.
	dir := filepath.Join(t.TempDir(), "blobs")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // the registry runs as a non-root user
		t.Fatal(err)
	}
	e.freshNamespaceWithVolume(t, nsRotation, rotationPV, raRotation+"-data", "ReadWriteMany", dir)
	e.apply(t, map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"namespace": nsRotation, "name": "rot-admin"},
		"stringData": map[string]any{"password": rotationPass},
	})
	e.apply(t, map[string]any{
		"apiVersion": "registryauth.dev/v1alpha1", "kind": "RegistryAuth",
		"metadata": map[string]any{"namespace": nsRotation, "name": raRotation},
		"spec": map[string]any{
			"replicas": 2,
			"registry": map[string]any{"storage": map[string]any{"persistentVolumeClaim": map[string]any{
				"size": "1Gi", "storageClassName": "", "accessModes": []string{"ReadWriteMany"}, "volumeName": rotationPV,
			}}},
			"auth": map[string]any{
				"tokenTTL": "1m", // the shortest allowed: the old token CA may go after 1m + propagation
				"users":    []any{map[string]any{"name": "admin", "passwordSecretRef": map[string]any{"name": "rot-admin"}}},
				"acl":      []any{map[string]any{"match": map[string]any{"account": "admin"}, "actions": []string{"*"}}},
			},
		},
	})
	r := &rotationRegistry{e: e}
	eventually(t, 5*time.Minute, "rotation registry Ready", r.ready)
	node, _ := e.jsonpath(nsRotation, "registryauth/"+raRotation, "{.status.urls.node}")
	r.host = strings.TrimPrefix(node, "https://")
	r.service, _ = e.jsonpath(nsRotation, "registryauth/"+raRotation, "{.status.service}")
	caB64, err := e.jsonpath(nsRotation, "secret/"+raRotation+"-ca", `{.data.ca\.crt}`)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := base64.StdEncoding.DecodeString(caB64)
	if err != nil {
		t.Fatal(err)
	}
	r.roots = x509.NewCertPool()
	if !r.roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA in ca.crt")
	}
	if r.image, err = name.ParseReference(r.host + "/" + rotationRepo + ":v1"); err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(256<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r.image, img, remote.WithAuth(r.auth()), remote.WithTransport(r.transport())); err != nil {
		t.Fatalf("pushing the probe image: %v", err)
	}
	return r
}

func (r *rotationRegistry) ready() error {
	s, _ := r.e.jsonpath(nsRotation, "registryauth/"+raRotation, `{.status.conditions[?(@.type=="Ready")].status}`)
	if s != "True" {
		return fmt.Errorf("Ready=%q", s)
	}
	return nil
}

func (r *rotationRegistry) auth() authn.Authenticator {
	return &authn.Basic{Username: "admin", Password: rotationPass}
}

// transport opens a new TLS connection per request: each one checks the
// certificate served at that moment against the CA.
func (r *rotationRegistry) transport() *http.Transport {
	return &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: r.roots, MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true,
	}
}

// token asks the front door for a pull token and returns its raw JWT.
func (r *rotationRegistry) token(ctx context.Context, c *http.Client) (string, error) {
	q := url.Values{"service": {r.service}, "scope": {"repository:" + rotationRepo + ":pull"}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+r.host+"/auth/token?"+q.Encode(), nil)
	req.SetBasicAuth("admin", rotationPass)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct{ Token string }
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("token: %s: %s", resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Token == "" {
		return "", fmt.Errorf("token: bad reply: %v", err)
	}
	return body.Token, nil
}

// pull fetches the probe image's manifest and every layer, token flow included.
func (r *rotationRegistry) pull(ctx context.Context, tr http.RoundTripper) error {
	return pullAll(r.image, remote.WithAuth(r.auth()), remote.WithTransport(tr), remote.WithContext(ctx))
}

// pullAll fetches an image's manifest and every layer, as a client pulling it.
func pullAll(ref name.Reference, opts ...remote.Option) error {
	img, err := remote.Image(ref, opts...)
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// rotationSnapshot is what identifies the certificates in use.
type rotationSnapshot struct {
	servingSerial, signerSerial, signerIssuer string
	bundleCerts                               int
	rotationPhase                             string
}

func (r *rotationRegistry) snapshot(t *testing.T) rotationSnapshot {
	t.Helper()
	var s rotationSnapshot
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tr := r.transport()
	tr.TLSClientConfig.VerifyConnection = func(cs tls.ConnectionState) error {
		s.servingSerial = cs.PeerCertificates[0].SerialNumber.String()
		return nil
	}
	jwt, err := r.token(ctx, &http.Client{Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x5cLeaf(jwt)
	if err != nil {
		t.Fatal(err)
	}
	s.signerSerial, s.signerIssuer = leaf.SerialNumber.String(), leaf.Issuer.String()+"/"+string(leaf.AuthorityKeyId)
	b64, _ := r.e.jsonpath(nsRotation, "secret/"+raRotation+"-token-ca", `{.data.bundle\.crt}`)
	bundle, _ := base64.StdEncoding.DecodeString(b64)
	s.bundleCerts = strings.Count(string(bundle), "BEGIN CERTIFICATE")
	s.rotationPhase, _ = r.e.jsonpath(nsRotation, "secret/"+raRotation+"-token-ca", `{.metadata.annotations.token\.registryauth\.dev/rotation-phase}`)
	return s
}

// x5cLeaf decodes the first certificate of a JWT's x5c header.
func x5cLeaf(jwt string) (*x509.Certificate, error) {
	head, _, ok := strings.Cut(jwt, ".")
	if !ok {
		return nil, fmt.Errorf("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return nil, err
	}
	var h struct{ X5c []string }
	if err := json.Unmarshal(raw, &h); err != nil || len(h.X5c) == 0 {
		return nil, fmt.Errorf("no x5c in the token header: %v", err)
	}
	der, err := base64.StdEncoding.DecodeString(h.X5c[0])
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// load is rotClients clients alternating token requests and pulls.
type load struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	requests atomic.Int64
	mu       sync.Mutex
	failures []string
}

func startLoad(t *testing.T, r *rotationRegistry) *load {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel}
	for i := 0; i < rotClients; i++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			c := &http.Client{Transport: r.transport(), Timeout: 30 * time.Second}
			for n := 0; ctx.Err() == nil; n++ {
				rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
				var err error
				if n%2 == 0 {
					_, err = r.token(rctx, c)
				} else {
					err = r.pull(rctx, r.transport())
				}
				rcancel()
				if ctx.Err() != nil {
					return // stopping, not failing
				}
				l.requests.Add(1)
				if err != nil {
					l.mu.Lock()
					l.failures = append(l.failures, time.Now().Format("15:04:05.000")+" "+err.Error())
					l.mu.Unlock()
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	return l
}

func (l *load) reset() {
	l.requests.Store(0)
	l.mu.Lock()
	l.failures = nil
	l.mu.Unlock()
}

func (l *load) counts() (int64, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.requests.Load(), append([]string(nil), l.failures...)
}

func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}
