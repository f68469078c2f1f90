package controllers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/yaml"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

func clusterIdentity() v1alpha1.Identity {
	return v1alpha1.Identity{Name: "cluster", Kubernetes: &v1alpha1.KubernetesIdentity{}}
}

// TestAuthDelegatorLifecycle: a kubernetes identity gets the pods a
// ServiceAccount and it a ClusterRoleBinding to system:auth-delegator; the
// binding comes back when deleted by hand, goes when the identity goes, and
// goes with the RegistryAuth (which the finalizer keeps until then).
func TestAuthDelegatorLifecycle(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	ra := classicRA(ns, "deleg")
	ra.Spec.Auth.Identities = []v1alpha1.Identity{clusterIdentity()}
	createWithUsers(t, ra)
	names := render.NamesFor(ra)

	waitBinding := func(want bool) {
		t.Helper()
		eventually(t, 20*time.Second, func() error {
			if got := exists(t, "", names.AuthDelegator, &rbacv1.ClusterRoleBinding{}); got != want {
				return fmt.Errorf("ClusterRoleBinding %s exists = %v, want %v", names.AuthDelegator, got, want)
			}
			return nil
		})
	}
	waitPodsRunAs := func(sa string) {
		t.Helper()
		eventually(t, 20*time.Second, func() error {
			d := &appsv1.Deployment{}
			if !exists(t, ns, names.Deployment, d) {
				return fmt.Errorf("no Deployment yet")
			}
			if got := d.Spec.Template.Spec.ServiceAccountName; got != sa {
				return fmt.Errorf("pods run as %q, want %q", got, sa)
			}
			return nil
		})
	}

	waitBinding(true)
	crb := get(t, "", names.AuthDelegator, &rbacv1.ClusterRoleBinding{})
	if crb.RoleRef.Name != render.AuthDelegatorRole || len(crb.Subjects) != 1 ||
		crb.Subjects[0].Name != names.AuthServiceAccount || crb.Subjects[0].Namespace != ns {
		t.Fatalf("binding: %+v %+v", crb.RoleRef, crb.Subjects)
	}
	sa := get(t, ns, names.AuthServiceAccount, &corev1.ServiceAccount{})
	if metav1.GetControllerOf(sa) == nil || metav1.GetControllerOf(sa).Name != ra.Name {
		t.Errorf("ServiceAccount not owned by the RegistryAuth: %v", sa.OwnerReferences)
	}
	waitPodsRunAs(names.AuthServiceAccount)
	if !controllerutil.ContainsFinalizer(get(t, ns, ra.Name, &v1alpha1.RegistryAuth{}), FinalizerAuthDelegator) {
		t.Fatal("no finalizer guards the ClusterRoleBinding")
	}

	// Deleted by hand: put back (the binding is watched).
	if err := k8s.Delete(ctx, crb); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		live := &rbacv1.ClusterRoleBinding{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: names.AuthDelegator}, live); err != nil {
			return err
		}
		if live.UID == crb.UID {
			return fmt.Errorf("still the old binding")
		}
		return nil
	})

	// The identity goes: the binding and the finalizer go, the pods run as
	// the namespace's default ServiceAccount again.
	cur := get(t, ns, ra.Name, &v1alpha1.RegistryAuth{})
	cur.Spec.Auth.Identities = nil
	if err := updateRA(ctx, cur); err != nil {
		t.Fatal(err)
	}
	waitBinding(false)
	waitPodsRunAs("")
	eventually(t, 20*time.Second, func() error {
		if controllerutil.ContainsFinalizer(get(t, ns, ra.Name, &v1alpha1.RegistryAuth{}), FinalizerAuthDelegator) {
			return fmt.Errorf("finalizer still set")
		}
		return nil
	})

	// Back, then the RegistryAuth is deleted: the binding goes with it.
	cur = get(t, ns, ra.Name, &v1alpha1.RegistryAuth{})
	cur.Spec.Auth.Identities = []v1alpha1.Identity{clusterIdentity()}
	if err := updateRA(ctx, cur); err != nil {
		t.Fatal(err)
	}
	waitBinding(true)
	if err := k8s.Delete(ctx, cur); err != nil {
		t.Fatal(err)
	}
	waitBinding(false)
	eventually(t, 20*time.Second, func() error {
		if exists(t, ns, ra.Name, &v1alpha1.RegistryAuth{}) {
			return fmt.Errorf("RegistryAuth still there")
		}
		return nil
	})
}

// TestAuthDelegatorForeignBinding: a ClusterRoleBinding of that name that
// is not this registry's is reported and left alone, also on deletion.
func TestAuthDelegatorForeignBinding(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	ra := classicRA(ns, "foreign")
	ra.Spec.Auth.Identities = []v1alpha1.Identity{clusterIdentity()}
	foreign := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: render.NamesFor(ra).AuthDelegator},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "someone"}},
	}
	if err := k8s.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx, foreign) })
	createWithUsers(t, ra)
	got := waitCondition(t, ns, ra.Name, v1alpha1.ConditionNameConflict, metav1.ConditionTrue, v1alpha1.ReasonNameConflict)
	t.Log(condition(got, v1alpha1.ConditionNameConflict).Message)
	if err := k8s.Delete(ctx, got); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		if exists(t, ns, ra.Name, &v1alpha1.RegistryAuth{}) {
			return fmt.Errorf("RegistryAuth still there")
		}
		return nil
	})
	live := get(t, "", foreign.Name, &rbacv1.ClusterRoleBinding{})
	if live.UID != foreign.UID || live.RoleRef.Name != "view" {
		t.Errorf("the foreign binding was touched: %+v", live.RoleRef)
	}
}

// TestOperatorRoleBindsOnlyAuthDelegator: with exactly the RBAC of
// config/rbac/role.yaml, the operator can bind system:auth-delegator (which
// it does not hold) and no other ClusterRole. (Not "admin" or "edit":
// envtest runs no aggregation controller, so those are empty here.)
func TestOperatorRoleBindsOnlyAuthDelegator(t *testing.T) {
	ctx := context.Background()
	b, err := os.ReadFile(filepath.Join("..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(b, &role); err != nil {
		t.Fatal(err)
	}
	user := "operator-rbac-" + newNamespace(t)
	role.ObjectMeta = metav1.ObjectMeta{Name: user}
	grant := []client.Object{&role, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}}
	for _, o := range grant {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(ctx, o) })
	}
	as := rest.CopyConfig(testConfig)
	as.Impersonate = rest.ImpersonationConfig{UserName: user}
	c, err := client.New(as, client.Options{Scheme: NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		role string
		ok   bool
	}{{render.AuthDelegatorRole, true}, {"cluster-admin", false}, {"system:node", false}, {"system:kube-controller-manager", false}} {
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: user + "-" + tc.role},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: tc.role},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "x-auth", Namespace: "default"}},
		}
		err := c.Create(ctx, crb)
		if err == nil {
			t.Cleanup(func() { _ = k8s.Delete(ctx, crb) })
		}
		if (err == nil) != tc.ok || (err != nil && !apierrors.IsForbidden(err)) {
			t.Errorf("binding %s: %v, want allowed=%v", tc.role, err, tc.ok)
		}
	}
}
