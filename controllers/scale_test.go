package controllers

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/apply"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// waitReconciledSince waits until every named RegistryAuth of ns finished a
// reconcile after the counter stood at mark.
func waitReconciledSince(t *testing.T, ns string, mark int64, names ...string) {
	t.Helper()
	eventually(t, 60*time.Second, func() error {
		for _, n := range names {
			v, ok := reconc.last.Load(key(ns, n))
			if !ok || v.(int64) <= mark {
				return fmt.Errorf("%s/%s not reconciled since the mark", ns, n)
			}
		}
		return nil
	})
}

// TestRestartWithNothingChangedSendsNoWrites: what was applied and which
// passwords were verified is kept in the cluster (the applied-hash
// annotation, the password fingerprints), so a fresh operator reconciles
// every registry and sends no write at all.
func TestRestartWithNothingChangedSendsNoWrites(t *testing.T) {
	ns := newNamespace(t)
	names := []string{"r1", "r2", "r3"}
	for _, n := range names {
		createClassic(t, ns, n)
	}
	for _, n := range names {
		waitCondition(t, ns, n, v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	}
	settle(t)
	auth := get(t, ns, "r1-auth", &corev1.Secret{})
	fps := string(auth.Data[KeyPasswordFingerprints])
	if !strings.Contains(fps, `"admin":"v1.`) || !strings.Contains(fps, `"reader":"v1.`) || strings.Contains(fps, "badmin") {
		t.Fatalf("auth Secret fingerprints = %q, want one per plaintext user and no password", fps)
	}
	if get(t, ns, "r1", &appsv1.Deployment{}).Annotations[apply.AnnotationAppliedHash] == "" {
		t.Fatal("the Deployment carries no applied hash")
	}

	restartOperator(t)
	mark := counter.mark()
	n0 := reconc.n.Load()
	waitReconciledSince(t, ns, n0, names...)
	settle(t)
	if w := counter.writesIn(mark, ns); len(w) != 0 {
		t.Errorf("a restarted operator sent %d writes for registries in place: %v", len(w), w)
	}
}

// TestOwnedFieldEditedIsPutBack: no memory of resourceVersions any more, so
// an edit of a field the operator sets must still be seen and undone.
func TestOwnedFieldEditedIsPutBack(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "drift")
	waitCondition(t, ns, "drift", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	settle(t)
	cm := get(t, ns, "drift-registry", &corev1.ConfigMap{})
	want := maps.Clone(cm.Data)
	if len(want) == 0 {
		t.Fatal("the registry ConfigMap holds no data")
	}
	patch := client.MergeFrom(cm.DeepCopy())
	for k := range cm.Data {
		cm.Data[k] = "edited"
	}
	if err := k8s.Patch(context.Background(), cm, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		got := get(t, ns, "drift-registry", &corev1.ConfigMap{}).Data
		for k, v := range want {
			if got[k] != v {
				return fmt.Errorf("%s not put back", k)
			}
		}
		return nil
	})
}

// TestUnrelatedObjectsStayOutOfTheCache: the operator's cache holds only the
// Secrets and ConfigMaps it owns; users' password Secrets are read directly,
// and the watch that notices their changes keeps names only.
func TestUnrelatedObjectsStayOutOfTheCache(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	for i := range 5 {
		s := passwordSecret(ns, fmt.Sprintf("unrelated-%d", i), "not-ours")
		s.Labels = map[string]string{"team": "x"}
		s.Annotations = map[string]string{"big": strings.Repeat("a", 1000)}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("unrelated-%d", i)}, Data: map[string]string{"k": "v"}}
		if err := k8s.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := k8s.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	createClassic(t, ns, "cached")
	waitCondition(t, ns, "cached", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")

	var secrets corev1.SecretList
	if err := operatorCache.List(ctx, &secrets, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var cms corev1.ConfigMapList
	if err := operatorCache.List(ctx, &cms, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var cached []string
	for _, s := range secrets.Items {
		cached = append(cached, "Secret/"+s.Name)
	}
	for _, c := range cms.Items {
		cached = append(cached, "ConfigMap/"+c.Name)
	}
	if len(secrets.Items) == 0 || len(cms.Items) == 0 {
		t.Fatalf("the cache holds no owned Secret or ConfigMap (%v): the assertion below would prove nothing", cached)
	}
	for _, c := range cached {
		if strings.Contains(c, "unrelated") || strings.HasSuffix(c, "-admin") || strings.HasSuffix(c, "-reader") || strings.HasSuffix(c, "kube-root-ca.crt") {
			t.Errorf("%s is in the operator's cache; only owned objects belong there (cached: %v)", c, cached)
		}
	}

	// The metadata watch sees every Secret, but keeps no labels,
	// annotations or data.
	eventually(t, 10*time.Second, func() error {
		m := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}}
		if err := secretMetaCache.Get(ctx, key(ns, "unrelated-0"), m); err != nil {
			return err
		}
		if len(m.Labels)+len(m.Annotations)+len(m.ManagedFields) != 0 {
			t.Fatalf("the Secret metadata cache keeps more than identity: %+v", m.ObjectMeta)
		}
		return nil
	})
}

// TestConcurrentReconcilesConverge: many registries reconciled at once each
// end up with their own complete set of objects, their own users' hashes,
// and no object without its owner.
func TestConcurrentReconcilesConverge(t *testing.T) {
	ns := newNamespace(t)
	const n = 12
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ra := classicRA(ns, fmt.Sprintf("c%d", i))
			ctx := context.Background()
			for _, s := range []*corev1.Secret{
				passwordSecret(ns, ra.Name+"-admin", "admin-of-"+ra.Name),
				passwordSecret(ns, ra.Name+"-reader", "reader-of-"+ra.Name),
			} {
				if err := k8s.Create(ctx, s); err != nil {
					t.Error(err)
				}
			}
			if err := k8s.Create(ctx, ra); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range n {
		waitCondition(t, ns, fmt.Sprintf("c%d", i), v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	}
	settle(t)

	owners := map[string]string{} // RegistryAuth UID -> name
	var ras v1alpha1.RegistryAuthList
	if err := k8s.List(context.Background(), &ras, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, ra := range ras.Items {
		owners[string(ra.UID)] = ra.Name
	}
	perOwner := map[string][]string{}
	check := func(kind string, o client.Object) {
		if o.GetLabels()[render.LabelManagedBy] != render.ManagedBy {
			return
		}
		ref := metav1.GetControllerOf(o)
		if ref == nil || owners[string(ref.UID)] == "" {
			t.Errorf("%s %s has no live RegistryAuth as controller: an orphan", kind, o.GetName())
			return
		}
		owner := owners[string(ref.UID)]
		if o.GetLabels()[render.LabelInstance] != owner || !strings.HasPrefix(o.GetName(), owner) {
			t.Errorf("%s %s is controlled by %s: crossed wires", kind, o.GetName(), owner)
		}
		perOwner[owner] = append(perOwner[owner], kind)
	}
	var secrets corev1.SecretList
	var cms corev1.ConfigMapList
	var deps appsv1.DeploymentList
	var svcs corev1.ServiceList
	for _, l := range []client.ObjectList{&secrets, &cms, &deps, &svcs} {
		if err := k8s.List(context.Background(), l, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range secrets.Items {
		check("Secret", &secrets.Items[i])
	}
	for i := range cms.Items {
		check("ConfigMap", &cms.Items[i])
	}
	for i := range deps.Items {
		check("Deployment", &deps.Items[i])
	}
	for i := range svcs.Items {
		check("Service", &svcs.Items[i])
	}
	want := len(perOwner["c0"])
	for i := range n {
		name := fmt.Sprintf("c%d", i)
		if got := len(perOwner[name]); got != want || got < 6 {
			t.Errorf("%s owns %d objects, c0 owns %d", name, got, want)
		}
		cfg, _, err := authconfig.Parse(get(t, ns, name+"-auth", &corev1.Secret{}).Data[authconfig.ConfigFile])
		if err != nil {
			t.Fatal(err)
		}
		if bcrypt.CompareHashAndPassword([]byte(cfg.Users["admin"].Password), []byte("admin-of-"+name)) != nil {
			t.Errorf("%s: admin's hash is not of its own password", name)
		}
	}
}

// TestOwnedSecretStrippedOfLabelIsKept: the cache holds owned objects by
// label, so a CA Secret someone stripped of the label leaves the cache. It
// must still be read (not taken for missing and replaced by a new CA), and
// the next apply puts the label back.
func TestOwnedSecretStrippedOfLabelIsKept(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "strip")
	ra := waitCondition(t, ns, "strip", v1alpha1.ConditionCertificatesReady, metav1.ConditionTrue, "")
	settle(t)
	name := render.NamesFor(ra).ServingCA
	ca := get(t, ns, name, &corev1.Secret{})
	before := ca.Data[render.KeyCACert]
	patch := client.MergeFrom(ca.DeepCopy())
	delete(ca.Labels, render.LabelManagedBy)
	if err := k8s.Patch(context.Background(), ca, patch); err != nil {
		t.Fatal(err)
	}
	poke(t, ns, "strip")
	eventually(t, 20*time.Second, func() error {
		s := get(t, ns, name, &corev1.Secret{})
		if string(s.Data[render.KeyCACert]) != string(before) {
			t.Fatal("the CA was replaced after its label was removed")
		}
		if s.Labels[render.LabelManagedBy] != render.ManagedBy {
			return fmt.Errorf("label not put back")
		}
		return nil
	})
	settle(t)
	if s := get(t, ns, name, &corev1.Secret{}); string(s.Data[render.KeyCACert]) != string(before) {
		t.Fatal("the CA was replaced after its label was removed")
	}
}
