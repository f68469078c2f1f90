package controllers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/apply"
	"github.com/registry-auth-operator/registry-auth-operator/internal/nodetrust"
	"github.com/registry-auth-operator/registry-auth-operator/internal/passwords"
)

// rulesOf reads the rules of the first object of a manifest of
// config/watch-namespaces: the test grants exactly what an install grants.
func rulesOf(t *testing.T, file string) []rbacv1.PolicyRule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "config", "watch-namespaces", file))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.Role
	if err := yaml.Unmarshal(b, &role); err != nil || len(role.Rules) == 0 {
		t.Fatalf("%s: %v (%d rules)", file, err, len(role.Rules))
	}
	return role.Rules
}

// TestWatchNamespacesWithoutOwnNamespace runs the operator as an install
// with --watch-namespaces does: as a user holding only the RBAC of
// config/watch-namespaces (a ClusterRole without Secrets and ConfigMaps, a
// Role in the watched namespace and one in the operator's namespace), which
// is not among the watched ones. The registry is reconciled, the node-trust
// ConfigMap in the operator's namespace is written, and a registry outside
// the watched namespaces is left alone.
func TestWatchNamespacesWithoutOwnNamespace(t *testing.T) {
	ctx := context.Background()
	watched, opNS, other := newNamespace(t), newNamespace(t), newNamespace(t)
	user := "watch-operator-" + watched

	// The suite's operator watches everything: it stops for this test.
	stopOperator()
	t.Cleanup(func() {
		if err := startOperator(); err != nil {
			t.Fatal(err)
		}
	})

	grant := []client.Object{
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: rulesOf(t, "cluster_role.yaml")},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}},
	}
	for _, ns := range []string{watched, opNS} {
		grant = append(grant,
			&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: user}, Rules: rulesOf(t, "namespace_roles.yaml")},
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: user},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}})
	}
	for _, o := range grant {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(ctx, o) })
	}

	as := rest.CopyConfig(testConfig)
	as.Impersonate = rest.ImpersonationConfig{UserName: user}
	scope := Scope{WatchNamespaces: []string{watched}, OperatorNamespace: opNS, NodeTrust: true}
	mgr, err := ctrl.NewManager(as, ctrl.Options{
		Scheme:     NewScheme(),
		Cache:      CacheOptions(scope),
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := client.New(as, client.Options{Scheme: NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	fpKey, err := passwords.LoadKey(ctx, direct, opNS, "fingerprint-key")
	if err != nil {
		t.Fatalf("fingerprint key in the operator's namespace: %v", err)
	}
	applier := &apply.Applier{Client: mgr.GetClient(), Reader: mgr.GetClient()}
	r := &RegistryAuthReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(), Applier: applier,
		Recorder: mgr.GetEventRecorder("registry-auth-operator"), Options: testOpts,
		Hasher: &passwords.Hasher{Cost: 4, Key: fpKey}, Now: testNow, Checker: envtestStandInChecker{},
	}
	if err := r.SetupWithManager(mgr, SetupOptions{Scope: scope, MaxConcurrentReconciles: 2}); err != nil {
		t.Fatal(err)
	}
	nt := &NodeTrustReconciler{Client: mgr.GetClient(), Applier: applier, Namespace: opNS, Name: "node-trust"}
	if err := nt.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(mctx); err != nil {
			t.Errorf("watch-namespaces manager: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })

	createClassic(t, other, "outside")
	createClassic(t, watched, "inside")
	var ra *v1alpha1.RegistryAuth
	eventually(t, 60*time.Second, func() error {
		ra = get(t, watched, "inside", &v1alpha1.RegistryAuth{})
		if c := condition(ra, v1alpha1.ConditionConfigRendered); c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("inside not rendered: %+v", ra.Status.Conditions)
		}
		if ra.Status.URLs.Node == "" {
			return fmt.Errorf("no node URL yet")
		}
		return nil
	})
	host := ra.Status.URLs.Node[len("https://"):]
	eventually(t, 30*time.Second, func() error {
		cm := &corev1.ConfigMap{}
		if err := k8s.Get(ctx, key(opNS, "node-trust"), cm); err != nil {
			return err
		}
		m, err := nodetrust.Decode(cm.Data[nodetrust.DataKey])
		if err != nil {
			return err
		}
		if len(m[host]) == 0 {
			return fmt.Errorf("node trust has no entry for %s: %v", host, cm.Data)
		}
		return nil
	})
	if out := get(t, other, "outside", &v1alpha1.RegistryAuth{}); len(out.Status.Conditions) != 0 {
		t.Errorf("a registry outside the watched namespaces was reconciled: %+v", out.Status.Conditions)
	}
}
