package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestRecreatedServiceWaitsForItsAddress: when the API server still reports
// a deleted Service's address as allocated (it releases it asynchronously;
// under load this was seen to outlast the operator's recreate), the operator
// keeps asking for that address instead of taking a new one at once, and
// gives it up, loudly, only after addressReleaseGrace. A foreign Service
// holding the address stands in for the not-yet-released allocation.
func TestRecreatedServiceWaitsForItsAddress(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "held")
	waitCondition(t, ns, "held", v1alpha1.ConditionServiceAddress, metav1.ConditionTrue, v1alpha1.ReasonClusterIPAllocated)
	ip := get(t, ns, "held", &corev1.Service{}).Spec.ClusterIP

	// holdAddress: with the operator stopped, the registry's Service goes and
	// another one takes its address; then the operator starts again.
	holdAddress := func(squatter string) {
		t.Helper()
		stopOperator()
		defer func() {
			if err := startOperator(); err != nil {
				t.Fatal(err)
			}
		}()
		ctx := context.Background()
		if err := k8s.Delete(ctx, get(t, ns, "held", &corev1.Service{})); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, func() error {
			s := &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: squatter, Namespace: ns},
				Spec:       corev1.ServiceSpec{ClusterIP: ip, Ports: []corev1.ServicePort{{Port: 80}}},
			}
			return k8s.Create(ctx, s)
		})
	}

	holdAddress("squatter")
	waitCondition(t, ns, "held", v1alpha1.ConditionServiceAddress, metav1.ConditionFalse, v1alpha1.ReasonClusterIPReleasing)
	if exists(t, ns, "held", &corev1.Service{}) {
		t.Fatal("a Service was recreated at another address while the previous one could still come back")
	}
	if err := k8s.Delete(context.Background(), get(t, ns, "squatter", &corev1.Service{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		svc := &corev1.Service{}
		if !exists(t, ns, "held", svc) {
			return fmt.Errorf("the Service is not recreated yet")
		}
		if svc.Spec.ClusterIP != ip {
			return fmt.Errorf("recreated at %s, was %s", svc.Spec.ClusterIP, ip)
		}
		return nil
	})
	waitCondition(t, ns, "held", v1alpha1.ConditionServiceAddress, metav1.ConditionTrue, v1alpha1.ReasonClusterIPAllocated)

	// The address really went elsewhere: after the grace a new one is taken.
	holdAddress("squatter2")
	waitCondition(t, ns, "held", v1alpha1.ConditionServiceAddress, metav1.ConditionFalse, v1alpha1.ReasonClusterIPReleasing)
	advanceClock(addressReleaseGrace + time.Second)
	ra := waitCondition(t, ns, "held", v1alpha1.ConditionServiceAddress, metav1.ConditionTrue, v1alpha1.ReasonClusterIPAllocated)
	if ra.Status.ClusterIP == ip || ra.Status.ClusterIP == "" {
		t.Errorf("status.clusterIP %q after the grace; the old address %s is held by another Service", ra.Status.ClusterIP, ip)
	}
	assertEvents(t, ns, "held", "ClusterIPChanged")
	if err := k8s.Delete(context.Background(), get(t, ns, "squatter2", &corev1.Service{})); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
}
