package controllers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pullaccess"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
	"github.com/registry-auth-operator/registry-auth-operator/internal/selfcheck"
)

// pullProber stands in for the auth servers' answers to the operator's
// logins: envtest runs no pods, so a test creates Pod objects and says per
// pod IP whether "its server" accepts. IPs nobody set refuse.
var pullProber = &standInProber{accept: map[string]bool{}}

type standInProber struct {
	mu     sync.Mutex
	accept map[string]bool
	logins []selfcheck.Login
}

func (p *standInProber) Login(_ context.Context, l selfcheck.Login) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.logins = append(p.logins, l)
	return p.accept[l.PodIP], nil
}

func (p *standInProber) set(ip string, accept bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accept[ip] = accept
}

// loginsAs returns the logins tried as user so far.
func (p *standInProber) loginsAs(user string) []selfcheck.Login {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []selfcheck.Login
	for _, l := range p.logins {
		if l.Username == user {
			out = append(out, l)
		}
	}
	return out
}

// TestPullAccessRotationWaitsForTheAuthServers: with a settle bound of an
// hour, a rotation's successor is not handed out while a running registry
// pod refuses it, and is handed out as soon as every running pod accepts
// it; the logins use the successor's real password, at each pod's address.
func TestPullAccessRotationWaitsForTheAuthServers(t *testing.T) {
	ctx := context.Background()
	pullSettleNow = time.Hour
	restartOperator(t)
	t.Cleanup(func() { pullSettleNow = pullSettle; restartOperator(t) })

	f := newPullFixture(t)
	ns := f.tenant(t, true)
	g1 := f.granted(t, ns)
	ra := get(t, f.raNs, f.ra, &v1alpha1.RegistryAuth{})
	if ra.Status.CAConfigMapName == "" || ra.Status.URLs.InCluster == "" {
		t.Fatalf("status lacks the CA bundle or the in-cluster URL: %+v", ra.Status)
	}
	ips := []string{"10.99.0.1", "10.99.0.2"}
	for i, ip := range ips {
		runningPod(t, ra, fmt.Sprintf("%s-%d", f.ra, i), ip)
	}
	pullProber.set(ips[0], true)
	pullProber.set(ips[1], false)

	n := get(t, "", ns, &corev1.Namespace{})
	n.Annotations = map[string]string{v1alpha1.AnnotationRotatePullSecret: "now"}
	if err := k8s.Update(ctx, n); err != nil {
		t.Fatal(err)
	}
	var next *pullaccess.Credential
	eventually(t, 20*time.Second, func() error {
		if next = f.state(t).Robots[ns].Next; next == nil || next.Live == nil {
			return fmt.Errorf("no successor in the rendered config yet")
		}
		return nil
	})
	user := pullaccess.RobotUser(ns, next.Generation)
	// Two rounds in which the second pod refuses: still the old password.
	eventually(t, 30*time.Second, func() error {
		if got := len(pullProber.loginsAs(user)); got < 4 {
			return fmt.Errorf("%d logins as %s so far", got, user)
		}
		return nil
	})
	if g := f.granted(t, ns); g != g1 {
		t.Fatalf("generation %d handed out while a running pod refused it", g)
	}
	pullProber.set(ips[1], true)
	eventually(t, 30*time.Second, func() error {
		if g := f.granted(t, ns); g != next.Generation {
			return fmt.Errorf("generation %d, want %d (the settle bound is an hour)", g, next.Generation)
		}
		return nil
	})
	seen := map[string]bool{}
	for _, l := range pullProber.loginsAs(user) {
		seen[l.PodIP] = true
		if bcrypt.CompareHashAndPassword([]byte(next.Hash), []byte(l.Password)) != nil {
			t.Fatal("a login used another password than the successor's")
		}
		if l.URL != ra.Status.URLs.InCluster || l.Roots == nil {
			t.Errorf("login to %q (roots %v): want the in-cluster URL and the registry's CA", l.URL, l.Roots != nil)
		}
	}
	if !seen[ips[0]] || !seen[ips[1]] {
		t.Errorf("logins reached %v, want both pods", seen)
	}
}

// runningPod makes a registry pod as the kubelet would report it.
func runningPod(t *testing.T, ra *v1alpha1.RegistryAuth, name, ip string) {
	t.Helper()
	ctx := context.Background()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ra.Namespace, Name: name, Labels: render.SelectorLabels(ra)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "auth", Image: "auth"}}},
	}
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}
	if err := k8s.Status().Update(ctx, p); err != nil {
		t.Fatal(err)
	}
}
