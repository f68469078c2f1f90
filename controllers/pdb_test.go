package controllers

import (
	"context"
	"errors"
	"testing"
	"time"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestPDBFollowsReplicas: with 3 replicas on shared storage the operator
// keeps a PodDisruptionBudget (maxUnavailable 1, the registry's pods,
// owned by the RegistryAuth); scaled to 1 the budget is deleted.
func TestPDBFollowsReplicas(t *testing.T) {
	ns := newNamespace(t)
	ra := classicRA(ns, "ha")
	ra.Spec.Replicas = ptr.To[int32](3)
	ra.Spec.Registry.Storage = v1alpha1.StorageSpec{S3: validS3()}
	createWithUsers(t, ra)

	pdb := &policyv1.PodDisruptionBudget{}
	eventually(t, 20*time.Second, func() error {
		return k8s.Get(context.Background(), key(ns, "ha"), pdb)
	})
	live := get(t, ns, "ha", &v1alpha1.RegistryAuth{})
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.Selector == nil ||
		pdb.Spec.Selector.MatchLabels["app.kubernetes.io/instance"] != "ha" || !metav1.IsControlledBy(pdb, live) {
		t.Fatalf("budget: %+v, owners %+v", pdb.Spec, pdb.OwnerReferences)
	}

	patch := client.MergeFrom(live.DeepCopy())
	live.Spec.Replicas = ptr.To[int32](1)
	if err := k8s.Patch(context.Background(), live, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		err := k8s.Get(context.Background(), key(ns, "ha"), &policyv1.PodDisruptionBudget{})
		if err == nil {
			return errors.New("budget still there with one replica")
		}
		return client.IgnoreNotFound(err)
	})
}
