package controllers

import (
	"context"
	"crypto/x509"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pullaccess"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
	"github.com/registry-auth-operator/registry-auth-operator/internal/selfcheck"
)

// A rotation hands out the successor password once every auth server that
// can answer a kubelet accepts it, instead of after the fixed settle bound:
// the operator logs in with it, as a kubelet would, at each registry pod's
// own address. The bound stays the fallback whenever that cannot be known.
//
// Why a login and not a version the server reports: the auth server loads
// the config file as a whole, so accepting the new password is exactly the
// property needed, it needs no new endpoint on the data plane, and it works
// the same for every auth provider.
//
// What keeps it safe:
//   - every pod in phase Running (terminating ones too: they may still get
//     connections) must accept; a Pending pod (its volume may predate the
//     change) or no Running pod at all means "unknown";
//   - TLS is verified against the registry's CA and the client's host name,
//     so a pod that merely carries the labels learns nothing;
//   - each failed login costs the operator's address a token of the auth
//     server's failure limiter, which its self-check shares. So at most one
//     round per registry per probeEvery, a login is tried only probeDelay
//     after the rendered config held the user (by then the authsync nudge has
//     usually made the server reload), and a round stops at the first
//     refusal: at most one failure per round, well within the limiter's
//     refill of one per 2 s.

const (
	probeEvery = 5 * time.Second
	probeDelay = 3 * time.Second
	// probeMax bounds the logins of one round (each is one bcrypt on the
	// server); the rest wait for the next round or the bound.
	probeMax = 16
)

// PullProber logs in at one server (selfcheck.HTTP in the operator).
type PullProber interface {
	Login(ctx context.Context, l selfcheck.Login) (bool, error)
}

// probeClock remembers each registry's last round.
type probeClock struct {
	mu   sync.Mutex
	last map[types.UID]time.Time
}

// due reports whether a round may start now, and if so records it.
func (c *probeClock) due(uid types.UID, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		c.last = map[types.UID]time.Time{}
	}
	if t, ok := c.last[uid]; ok && now.Sub(t) < probeEvery && !now.Before(t) {
		return false
	}
	c.last[uid] = now
	return true
}

// loadedUsers asks the registry's auth servers about the successors waiting
// for them; the answer holds the users every serving pod accepted. nil when
// no prober is configured.
func (r *PullAccessReconciler) loadedUsers(ctx context.Context, ra *v1alpha1.RegistryAuth, st *pullaccess.State,
	secrets map[string]*corev1.Secret, now time.Time) func(string) bool {
	if r.Prober == nil {
		return nil
	}
	loaded := map[string]bool{}
	answer := func(u string) bool { return loaded[u] }
	type candidate struct{ user, password string }
	var todo []candidate
	for ns, robot := range st.Robots {
		n := robot.Next
		if n == nil || n.Live == nil || now.Before(n.Live.Add(probeDelay)) || !now.Before(n.Live.Add(r.Settle)) {
			continue
		}
		sc := observedContent(secrets[ns], ns)
		if sc.NextGeneration != n.Generation || sc.NextPassword == "" {
			continue
		}
		todo = append(todo, candidate{pullaccess.RobotUser(ns, n.Generation), sc.NextPassword})
	}
	if len(todo) == 0 || !r.probes.due(ra.UID, now) {
		return answer
	}
	ips, roots, ok := r.servingPods(ctx, ra)
	if !ok {
		return answer
	}
	for _, c := range todo[:min(len(todo), probeMax)] {
		for _, ip := range ips {
			accepted, err := r.Prober.Login(ctx, selfcheck.Login{
				URL: ra.Status.URLs.InCluster, PodIP: ip, Roots: roots,
				Username: c.user, Password: c.password, // no scope: a login, as docker login asks
			})
			if err != nil || !accepted {
				log.FromContext(ctx).V(1).Info("auth server does not accept the successor yet", "user", c.user, "pod", ip, "error", err)
				return answer
			}
		}
		loaded[c.user] = true
	}
	return answer
}

// servingPods are the pod IPs that may answer a kubelet, and the CAs to
// trust; ok is false when that set cannot be known now.
func (r *PullAccessReconciler) servingPods(ctx context.Context, ra *v1alpha1.RegistryAuth) ([]string, *x509.CertPool, bool) {
	if ra.Status.URLs.InCluster == "" || ra.Status.CAConfigMapName == "" {
		return nil, nil, false
	}
	cm := &corev1.ConfigMap{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ra.Namespace, Name: ra.Status.CAConfigMapName}, cm); err != nil {
		return nil, nil, false
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(cm.Data[render.KeyCACert])) {
		return nil, nil, false
	}
	var pods corev1.PodList
	if err := r.APIReader.List(ctx, &pods, client.InNamespace(ra.Namespace), client.MatchingLabels(render.SelectorLabels(ra))); err != nil {
		return nil, nil, false
	}
	var ips []string
	for _, p := range pods.Items {
		switch p.Status.Phase {
		case corev1.PodRunning:
			if p.Status.PodIP == "" {
				return nil, nil, false
			}
			ips = append(ips, p.Status.PodIP)
		case corev1.PodPending, corev1.PodUnknown, "":
			return nil, nil, false
		}
	}
	return ips, roots, len(ips) > 0
}
