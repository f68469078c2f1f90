package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestNameConflictLeavesForeignObjectAlone: a Secret that happens to carry
// an owned name is neither overwritten nor adopted; NameConflict names it,
// the steps that do not need it still run, and the conflict clears once the
// object is gone.
func TestNameConflictLeavesForeignObjectAlone(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	foreign := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nc-auth"},
		Data:       map[string][]byte{"mine": []byte("not the operator's")},
	}
	if err := k8s.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	createClassic(t, ns, "nc")
	ra := waitCondition(t, ns, "nc", v1alpha1.ConditionNameConflict, metav1.ConditionTrue, v1alpha1.ReasonNameConflict)
	if msg := condition(ra, v1alpha1.ConditionNameConflict).Message; !strings.Contains(msg, `Secret "nc-auth"`) {
		t.Errorf("NameConflict should name the object: %q", msg)
	}
	if c := condition(ra, v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonNameConflict {
		t.Errorf("Ready should carry the conflict: %+v", c)
	}
	// The Deployment does not need the auth config Secret's content to be
	// applied: it is there.
	eventually(t, 10*time.Second, func() error {
		if !exists(t, ns, "nc", &appsv1.Deployment{}) {
			return fmt.Errorf("Deployment not applied")
		}
		return nil
	})
	settle(t)
	now := get(t, ns, "nc-auth", &corev1.Secret{})
	if now.ResourceVersion != foreign.ResourceVersion || len(now.OwnerReferences) != 0 || string(now.Data["mine"]) != "not the operator's" {
		t.Errorf("the foreign Secret was touched: rv %s -> %s, owners %v, data keys %d", foreign.ResourceVersion, now.ResourceVersion, now.OwnerReferences, len(now.Data))
	}
	if n, notes := eventCount(t, ns, "nc", corev1.EventTypeWarning, v1alpha1.ReasonNameConflict); n != 1 {
		t.Errorf("want one NameConflict Warning, got %d: %q", n, notes)
	}

	// Deleting it triggers nothing (it is not the operator's): the
	// conflict is looked at again within conflictRecheck.
	if err := k8s.Delete(ctx, now); err != nil {
		t.Fatal(err)
	}
	eventually(t, conflictRecheck+15*time.Second, func() error {
		ra := get(t, ns, "nc", &v1alpha1.RegistryAuth{})
		if c := condition(ra, v1alpha1.ConditionNameConflict); c != nil {
			return fmt.Errorf("NameConflict still set: %s", c.Message)
		}
		s := &corev1.Secret{}
		if !exists(t, ns, "nc-auth", s) || metav1.GetControllerOf(s) == nil || metav1.GetControllerOf(s).UID != ra.UID {
			return fmt.Errorf("nc-auth not written by the operator yet")
		}
		return nil
	})
}

// TestInputNamedLikeOwnedSecretIsRefused: a password Secret or a
// bring-your-own certificate named like a Secret the RegistryAuth writes is
// refused with NameConflict: the operator never reads its own output as
// input, nor writes over the user's Secret.
func TestInputNamedLikeOwnedSecretIsRefused(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	ra := classicRA(ns, "self")
	ra.Spec.Auth.Users[1].PasswordSecretRef.Name = "self-http"
	if err := k8s.Create(ctx, passwordSecret(ns, "self-admin", "badmin")); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, ra); err != nil {
		t.Fatal(err)
	}
	ra = waitCondition(t, ns, "self", v1alpha1.ConditionNameConflict, metav1.ConditionTrue, v1alpha1.ReasonNameConflict)
	if msg := condition(ra, v1alpha1.ConditionNameConflict).Message; !strings.Contains(msg, `passwordSecretRef.name "self-http"`) {
		t.Errorf("NameConflict should name the field: %q", msg)
	}
	if c := condition(ra, v1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Stalled should be True: %+v", c)
	}
	if _, ok := authUsers(t, ns, "self")["reader"]; ok {
		t.Error("the reader's password was read from the operator's own Secret")
	}
}

// TestNamesEndingInTokenAreRefused: `a` owns `a-token-ca`; `a-token` would
// own it too (as its serving CA Secret). Admission refuses the second name.
func TestNamesEndingInTokenAreRefused(t *testing.T) {
	ns := newNamespace(t)
	err := k8s.Create(context.Background(), classicRA(ns, "a-token"))
	if err == nil || !strings.Contains(err.Error(), "must not end with -token") {
		t.Fatalf("want admission to refuse a name ending in -token, got %v", err)
	}
	if err := k8s.Create(context.Background(), classicRA(ns, "a-tokens")); err != nil {
		t.Fatalf("a name merely containing -token must pass: %v", err)
	}
}
