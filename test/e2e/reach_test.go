package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runner runs a command somewhere: on the machine, or in the node's netns.
type runner func(ctx context.Context, stdin, name string, args ...string) (string, error)

// challenge is what GET /v2/ answered.
type challenge struct {
	status         int
	realm, service string
	header         string
}

var (
	realmRe   = regexp.MustCompile(`realm="([^"]*)"`)
	serviceRe = regexp.MustCompile(`service="([^"]*)"`)
)

// getV2 sends GET base/v2/ with curl, trusting only the registry's CA.
func getV2(run runner, ca, base string) (challenge, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := run(ctx, "", "curl", "-sS", "--max-time", "10", "--cacert", ca, "-o", "/dev/null",
		"-D", "-", "-w", "\nSTATUS=%{http_code}\n", base+"/v2/")
	if err != nil {
		return challenge{}, err
	}
	var c challenge
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "STATUS="); ok {
			c.status, _ = strconv.Atoi(v)
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "WWW-Authenticate") {
			c.header = strings.TrimSpace(v)
		}
	}
	if m := realmRe.FindStringSubmatch(c.header); m != nil {
		c.realm = m[1]
	}
	if m := serviceRe.FindStringSubmatch(c.header); m != nil {
		c.service = m[1]
	}
	return c, nil
}

// token asks the realm for a pull token as user; the password goes to curl
// on stdin (a curl config), never on a command line. It returns the status.
func token(run runner, ca string, c challenge, user, password, scope string) (int, error) {
	q := url.Values{"service": {c.service}, "scope": {scope}}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cfg := fmt.Sprintf("user = %q\n", user+":"+password)
	out, err := run(ctx, cfg, "curl", "-sS", "--max-time", "10", "--cacert", ca, "-K", "-",
		"-o", "/dev/null", "-w", "%{http_code}", c.realm+"?"+q.Encode())
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(out))
}

// checkRealm: /v2/ answers 401 with a Bearer realm on the very host the
// client used, and that realm issues a token to admin.
func (j *journey) checkRealm(t *testing.T, run runner, base string) {
	t.Helper()
	c, err := getV2(run, j.ca, base)
	if err != nil {
		t.Fatal(err)
	}
	if c.status != 401 || !strings.HasPrefix(c.header, "Bearer ") {
		t.Fatalf("GET %s/v2/: status %d, WWW-Authenticate %q; want 401 with a Bearer challenge", base, c.status, c.header)
	}
	if !strings.HasPrefix(c.realm, base+"/") {
		t.Fatalf("realm %q does not name the host the client used (%s)", c.realm, base)
	}
	status, err := token(run, j.ca, c, "admin", adminPass, "repository:e2e/probe:pull")
	if err != nil {
		t.Fatalf("realm %s did not answer: %v", c.realm, err)
	}
	if status != 200 {
		t.Fatalf("realm %s answered %d to admin, want 200", c.realm, status)
	}
	t.Logf("%s: 401, realm %s answers", base, c.realm)
}

func (j *journey) reachFromNode(t *testing.T) {
	j.checkRealm(t, j.inNode, "https://"+j.nodeHost)
}

func (j *journey) reachFromHost(t *testing.T) {
	j.checkRealm(t, exe, "https://"+j.nodeHost)
}

func (j *journey) reachThroughPortForward(t *testing.T) {
	cmd := exec.Command(j.kubectl, append(j.kubeFlags(), "-n", nsDemo, "port-forward", "service/"+raName, ":5000")...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	// "Forwarding from 127.0.0.1:41234 -> 5000"
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`127\.0\.0\.1:(\d+)`).FindStringSubmatch(sc.Text()); m != nil {
				port <- m[1]
				return
			}
		}
	}()
	select {
	case p := <-port:
		j.checkRealm(t, exe, "https://localhost:"+p)
	case <-time.After(30 * time.Second):
		t.Fatal("kubectl port-forward did not report its local port")
	}
}

// reachFromPod runs the e2e probe image in a Pod: GET /v2/ at the Service's
// DNS name, then a token from the realm named in the challenge.
func (j *journey) reachFromPod(t *testing.T) {
	caBundle, _ := j.jsonpath(nsDemo, "registryauth/"+raName, "{.status.caConfigMapName}")
	base := "https://" + raName + "." + nsDemo + ".svc:5000"
	j.apply(t, map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "probe", "namespace": nsDemo},
		"spec": map[string]any{
			"restartPolicy": "Never",
			"containers": []any{map[string]any{
				"name": "probe", "image": j.imageRef(t, "probe"), "imagePullPolicy": "Never",
				"args": []string{"-url", base, "-ca", "/ca/ca.crt", "-user", "admin", "-password-file", "/pw/password"},
				"volumeMounts": []any{
					map[string]any{"name": "ca", "mountPath": "/ca"},
					map[string]any{"name": "pw", "mountPath": "/pw"},
				},
			}},
			"volumes": []any{
				map[string]any{"name": "ca", "configMap": map[string]any{"name": caBundle}},
				map[string]any{"name": "pw", "secret": map[string]any{"secretName": "demo-admin"}},
			},
		},
	})
	defer j.kube("", "-n", nsDemo, "delete", "pod", "probe", "--wait=false")
	eventually(t, 2*time.Minute, "probe pod to finish", func() error {
		phase, _ := j.jsonpath(nsDemo, "pod/probe", "{.status.phase}")
		if phase == "Succeeded" || phase == "Failed" {
			return nil
		}
		return fmt.Errorf("phase %q", phase)
	})
	logs, err := j.kube("", "-n", nsDemo, "logs", "probe")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Status          int    `json:"status"`
		WWWAuthenticate string `json:"wwwAuthenticate"`
		Realm           string `json:"realm"`
		RealmStatus     int    `json:"realmStatus"`
		GotToken        bool   `json:"gotToken"`
	}
	if err := json.Unmarshal([]byte(logs), &res); err != nil {
		t.Fatalf("probe output %q: %v", logs, err)
	}
	if res.Status != 401 || !strings.HasPrefix(res.Realm, base+"/") {
		t.Fatalf("from a Pod: GET %s/v2/ = %d, realm %q; want 401 and a realm at %s", base, res.Status, res.Realm, base)
	}
	if res.RealmStatus != 200 || !res.GotToken {
		t.Fatalf("from a Pod: realm answered %d (token: %v), want 200 with a token", res.RealmStatus, res.GotToken)
	}
	t.Logf("from a Pod: %s/v2/ 401, realm %s issued a token", base, res.Realm)
}
