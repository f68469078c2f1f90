package e2e

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// The pull-access test (docs/pull-access.md) on the real cluster, with one
// registry: labelling a new namespace is the only step before a Pod of its
// default ServiceAccount pulls (timed); the robot cannot push; a rotation
// while clients and the kubelet pull continuously fails no pull (counted);
// unlabelling removes the Secret and only our ServiceAccount entry.
const (
	nsPullReg   = "e2e-pull-registry"
	raPull      = "pa"
	pullAdminPw = "pull-4dmin"
	nsPullTeam  = "e2e-pull-team"
	pullLabel   = "registryauth.dev/pull"
	pullSecretN = nsPullReg + "-" + raPull + "-pull" // the default secretName
	foreignPull = "team-own-pull"                    // an entry another writer keeps on the ServiceAccount
	pullClients = 2
)

func TestPullAccess(t *testing.T) {
	e := loadEnv(t)
	(&journey{env: e, dir: t.TempDir()}).helmInstall(t)
	p := setUpPullAccess(t, e)

	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"label a new namespace: a Pod of its default ServiceAccount pulls, no other step", p.firstPull},
		{"the robot's push is denied", p.pushDenied},
		{"rotation while clients and the kubelet pull: no pull fails", p.rotation},
		{"unlabel: Secret and our ServiceAccount entry gone, the other writer's entry kept", p.unlabel},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			e.describe(t, nsPullTeam, "serviceaccount/default", "pods")
			e.describe(t, nsPullReg, "registryauth/"+raPull)
			t.Fatalf("stopping: step %q failed", s.name)
		}
	}
	e.record(t, "pull access e2e: whole test", time.Since(p.began))
}

type pullAccess struct {
	*env
	began time.Time
	host  string // host:port of status.urls.node
	caPEM []byte
	image string // <host>/<team namespace>/pause:1, pushed by admin
	opts  []remote.Option
}

func setUpPullAccess(t *testing.T, e *env) *pullAccess {
	t.Helper()
	p := &pullAccess{env: e, began: time.Now()}
	for _, ns := range []string{nsPullTeam, nsPullReg} {
		e.kubeOK(t, "delete", "namespace", ns, "--ignore-not-found", "--wait=true", "--timeout=3m")
	}
	e.kubeOK(t, "create", "namespace", nsPullReg)
	e.kubeOK(t, "create", "namespace", nsPullTeam)
	t.Cleanup(func() {
		// The team namespace first: the operator is still there to clean up.
		_, _ = e.kube("", "delete", "namespace", nsPullTeam, "--wait=false")
		_, _ = e.kube("", "delete", "namespace", nsPullReg, "--wait=false")
	})
	e.apply(t, map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"namespace": nsPullReg, "name": raPull + "-admin"},
		"stringData": map[string]any{"password": pullAdminPw},
	})
	e.apply(t, map[string]any{
		"apiVersion": "registryauth.dev/v1alpha1", "kind": "RegistryAuth",
		"metadata": map[string]any{"namespace": nsPullReg, "name": raPull},
		"spec": map[string]any{
			"auth": map[string]any{
				"users": []any{map[string]any{"name": "admin", "passwordSecretRef": map[string]any{"name": raPull + "-admin"}}},
				"acl":   []any{map[string]any{"match": map[string]any{"account": "admin"}, "actions": []string{"*"}}},
			},
			"pullSecrets": map[string]any{
				"namespaceSelector": map[string]any{"matchLabels": map[string]string{pullLabel: raPull}},
				"repositories":      []any{map[string]any{"name": "${namespace}/*"}},
				"overlap":           "1m", // the shortest allowed: the test waits it out
			},
		},
	})
	// Another writer's entry on the ServiceAccount, there before ours (the
	// controller-manager creates the ServiceAccount shortly after the namespace).
	eventually(t, time.Minute, "another writer's entry on the default ServiceAccount", func() error {
		_, err := e.kube("", "-n", nsPullTeam, "patch", "serviceaccount", "default", "--type=merge",
			"-p", `{"imagePullSecrets":[{"name":"`+foreignPull+`"}]}`)
		return err
	})
	eventually(t, 5*time.Minute, "pull-access registry Ready", func() error {
		return conditionIsIn(e, nsPullReg, raPull, "Ready", "True")
	})
	node, roots := endpointOf(t, e, nsPullReg, raPull)
	p.host = node
	bundle := e.kubeOK(t, "-n", nsPullReg, "get", "registryauth", raPull, "-o", "jsonpath={.status.caConfigMapName}")
	p.caPEM = []byte(e.kubeOK(t, "-n", nsPullReg, "get", "configmap", bundle, "-o", `jsonpath={.data.ca\.crt}`))
	// A fresh TLS connection per request; credentials come with each pull.
	p.opts = []remote.Option{remote.WithTransport(&http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, DisableKeepAlives: true,
	})}
	p.image = p.host + "/" + nsPullTeam + "/pause:1"
	admin := newSkopeo(t, p.host, p.caPEM)
	if err := admin.login(p.host, "admin", pullAdminPw); err != nil {
		t.Fatalf("admin login: %v", err)
	}
	if err := admin.push("oci-archive:"+filepath.Join(e.images, "pause.tar"), p.image); err != nil {
		t.Fatalf("admin push: %v", err)
	}
	e.waitNodeTrust(t, p.host, p.caPEM, 2*time.Minute)
	return p
}

// firstPull: label, wait for the ServiceAccount entry (Pods created before
// it do not get it), then a Pod without imagePullSecrets of its own.
func (p *pullAccess) firstPull(t *testing.T) {
	start := time.Now()
	p.kubeOK(t, "label", "namespace", nsPullTeam, pullLabel+"="+raPull)
	eventually(t, time.Minute, "default ServiceAccount names the pull Secret", func() error {
		return p.saEntries(foreignPull, pullSecretN)
	})
	entryAt := time.Since(start)
	p.apply(t, teamPod("first", p.image))
	p.waitRunning(t, nsPullTeam, "first")
	p.record(t, "pull access: namespace labelled to ServiceAccount entry", entryAt)
	p.record(t, "pull access: namespace labelled to Pod Running (time to first pull)", time.Since(start))
	got, _ := p.jsonpath(nsPullTeam, "pod/first", "{.spec.imagePullSecrets[*].name}")
	if !strings.Contains(got, pullSecretN) {
		t.Fatalf("the Pod's imagePullSecrets are %q; want the admission plugin to have copied %s", got, pullSecretN)
	}
}

// pushDenied: the robot's own credentials may pull its namespace's
// repositories, never push (push is not listed).
func (p *pullAccess) pushDenied(t *testing.T) {
	user, pw, _ := p.robot(t)
	ref, err := name.ParseReference(p.host + "/" + nsPullTeam + "/pushed:1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	err = remote.Write(ref, img, append(p.opts, remote.WithAuth(&authn.Basic{Username: user, Password: pw}))...)
	var terr *transport.Error
	if !errors.As(err, &terr) || (terr.StatusCode != http.StatusUnauthorized && terr.StatusCode != http.StatusForbidden) {
		t.Fatalf("robot push: %v; want 401/403 from the registry", err)
	}
	t.Logf("robot push refused: %v", err)
	if err := p.pull(context.Background(), user, pw); err != nil {
		t.Fatalf("the same robot cannot pull: %v", err)
	}
}

// rotation: clients that read the Secret before every pull (as a kubelet
// does) and a new Pod every 10 s (kubelet pulls, imagePullPolicy Always) run
// from before the rotation request until the old password left the auth
// config; every pull is counted and none may fail.
func (p *pullAccess) rotation(t *testing.T) {
	_, _, gen0 := p.robot(t)
	load := p.startRobotPulls(t)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			load.stop()
		}
	}
	defer stop()
	start := time.Now()
	p.kubeOK(t, "annotate", "namespace", nsPullTeam, "registryauth.dev/rotate-pull-secret=e2e-1", "--overwrite")

	var pods []string
	var promoted time.Duration
	deadline := start.Add(6 * time.Minute)
	for {
		if len(pods) == 0 || time.Since(start) > time.Duration(len(pods))*10*time.Second {
			pod := fmt.Sprintf("rot-%d", len(pods))
			p.apply(t, teamPod(pod, p.image))
			pods = append(pods, pod)
		}
		if promoted == 0 {
			if _, _, g := p.robot(t); g > gen0 {
				promoted = time.Since(start)
			}
		} else if p.overlapOver(t) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rotation not complete within 6 minutes (promoted after %s)", promoted)
		}
		time.Sleep(2 * time.Second)
	}
	took := time.Since(start)
	stop()
	for _, pod := range pods {
		p.waitRunning(t, nsPullTeam, pod)
	}
	pulls, fails := load.counts()
	kubeletFails := p.failedKubeletPulls(t)
	p.record(t, "pull access: rotation requested to new password in the Secret", promoted)
	p.record(t, fmt.Sprintf("pull access: rotation to old password gone (%d client pulls, %d kubelet pulls; %d and %d failed)",
		pulls, len(pods), len(fails), len(kubeletFails)), took)
	if pulls == 0 || len(pods) < 2 {
		t.Fatalf("%d client pulls and %d kubelet pulls ran during the rotation: the check proves little", pulls, len(pods))
	}
	if len(fails) > 0 || len(kubeletFails) > 0 {
		t.Fatalf("failed pulls: %d of %d client pulls (e.g. %v); kubelet: %v", len(fails), pulls, fails[:min(5, len(fails))], kubeletFails)
	}
}

// unlabel: the Secret and our entry go; the other writer's entry stays.
func (p *pullAccess) unlabel(t *testing.T) {
	start := time.Now()
	p.kubeOK(t, "label", "namespace", nsPullTeam, pullLabel+"-")
	eventually(t, time.Minute, "pull Secret and ServiceAccount entry removed", func() error {
		if out, _ := p.kube("", "-n", nsPullTeam, "get", "secret", pullSecretN, "--ignore-not-found", "-o", "name"); out != "" {
			return fmt.Errorf("%s still exists", out)
		}
		return p.saEntries(foreignPull)
	})
	p.record(t, "pull access: namespace unlabelled to Secret and entry gone", time.Since(start))
}

// saEntries checks the default ServiceAccount's imagePullSecrets, in order.
func (p *pullAccess) saEntries(want ...string) error {
	got, err := p.jsonpath(nsPullTeam, "serviceaccount/default", "{.imagePullSecrets[*].name}")
	if err != nil {
		return err
	}
	if got != strings.Join(want, " ") {
		return fmt.Errorf("imagePullSecrets %q, want %q", got, want)
	}
	return nil
}

// robot reads the credential the pull Secret hands out now for the node
// address, as the kubelet does at each pull, and its generation.
func (p *pullAccess) robot(t *testing.T) (user, password string, generation int64) {
	t.Helper()
	user, password, generation, err := p.readRobot()
	if err != nil {
		t.Fatal(err)
	}
	return user, password, generation
}

func (p *pullAccess) readRobot() (string, string, int64, error) {
	out, err := p.jsonpath(nsPullTeam, "secret/"+pullSecretN, `{.metadata.annotations.registryauth\.dev/robot-generation} {.data.\.dockerconfigjson}`)
	if err != nil {
		return "", "", 0, err
	}
	genS, b64, _ := strings.Cut(out, " ")
	gen, err := strconv.ParseInt(genS, 10, 64)
	if err != nil {
		return "", "", 0, fmt.Errorf("generation %q: %w", genS, err)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", "", 0, err
	}
	var cfg struct {
		Auths map[string]struct{ Username, Password string }
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return "", "", 0, err
	}
	a, ok := cfg.Auths[p.host]
	if !ok || a.Password == "" {
		return "", "", 0, fmt.Errorf("no credential for %s in the pull Secret", p.host)
	}
	return a.Username, a.Password, gen, nil
}

// overlapOver: the robots state no longer holds a previous password for
// the team namespace, so the auth config does not either.
func (p *pullAccess) overlapOver(t *testing.T) bool {
	t.Helper()
	b64, err := p.jsonpath(nsPullReg, "secret/"+raPull+"-robots", `{.data.robots\.json}`)
	if err != nil {
		return false
	}
	raw, _ := base64.StdEncoding.DecodeString(b64)
	var st struct {
		Robots map[string]struct {
			Next, Previous *json.RawMessage
		}
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("robots state: %v", err)
	}
	r := st.Robots[nsPullTeam]
	return r.Next == nil && r.Previous == nil
}

// pull fetches the team image's manifest and layers with a fresh TLS
// connection, token flow included.
func (p *pullAccess) pull(ctx context.Context, user, password string) error {
	ref, err := name.ParseReference(p.image)
	if err != nil {
		return err
	}
	return pullAll(ref, append(p.opts, remote.WithAuth(&authn.Basic{Username: user, Password: password}), remote.WithContext(ctx))...)
}

// robotPulls: pullClients clients, each re-reading the Secret before every
// pull.
type robotPulls struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	requests atomic.Int64
	mu       sync.Mutex
	failures []string
}

func (p *pullAccess) startRobotPulls(t *testing.T) *robotPulls {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &robotPulls{cancel: cancel}
	for range pullClients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				user, pw, _, err := p.readRobot()
				if err == nil {
					rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
					err = p.pull(rctx, user, pw)
					rcancel()
				}
				if ctx.Err() != nil {
					return // stopping, not failing
				}
				l.requests.Add(1)
				if err != nil {
					l.mu.Lock()
					l.failures = append(l.failures, time.Now().Format("15:04:05.000")+" "+err.Error())
					l.mu.Unlock()
				}
				time.Sleep(200 * time.Millisecond)
			}
		}()
	}
	return l
}

func (l *robotPulls) counts() (int64, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.requests.Load(), append([]string(nil), l.failures...)
}

func (l *robotPulls) stop() {
	l.cancel()
	l.wg.Wait()
}

// failedKubeletPulls lists the kubelet's failed-pull Events in the team
// namespace (a Pod that ran after a retry would hide it otherwise).
func (p *pullAccess) failedKubeletPulls(t *testing.T) []string {
	t.Helper()
	out := p.kubeOK(t, "-n", nsPullTeam, "get", "events", "--field-selector", "reason=Failed",
		"-o", `jsonpath={range .items[*]}{.involvedObject.name}{": "}{.message}{"\n"}{end}`)
	var fails []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "rot-") {
			fails = append(fails, l)
		}
	}
	return fails
}

// teamPod runs the team's image with nothing about pulling in its spec: the
// default ServiceAccount's entry is all it gets.
func teamPod(name, image string) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": nsPullTeam},
		"spec": map[string]any{
			"terminationGracePeriodSeconds": 1,
			"containers": []any{map[string]any{
				"name": "app", "image": image, "imagePullPolicy": "Always",
			}},
		},
	}
}
