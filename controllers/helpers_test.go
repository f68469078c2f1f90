package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

var nsSeq atomic.Int64

// newNamespace gives each test its own namespace.
func newNamespace(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%s", nsSeq.Add(1), strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
	if len(name) > 60 {
		name = name[:60]
	}
	name = strings.TrimRight(strings.ReplaceAll(name, "_", "-"), "-")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return name
}

func passwordSecret(ns, name, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Data:       map[string][]byte{"password": []byte(password)},
	}
}

// classicRA is the classic setup: admin may do everything, reader may pull.
func classicRA(ns, name string) *v1alpha1.RegistryAuth {
	return &v1alpha1.RegistryAuth{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.RegistryAuthSpec{
			Auth: v1alpha1.AuthSpec{
				Users: []v1alpha1.User{
					{Name: "admin", PasswordSecretRef: v1alpha1.SecretKeyRef{Name: name + "-admin"},
						Labels: map[string]v1alpha1.LabelValues{"group": {"admins"}}},
					{Name: "reader", PasswordSecretRef: v1alpha1.SecretKeyRef{Name: name + "-reader"}},
				},
				ACL: []v1alpha1.ACLRule{
					{Match: v1alpha1.ACLMatch{Account: ptr.To("admin")}, Actions: []string{"*"}},
					{Match: v1alpha1.ACLMatch{Account: ptr.To("/.+/"), Name: ptr.To("${account}/*")}, Actions: []string{"pull", "push"}},
					{Match: v1alpha1.ACLMatch{Account: ptr.To("/.+/")}, Actions: []string{"pull"}},
				},
			},
		},
	}
}

// createClassic creates the users' Secrets and the RegistryAuth.
func createClassic(t *testing.T, ns, name string) *v1alpha1.RegistryAuth {
	t.Helper()
	return createWithUsers(t, classicRA(ns, name))
}

// createWithUsers creates the Secrets of classicRA's users (admin: badmin,
// reader: reader-pw), then ra.
func createWithUsers(t *testing.T, ra *v1alpha1.RegistryAuth) *v1alpha1.RegistryAuth {
	t.Helper()
	ctx := context.Background()
	for _, s := range []*corev1.Secret{passwordSecret(ra.Namespace, ra.Name+"-admin", "badmin"), passwordSecret(ra.Namespace, ra.Name+"-reader", "reader-pw")} {
		if err := k8s.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := k8s.Create(ctx, ra); err != nil {
		t.Fatal(err)
	}
	return ra
}

// eventually polls cond until it returns nil or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("condition not met within %s: %v", timeout, err)
}

func get[T client.Object](t *testing.T, ns, name string, obj T) T {
	t.Helper()
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatalf("get %T %s/%s: %v", obj, ns, name, err)
	}
	return obj
}

// exists reports whether the object exists (other errors fail the test).
func exists(t *testing.T, ns, name string, obj client.Object) bool {
	t.Helper()
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// condition returns the RegistryAuth's condition of type condType, if current.
func condition(ra *v1alpha1.RegistryAuth, condType string) *metav1.Condition {
	c := apimeta.FindStatusCondition(ra.Status.Conditions, condType)
	if c == nil || c.ObservedGeneration != ra.Generation {
		return nil
	}
	return c
}

// waitCondition waits until the condition has the status (and reason, if given).
func waitCondition(t *testing.T, ns, name, condType string, status metav1.ConditionStatus, reason string) *v1alpha1.RegistryAuth {
	t.Helper()
	var ra *v1alpha1.RegistryAuth
	eventually(t, 20*time.Second, func() error {
		ra = get(t, ns, name, &v1alpha1.RegistryAuth{})
		c := condition(ra, condType)
		if c == nil {
			return fmt.Errorf("%s not set for generation %d: %+v", condType, ra.Generation, ra.Status.Conditions)
		}
		if c.Status != status || (reason != "" && c.Reason != reason) {
			return fmt.Errorf("%s is %s/%s (%s), want %s/%s", condType, c.Status, c.Reason, c.Message, status, reason)
		}
		return nil
	})
	return ra
}

// settle waits until no reconcile ran for a while: the controller is idle.
func settle(t *testing.T) {
	t.Helper()
	last, quietSince := reconc.n.Load(), time.Now()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if n := reconc.n.Load(); n != last {
			last, quietSince = n, time.Now()
			continue
		}
		if time.Since(quietSince) > 1500*time.Millisecond {
			return
		}
	}
	t.Fatal("the controller did not settle within 30s")
}

func key(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

// updateRA writes ra's spec, labels and annotations. The operator patches the
// status (and its conditions, e.g. Verified) at any time, so an object read a
// moment ago may be stale: on a conflict, the change is put on the latest
// version and sent again. The test's change itself is never merged away.
func updateRA(ctx context.Context, ra *v1alpha1.RegistryAuth) error {
	want := ra.DeepCopy()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		err := k8s.Update(ctx, ra)
		if !apierrors.IsConflict(err) {
			return err
		}
		if gerr := k8s.Get(ctx, client.ObjectKeyFromObject(want), ra); gerr != nil {
			return gerr
		}
		ra.Spec, ra.Labels, ra.Annotations = *want.Spec.DeepCopy(), want.Labels, want.Annotations
		return err
	})
}
