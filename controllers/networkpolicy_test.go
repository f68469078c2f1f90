package controllers

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestNetworkPolicyFollowsTheSpec: enabling spec.expose.networkPolicy makes
// an owned NetworkPolicy admitting only the front door and the monitoring
// port; deleting it by hand brings it back; disabling removes it.
func TestNetworkPolicyFollowsTheSpec(t *testing.T) {
	ns := newNamespace(t)
	ra := classicRA(ns, "np")
	ra.Spec.Expose.NetworkPolicy.Enabled = true
	createWithUsers(t, ra)

	ports := func() ([]int32, error) {
		np := &networkingv1.NetworkPolicy{}
		if !exists(t, ns, "np", np) {
			return nil, fmt.Errorf("no NetworkPolicy")
		}
		if !metav1.IsControlledBy(np, get(t, ns, "np", &v1alpha1.RegistryAuth{})) {
			return nil, fmt.Errorf("NetworkPolicy not controlled by the RegistryAuth: %v", np.OwnerReferences)
		}
		var got []int32
		for _, rule := range np.Spec.Ingress {
			if len(rule.From) > 0 {
				return nil, fmt.Errorf("rule restricts sources: %+v", rule.From)
			}
			for _, p := range rule.Ports {
				got = append(got, p.Port.IntVal)
			}
		}
		slices.Sort(got)
		return got, nil
	}
	eventually(t, 20*time.Second, func() error {
		got, err := ports()
		if err == nil && !slices.Equal(got, []int32{5000, 9090}) {
			err = fmt.Errorf("admitted ports %v, want [5000 9090]", got)
		}
		return err
	})

	np := get(t, ns, "np", &networkingv1.NetworkPolicy{})
	if err := k8s.Delete(context.Background(), np); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		cur := &networkingv1.NetworkPolicy{}
		if !exists(t, ns, "np", cur) || cur.UID == np.UID {
			return fmt.Errorf("NetworkPolicy not recreated")
		}
		return nil
	})

	// A patch, not an update: the operator writes the status meanwhile.
	cur := get(t, ns, "np", &v1alpha1.RegistryAuth{})
	before := cur.DeepCopy()
	cur.Spec.Expose.NetworkPolicy.Enabled = false
	if err := k8s.Patch(context.Background(), cur, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		if exists(t, ns, "np", &networkingv1.NetworkPolicy{}) {
			return fmt.Errorf("NetworkPolicy still there after disabling it")
		}
		return nil
	})
}
