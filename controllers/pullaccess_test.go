package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pullaccess"
)

// Pull access under test: its reconciles are counted, and a robot password
// is handed out 2s after the auth config holds it (DefaultPullSettle: 2m).
var (
	pullRec        *PullAccessReconciler
	pullReconciles atomic.Int64
)

const pullSettle = 2 * time.Second

// pullSettleNow is the Settle the next operator start uses.
var pullSettleNow = pullSettle

// pullFixture is a registry granting pull access to namespaces labelled
// pull=<label>, and tenant namespaces with a "default" ServiceAccount (no
// controller-manager runs here to create it).
type pullFixture struct {
	raNs, ra, label, secret string
}

func newPullFixture(t *testing.T) *pullFixture {
	t.Helper()
	f := &pullFixture{raNs: newNamespace(t), ra: "reg"}
	f.label = f.raNs
	ra := classicRA(f.raNs, f.ra)
	ra.Spec.PullSecrets = &v1alpha1.PullSecretsSpec{
		NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"pull": f.label}},
		Repositories:      []v1alpha1.PullRepository{{Name: "${namespace}/*"}, {Name: "base/*"}},
	}
	createWithUsers(t, ra)
	f.secret = f.raNs + "-reg-pull"
	return f
}

// tenant makes a namespace, labelled for the fixture when selected.
func (f *pullFixture) tenant(t *testing.T, selected bool, pullSecrets ...string) string {
	t.Helper()
	ctx := context.Background()
	name := newNamespace(t)
	if selected {
		f.setLabel(t, name, true)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "default"}}
	for _, s := range pullSecrets {
		sa.ImagePullSecrets = append(sa.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
	}
	if err := k8s.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	return name
}

func (f *pullFixture) setLabel(t *testing.T, ns string, on bool) {
	t.Helper()
	n := get(t, "", ns, &corev1.Namespace{})
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	if on {
		n.Labels["pull"] = f.label
	} else {
		delete(n.Labels, "pull")
	}
	if err := k8s.Update(context.Background(), n); err != nil {
		t.Fatal(err)
	}
}

// granted checks everything a selected namespace must have: the Secret
// with a working credential whose hash (only) is in the auth config, and
// the ServiceAccount entry. It returns the robot's generation.
func (f *pullFixture) granted(t *testing.T, ns string) (gen int64) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		s := &corev1.Secret{}
		if err := k8s.Get(context.Background(), key(ns, f.secret), s); err != nil {
			return err
		}
		if s.Type != corev1.SecretTypeDockerConfigJson {
			return fmt.Errorf("type %s", s.Type)
		}
		g, _ := strconv.ParseInt(s.Annotations[pullaccess.AnnotationGeneration], 10, 64)
		user := pullaccess.RobotUser(ns, g)
		pw := pullaccess.PasswordIn(s.Data[corev1.DockerConfigJsonKey], user)
		if len(pw) < 43 {
			return fmt.Errorf("no usable password for %s", user)
		}
		ra := get(t, f.raNs, f.ra, &v1alpha1.RegistryAuth{})
		var auths struct{ Auths map[string]any }
		_ = json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &auths)
		for _, h := range pullHosts(ra) {
			if auths.Auths[h] == nil {
				return fmt.Errorf("no entry for %s in %v", h, auths.Auths)
			}
		}
		cfg := f.authConfig(t)
		u := cfg.Users[user]
		if u == nil {
			return fmt.Errorf("auth config has no user %s", user)
		}
		if bcrypt.CompareHashAndPassword([]byte(u.Password), []byte(pw)) != nil {
			return fmt.Errorf("the auth config's hash of %s does not match the Secret", user)
		}
		if !slices.Equal(u.Labels[pullaccess.LabelNamespace], []string{ns}) {
			return fmt.Errorf("labels %v", u.Labels)
		}
		if !hasEntry(get(t, ns, "default", &corev1.ServiceAccount{}), f.secret) {
			return fmt.Errorf("default ServiceAccount lacks %s", f.secret)
		}
		gen = g
		return nil
	})
	return gen
}

// gone checks that nothing of pull access is left in ns.
func (f *pullFixture) gone(t *testing.T, ns string) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		if exists(t, ns, f.secret, &corev1.Secret{}) {
			return fmt.Errorf("Secret %s/%s still there", ns, f.secret)
		}
		var sas corev1.ServiceAccountList
		if err := k8s.List(context.Background(), &sas, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, sa := range sas.Items {
			if hasEntry(&sa, f.secret) {
				return fmt.Errorf("ServiceAccount %s still names %s", sa.Name, f.secret)
			}
		}
		if exists(t, f.raNs, f.ra, &v1alpha1.RegistryAuth{}) {
			for u := range f.authConfig(t).Users {
				if strings.HasPrefix(u, pullaccess.RobotPrefix+ns+".") {
					return fmt.Errorf("auth config still has %s", u)
				}
			}
		}
		return nil
	})
}

func (f *pullFixture) authConfig(t *testing.T) *authconfig.Config {
	t.Helper()
	s := get(t, f.raNs, f.ra+"-auth", &corev1.Secret{})
	cfg, _, err := authconfig.Parse(s.Data[authconfig.ConfigFile])
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (f *pullFixture) state(t *testing.T) *pullaccess.State {
	t.Helper()
	s := &corev1.Secret{}
	if err := k8s.Get(context.Background(), key(f.raNs, f.ra+"-robots"), s); err != nil {
		t.Fatal(err)
	}
	st, err := pullaccess.ParseState(s.Data[pullaccess.StateKey])
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestPullAccessFollowsTheSelector: labelled namespaces get access, an
// unlabelled one gets nothing, unlabelling removes it all, and deleting the
// registry (finalizer) leaves nothing behind in any namespace.
func TestPullAccessFollowsTheSelector(t *testing.T) {
	f := newPullFixture(t)
	a, b, other := f.tenant(t, true), f.tenant(t, true), f.tenant(t, false)
	f.granted(t, a)
	f.granted(t, b)
	// The robots' rules come before every rule of the spec.
	cfg := f.authConfig(t)
	first, spec := -1, -1
	for i, r := range cfg.ACL {
		if first < 0 && r.Match.Name != nil && *r.Match.Name == "${labels:namespace}/*" {
			first = i
		}
		if spec < 0 && r.Match.Account != nil && *r.Match.Account == "admin" {
			spec = i
		}
	}
	if first < 0 || spec < 0 || first > spec {
		t.Errorf("robots' rule at %d, the spec's first at %d: %+v", first, spec, cfg.ACL)
	}
	f.gone(t, other)
	if !slices.Contains(get(t, f.raNs, f.ra, &v1alpha1.RegistryAuth{}).Finalizers, pullaccess.Finalizer) {
		t.Error("no finalizer on the registry")
	}
	waitCondition(t, f.raNs, f.ra, v1alpha1.ConditionPullSecretsReady, metav1.ConditionTrue, "")

	f.setLabel(t, a, false)
	f.gone(t, a)
	if f.state(t).Robots[a] != nil {
		t.Errorf("state still holds the robot of %s", a)
	}
	f.granted(t, b)
	f.setLabel(t, other, true)
	f.granted(t, other)

	if err := k8s.Delete(context.Background(), &v1alpha1.RegistryAuth{ObjectMeta: metav1.ObjectMeta{Namespace: f.raNs, Name: f.ra}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		if exists(t, f.raNs, f.ra, &v1alpha1.RegistryAuth{}) {
			return fmt.Errorf("registry still there (finalizer)")
		}
		return nil
	})
	for _, ns := range []string{a, b, other} {
		f.gone(t, ns)
	}
	var left corev1.SecretList
	if err := k8s.List(context.Background(), &left, client.MatchingLabels{pullaccess.LabelKind: pullaccess.KindPullSecret}); err != nil {
		t.Fatal(err)
	}
	for _, s := range left.Items {
		if s.Annotations[pullaccess.AnnotationRegistry] == f.raNs+"/"+f.ra {
			t.Errorf("left behind: Secret %s/%s", s.Namespace, s.Name)
		}
	}
}

// TestPullAccessKeepsOtherWritersEntries: another writer manages the same
// imagePullSecrets list (read-modify-write, and a forced server-side apply
// that claims the atomic list). Pull access never removes their entries,
// puts its own back, and on deselection removes only its own.
func TestPullAccessKeepsOtherWritersEntries(t *testing.T) {
	ctx := context.Background()
	f := newPullFixture(t)
	ns := f.tenant(t, true, "theirs")
	f.granted(t, ns)

	// Writer 2, read-modify-write: appends its entry after ours.
	sa := get(t, ns, "default", &corev1.ServiceAccount{})
	sa.ImagePullSecrets = append(sa.ImagePullSecrets, corev1.LocalObjectReference{Name: "theirs-2"})
	if err := k8s.Update(ctx, sa); err != nil {
		t.Fatal(err)
	}
	// Writer 3 applies its own view of the list with force: the list is
	// atomic, so this replaces it, dropping ours. Pull access adds it back
	// and keeps writer 3's.
	apply := []byte(`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default","namespace":"` + ns +
		`"},"imagePullSecrets":[{"name":"theirs"},{"name":"theirs-2"},{"name":"tool"}]}`)
	if err := k8s.Patch(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}},
		client.RawPatch(types.ApplyPatchType, apply), client.FieldOwner("other-tool"), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		got := names(get(t, ns, "default", &corev1.ServiceAccount{}).ImagePullSecrets)
		want := []string{"theirs", "theirs-2", "tool", f.secret}
		if !slices.Equal(got, want) {
			return fmt.Errorf("imagePullSecrets %v, want %v", got, want)
		}
		return nil
	})

	f.setLabel(t, ns, false)
	f.gone(t, ns)
	if got := names(get(t, ns, "default", &corev1.ServiceAccount{}).ImagePullSecrets); !slices.Equal(got, []string{"theirs", "theirs-2", "tool"}) {
		t.Errorf("after deselection imagePullSecrets = %v: others' entries must stay, in order", got)
	}
}

func names(refs []corev1.LocalObjectReference) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

// TestPullAccessLeavesForeignSecretAlone: a Secret of the pull Secret's name
// that is not ours is never overwritten: condition NameConflict and an Event.
// Once it is gone, ours is created.
func TestPullAccessLeavesForeignSecretAlone(t *testing.T) {
	ctx := context.Background()
	f := newPullFixture(t)
	ns := f.tenant(t, false)
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: f.secret}, Data: map[string][]byte{"mine": []byte("keep")}}
	if err := k8s.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	f.setLabel(t, ns, true)
	waitCondition(t, f.raNs, f.ra, v1alpha1.ConditionPullSecretsReady, metav1.ConditionFalse, v1alpha1.ReasonNameConflict)
	assertEvents(t, f.raNs, f.ra, v1alpha1.ReasonNameConflict)
	settle(t)
	got := get(t, ns, f.secret, &corev1.Secret{})
	if string(got.Data["mine"]) != "keep" || len(got.Data) != 1 || got.Labels[pullaccess.LabelKind] != "" {
		t.Errorf("the foreign Secret was changed: %v %v", got.Labels, got.Data)
	}
	if hasEntry(get(t, ns, "default", &corev1.ServiceAccount{}), f.secret) {
		t.Error("the ServiceAccount names a Secret that is not ours")
	}
	if err := k8s.Delete(ctx, got); err != nil {
		t.Fatal(err)
	}
	// Nothing of ours changed: an annotation on the registry asks again.
	if err := annotate(&v1alpha1.RegistryAuth{}, f.raNs, f.ra); err != nil {
		t.Fatal(err)
	}
	f.granted(t, ns)
	waitCondition(t, f.raNs, f.ra, v1alpha1.ConditionPullSecretsReady, metav1.ConditionTrue, "")
}

// TestPullAccessRotationSurvivesRestart: an on-demand rotation started
// before an operator restart completes after it, with the old credential
// still accepted during the overlap and dropped after it.
func TestPullAccessRotationSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	f := newPullFixture(t)
	ns := f.tenant(t, true)
	g1 := f.granted(t, ns)

	n := get(t, "", ns, &corev1.Namespace{})
	n.Annotations = map[string]string{v1alpha1.AnnotationRotatePullSecret: "leak-1"}
	if err := k8s.Update(ctx, n); err != nil {
		t.Fatal(err)
	}
	// The successor exists in state and in the Secret's next key, before
	// kubelets are handed it.
	eventually(t, 20*time.Second, func() error {
		r := f.state(t).Robots[ns]
		if r == nil || r.Next == nil {
			return fmt.Errorf("no successor yet: %+v", r)
		}
		return nil
	})
	restartOperator(t)
	var g2 int64
	eventually(t, 30*time.Second, func() error {
		g2 = f.granted(t, ns)
		if g2 == g1 {
			r := f.state(t).Robots[ns]
			var users []string
			for u := range f.authConfig(t).Users {
				users = append(users, u)
			}
			return fmt.Errorf("still generation %d; state current=%+v next=%+v; auth users %v", g1, r.Current, r.Next, users)
		}
		return nil
	})
	if g2 != g1+1 {
		t.Errorf("generation %d after one rotation from %d: the restart lost the rotation's state", g2, g1)
	}
	r := f.state(t).Robots[ns]
	if r.Previous == nil || r.Previous.Generation != g1 || r.RotateRequest != "leak-1" {
		t.Fatalf("state after promotion: %+v", r)
	}
	if f.authConfig(t).Users[pullaccess.RobotUser(ns, g1)] == nil {
		t.Error("the old credential left the auth config before the overlap ended")
	}
	advanceClock(2 * time.Hour) // past the 1h default overlap
	if err := annotate(&v1alpha1.RegistryAuth{}, f.raNs, f.ra); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		if f.authConfig(t).Users[pullaccess.RobotUser(ns, g1)] != nil {
			return fmt.Errorf("old credential still accepted after the overlap")
		}
		return nil
	})
	f.granted(t, ns)
}

// TestPullAccessNoOpResyncSendsNoWrites: with N namespaces in place, a
// resync (the registry touched, a namespace relabelled with an unrelated
// label) sends no mutating request. PULL_NAMESPACES=1000 for the benchmark.
func TestPullAccessNoOpResyncSendsNoWrites(t *testing.T) {
	n := 30
	if v, err := strconv.Atoi(os.Getenv("PULL_NAMESPACES")); err == nil && v > 0 {
		n = v
	}
	f := newPullFixture(t)
	start := time.Now()
	var tenants []string
	for range n {
		tenants = append(tenants, f.tenant(t, true))
	}
	eventually(t, time.Duration(n)*time.Second+30*time.Second, func() error {
		var list corev1.SecretList
		if err := k8s.List(context.Background(), &list, client.MatchingLabels{pullaccess.LabelKind: pullaccess.KindPullSecret}); err != nil {
			return err
		}
		c := 0
		for _, s := range list.Items {
			if s.Annotations[pullaccess.AnnotationRegistry] == f.raNs+"/"+f.ra {
				c++
			}
		}
		if c != n {
			return fmt.Errorf("%d of %d pull Secrets", c, n)
		}
		return nil
	})
	t.Logf("FIGURE %d namespaces: all pull Secrets in %s", n, time.Since(start).Round(time.Millisecond))
	f.granted(t, tenants[n-1])
	settlePull(t)

	mark := counter.mark()
	p0 := pullReconciles.Load()
	if err := annotate(&v1alpha1.RegistryAuth{}, f.raNs, f.ra); err != nil {
		t.Fatal(err)
	}
	if err := annotate(&corev1.Namespace{}, "", tenants[0]); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if pullReconciles.Load() < p0+2 {
			return fmt.Errorf("no resync yet")
		}
		return nil
	})
	settlePull(t)
	var writes []string
	for _, ns := range append([]string{f.raNs}, tenants...) {
		writes = append(writes, counter.writesIn(mark, ns)...)
	}
	t.Logf("FIGURE %d namespaces: no-op resync: %d pull reconciles, %d mutating requests", n, pullReconciles.Load()-p0, len(writes))
	if len(writes) != 0 {
		t.Errorf("a no-op resync sent %d mutating requests: %v", len(writes), writes)
	}
}

// settlePull waits until both controllers are idle.
func settlePull(t *testing.T) {
	t.Helper()
	last, quiet := pullReconciles.Load(), time.Now()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if n := pullReconciles.Load(); n != last {
			last, quiet = n, time.Now()
		} else if time.Since(quiet) > 1500*time.Millisecond {
			settle(t)
			return
		}
	}
	t.Fatal("pull access did not settle within 60s")
}
