package e2e

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// The revocation test: password changes, new users and removed users reach
// the running front door without a restart or a rollout. Ten changes are
// timed from the moment the API server accepted the change:
//   - a password change and a removal until the old credentials get 401
//     (polled every 100 ms with credentials that are still good, so the
//     polling itself never trips the failure limiter);
//   - an addition until the auth container logs that it reloaded a config
//     (polling the new user's login would count failures and get limited),
//     then one login proves the user works.
//
// Only "it takes effect, and no pod restarted" is asserted; the latencies go
// to docs/benchmarks.md.
const (
	nsRevocation = "e2e-revocation"
	raRevocation = "revo"
)

func TestRevocationLatency(t *testing.T) {
	e := loadEnv(t)
	(&journey{env: e, dir: t.TempDir()}).helmInstall(t)
	e.kubeOK(t, "delete", "namespace", nsRevocation, "--ignore-not-found", "--wait=true", "--timeout=3m")
	e.kubeOK(t, "create", "namespace", nsRevocation)
	t.Cleanup(func() { _, _ = e.kube("", "delete", "namespace", nsRevocation, "--wait=false") })

	rv := &revocation{e: e, users: []string{"admin"}}
	rv.setPassword(t, "admin", "adm1n-0")
	rv.applyRA(t)
	eventually(t, 5*time.Minute, "RegistryAuth Ready", func() error {
		s, _ := e.jsonpath(nsRevocation, "registryauth/"+raRevocation, `{.status.conditions[?(@.type=="Ready")].status}`)
		if s != "True" {
			return fmt.Errorf("Ready=%q", s)
		}
		return nil
	})
	rv.connect(t)
	eventually(t, time.Minute, "admin logs in", func() error { return rv.expect("admin", "adm1n-0", http.StatusOK) })
	pods := rv.pods(t)

	var all []time.Duration
	measure := func(kind string, d time.Duration) {
		all = append(all, d)
		e.record(t, "revocation: "+kind+" took effect after", d)
	}
	// Four password changes.
	for i := 1; i <= 4; i++ {
		old, pw := fmt.Sprintf("adm1n-%d", i-1), fmt.Sprintf("adm1n-%d", i)
		start := rv.setPassword(t, "admin", pw)
		measure("password change", rv.until(t, "the old password is refused", start, func() bool { return rv.status("admin", old) == http.StatusUnauthorized }))
		if err := rv.expect("admin", pw, http.StatusOK); err != nil {
			t.Fatalf("the new password: %v", err)
		}
	}
	// Three new users.
	for i := 1; i <= 3; i++ {
		u := fmt.Sprint("user", i)
		rv.setPassword(t, u, u+"-pass")
		rv.users = append(rv.users, u)
		start := rv.applyRA(t)
		measure("new user", rv.until(t, u+"'s config to be reloaded", start, func() bool { return rv.reloadedSince(t, start) }))
		eventually(t, 10*time.Second, u+" logs in", func() error { return rv.expect(u, u+"-pass", http.StatusOK) })
	}
	// Three removals.
	for i := 1; i <= 3; i++ {
		u := fmt.Sprint("user", i)
		rv.users = slices.DeleteFunc(rv.users, func(s string) bool { return s == u })
		start := rv.applyRA(t)
		measure("user removal", rv.until(t, u+" to be refused", start, func() bool { return rv.status(u, u+"-pass") == http.StatusUnauthorized }))
	}

	if after := rv.pods(t); after != pods {
		t.Errorf("pods changed (restarted or rolled):\n before %s\n after  %s", pods, after)
	}
	slices.Sort(all)
	p50, p95 := all[len(all)/2], all[(len(all)*95+99)/100-1]
	t.Logf("revocation latency over %d changes: p50 %.1fs, p95 %.1fs, max %.1fs", len(all), p50.Seconds(), p95.Seconds(), all[len(all)-1].Seconds())
	e.record(t, fmt.Sprintf("revocation p50 over %d changes", len(all)), p50)
	e.record(t, fmt.Sprintf("revocation p95 over %d changes", len(all)), p95)
}

type revocation struct {
	e       *env
	users   []string
	host    string
	service string
	client  *http.Client
}

// setPassword writes a user's password Secret and returns when the API
// server accepted it.
func (rv *revocation) setPassword(t *testing.T, user, password string) time.Time {
	t.Helper()
	rv.e.apply(t, map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"namespace": nsRevocation, "name": "revo-" + user},
		"stringData": map[string]any{"password": password},
	})
	return time.Now()
}

// applyRA writes the RegistryAuth with the current users; every user may
// pull anything.
func (rv *revocation) applyRA(t *testing.T) time.Time {
	t.Helper()
	var users []any
	for _, u := range rv.users {
		users = append(users, map[string]any{"name": u, "passwordSecretRef": map[string]any{"name": "revo-" + u}})
	}
	rv.e.apply(t, map[string]any{
		"apiVersion": "registryauth.dev/v1alpha1", "kind": "RegistryAuth",
		"metadata": map[string]any{"namespace": nsRevocation, "name": raRevocation},
		"spec": map[string]any{"auth": map[string]any{
			"users": users,
			"acl":   []any{map[string]any{"match": map[string]any{"account": "/.+/"}, "actions": []string{"pull"}}},
		}},
	})
	return time.Now()
}

// connect reads how to reach the front door from this host (the ClusterIP,
// as a node would) and what to trust.
func (rv *revocation) connect(t *testing.T) {
	t.Helper()
	node, _ := rv.e.jsonpath(nsRevocation, "registryauth/"+raRevocation, "{.status.urls.node}")
	rv.host = strings.TrimPrefix(node, "https://")
	rv.service, _ = rv.e.jsonpath(nsRevocation, "registryauth/"+raRevocation, "{.status.service}")
	caB64, err := rv.e.jsonpath(nsRevocation, "secret/"+raRevocation+"-ca", `{.data.ca\.crt}`)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := base64.StdEncoding.DecodeString(caB64)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA in ca.crt")
	}
	rv.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}}
}

// status is the token endpoint's answer to user/password (0 on a network error).
func (rv *revocation) status(user, password string) int {
	q := url.Values{"service": {rv.service}, "scope": {"repository:any/thing:pull"}}
	req, _ := http.NewRequest(http.MethodGet, "https://"+rv.host+"/auth/token?"+q.Encode(), nil)
	req.SetBasicAuth(user, password)
	resp, err := rv.client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (rv *revocation) expect(user, password string, want int) error {
	if got := rv.status(user, password); got != want {
		return fmt.Errorf("%s: %d, want %d", user, got, want)
	}
	return nil
}

// until polls cond every 100 ms and returns how long after start it held;
// it fails the test after 3 minutes (the kubelet's own sync would have
// delivered the change long before).
func (rv *revocation) until(t *testing.T, what string, start time.Time, cond func() bool) time.Duration {
	t.Helper()
	for !cond() {
		if time.Since(start) > 3*time.Minute {
			rv.e.describe(t, nsRevocation, "pods")
			t.Fatalf("%s: not within 3 minutes", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

// reloadedSince reports whether an auth container logged a successful
// reload at or after since (node and test share the machine's clock).
func (rv *revocation) reloadedSince(t *testing.T, since time.Time) bool {
	t.Helper()
	out, err := rv.e.kube("", "-n", nsRevocation, "logs", "-l", "app.kubernetes.io/instance="+raRevocation, "-c", "auth", "--since=5m", "--tail=200")
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "reloaded config" && !line.Time.Before(since) {
			return true
		}
	}
	return false
}

// pods identifies the running pods and their restart counts: any restart or
// rollout changes it.
func (rv *revocation) pods(t *testing.T) string {
	t.Helper()
	return rv.e.kubeOK(t, "-n", nsRevocation, "get", "pods", "-l", "app.kubernetes.io/instance="+raRevocation,
		"-o", `jsonpath={range .items[*]}{.metadata.uid}{":"}{.status.containerStatuses[*].restartCount}{" "}{end}`)
}
