package controllers

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// TestAuthSyncNudgesRunningPods: when a registry's auth Secret changes, each
// of its running pods gets the new content version in an annotation (what
// makes the kubelet rewrite the volume now); a pod that has it already, a
// pod that is not running and another registry's pod are left alone.
func TestAuthSyncNudgesRunningPods(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	ra := &v1alpha1.RegistryAuth{ObjectMeta: metav1.ObjectMeta{Name: "sync", Namespace: ns, UID: types.UID("00000000-0000-0000-0000-000000000001")}}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: render.NamesFor(ra).AuthConfig, Namespace: ns,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ra, v1alpha1.GroupVersion.WithKind("RegistryAuth"))}},
		Data: map[string][]byte{"auth_config.yml": []byte("users: {}\n")},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	pod := func(name string, labels map[string]string, phase corev1.PodPhase) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "auth", Image: "auth"}}},
		}
		if err := k8s.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		p.Status.Phase = phase
		if err := k8s.Status().Update(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	other := &v1alpha1.RegistryAuth{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: ns}}
	running := pod("running", render.Labels(ra, "registry"), corev1.PodRunning)
	pending := pod("pending", render.Labels(ra, "registry"), corev1.PodPending)
	foreign := pod("foreign", render.Labels(other, "registry"), corev1.PodRunning)

	r := &AuthSyncReconciler{Client: k8s, Pods: k8s}
	reconcileAndRead := func() (map[string]string, map[string]string) {
		t.Helper()
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key(ns, secret.Name)}); err != nil {
			t.Fatal(err)
		}
		versions, rvs := map[string]string{}, map[string]string{}
		for _, p := range []*corev1.Pod{running, pending, foreign} {
			got := get(t, ns, p.Name, &corev1.Pod{})
			versions[p.Name], rvs[p.Name] = got.Annotations[AnnotationAuthConfig], got.ResourceVersion
		}
		return versions, rvs
	}

	v1, rv1 := reconcileAndRead()
	if v1["running"] != contentVersion(secret.Data) || v1["pending"] != "" || v1["foreign"] != "" {
		t.Fatalf("after the first reconcile: %v", v1)
	}
	// Nothing changed: no request touches any pod.
	if _, rv2 := reconcileAndRead(); rv2["running"] != rv1["running"] {
		t.Error("a pod was patched again although the Secret did not change")
	}
	// A password change: the running pod is told the new version.
	secret.Data["auth_config.yml"] = []byte("users: {admin: {password: x}}\n")
	if err := k8s.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if v3, _ := reconcileAndRead(); v3["running"] != contentVersion(secret.Data) || v3["running"] == v1["running"] {
		t.Errorf("after the change: %v (before %v)", v3, v1)
	}
	// A Secret that is not a rendered auth config is ignored.
	if _, ok := authSecretOwner(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sync-tls", Namespace: ns, OwnerReferences: secret.OwnerReferences}}); ok {
		t.Error("the serving-certificate Secret was taken for the auth config")
	}
}
