package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// runKills: bursts of edits, each cut short by a SIGKILL of the operator and
// a restart; then how long until everything converged, and whether anything
// was lost, orphaned or re-keyed on the way.
func runKills(o options) error {
	ctx := context.Background()
	cl, op, err := bringUp(ctx, o)
	if err != nil {
		return err
	}
	defer cl.stop()
	n := o.killSize
	if err := cl.createRegistries(ctx, 0, n); err != nil {
		return err
	}
	if err := cl.waitSettled(ctx, op, n, o.settleTimeout); err != nil {
		return err
	}
	cas, err := cl.caDigests(ctx)
	if err != nil {
		return err
	}
	passwords := map[string]string{} // Secret name -> current password
	rng := rand.New(rand.NewPCG(1, 2))
	var lastStart time.Time
	for k := range o.kills {
		for range 10 {
			i := rng.IntN(n)
			ra, _ := registry(i)
			ttl := []string{"5m", "6m"}[k%2]
			patch := []byte(fmt.Sprintf(`{"spec":{"auth":{"tokenTTL":%q}}}`, ttl))
			if err := cl.c.Patch(ctx, ra, client.RawPatch("application/merge-patch+json", patch)); err != nil {
				return err
			}
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: ra.Name + "-admin"}}
			pw := fmt.Sprintf("admin-pw-%s-%d", ra.Name, k)
			patch = []byte(fmt.Sprintf(`{"stringData":{"password":%q}}`, pw))
			if err := cl.c.Patch(ctx, s, client.RawPatch("application/merge-patch+json", patch)); err != nil {
				return err
			}
			passwords[s.Name] = pw
		}
		time.Sleep(time.Duration(300+rng.IntN(1700)) * time.Millisecond)
		op.kill()
		if op, err = startOperator(o, cl); err != nil {
			return err
		}
		lastStart = time.Now()
	}
	defer op.stop()
	if err := op.waitUp(ctx); err != nil {
		return err
	}
	// The fresh process has reconciled every registry once, and all of
	// them rendered their current generation with nothing left queued.
	if err := cl.waitRestarted(ctx, op, n, o.settleTimeout); err != nil {
		return err
	}
	if err := cl.waitSettled(ctx, op, n, o.settleTimeout); err != nil {
		return err
	}
	rss, hwm := op.memory()
	fmt.Printf("kill series: %d SIGKILLs during bursts of 10 edits (N=%d): converged %.1f s after the last restart, VmRSS %.1f MiB, VmHWM %.1f MiB (load %s)\n",
		o.kills, n, time.Since(lastStart).Seconds(), rss, hwm, loadavg())
	orphans, missing, err := cl.checkOwned(ctx, n)
	if err != nil {
		return err
	}
	after, err := cl.caDigests(ctx)
	if err != nil {
		return err
	}
	changed := 0
	for k, v := range cas {
		if after[k] != v {
			changed++
		}
	}
	stale, err := cl.checkPasswords(ctx, passwords)
	if err != nil {
		return err
	}
	fmt.Printf("  %d orphans, %d missing objects, %d CAs changed, %d of %d changed passwords not rendered\n",
		orphans, missing, changed, stale, len(passwords))
	return nil
}

// caDigests maps each CA Secret (serving and token) to a digest of its data.
func (cl *cluster) caDigests(ctx context.Context) (map[string][32]byte, error) {
	var list corev1.SecretList
	if err := cl.c.List(ctx, &list, client.InNamespace(benchNamespace)); err != nil {
		return nil, err
	}
	out := map[string][32]byte{}
	for _, s := range list.Items {
		if s.Labels[render.LabelManagedBy] != render.ManagedBy || !strings.HasSuffix(s.Name, "-ca") {
			continue
		}
		keys := make([]string, 0, len(s.Data))
		for k := range s.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		h := sha256.New()
		for _, k := range keys {
			h.Write([]byte(k))
			h.Write(s.Data[k])
		}
		var d [32]byte
		copy(d[:], h.Sum(nil))
		out[s.Name] = d
	}
	return out, nil
}

// checkOwned counts owned objects whose controller is gone (orphans) and
// registries missing one of their objects.
func (cl *cluster) checkOwned(ctx context.Context, n int) (orphans, missing int, err error) {
	var ras v1alpha1.RegistryAuthList
	if err := cl.c.List(ctx, &ras, client.InNamespace(benchNamespace)); err != nil {
		return 0, 0, err
	}
	uids := map[string]string{}
	for _, ra := range ras.Items {
		uids[string(ra.UID)] = ra.Name
	}
	have := map[string]int{}
	var secrets corev1.SecretList
	var cms corev1.ConfigMapList
	var deps appsv1.DeploymentList
	var svcs corev1.ServiceList
	var objs []client.Object
	for _, l := range []client.ObjectList{&secrets, &cms, &deps, &svcs} {
		if err := cl.c.List(ctx, l, client.InNamespace(benchNamespace)); err != nil {
			return 0, 0, err
		}
	}
	for i := range secrets.Items {
		objs = append(objs, &secrets.Items[i])
	}
	for i := range cms.Items {
		objs = append(objs, &cms.Items[i])
	}
	for i := range deps.Items {
		objs = append(objs, &deps.Items[i])
	}
	for i := range svcs.Items {
		objs = append(objs, &svcs.Items[i])
	}
	for _, o := range objs {
		if o.GetLabels()[render.LabelManagedBy] != render.ManagedBy {
			continue
		}
		ref := metav1.GetControllerOf(o)
		if ref == nil || uids[string(ref.UID)] == "" {
			orphans++
			continue
		}
		have[uids[string(ref.UID)]]++
	}
	// Per registry: 6 Secrets (-ca, -tls, -token-ca, -token, -auth, -http),
	// the registry ConfigMap, the Deployment, the Service.
	const want = 9
	for i := range n {
		ra, _ := registry(i)
		if have[ra.Name] < want {
			missing += want - have[ra.Name]
		}
	}
	return orphans, missing, nil
}

// checkPasswords counts changed passwords the rendered auth config does not verify.
func (cl *cluster) checkPasswords(ctx context.Context, passwords map[string]string) (int, error) {
	stale := 0
	for secret, pw := range passwords {
		name := secret[:len(secret)-len("-admin")]
		s := &corev1.Secret{}
		if err := cl.c.Get(ctx, client.ObjectKey{Namespace: benchNamespace, Name: name + "-auth"}, s); err != nil {
			return 0, err
		}
		cfg, _, err := authconfig.Parse(s.Data[authconfig.ConfigFile])
		if err != nil || cfg.Users["admin"] == nil ||
			bcrypt.CompareHashAndPassword([]byte(cfg.Users["admin"].Password), []byte(pw)) != nil {
			stale++
		}
	}
	return stale, nil
}
