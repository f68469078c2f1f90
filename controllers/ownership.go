package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// conflictRecheck is how soon a NameConflict is looked at again.
const conflictRecheck = 30 * time.Second

// apply writes an owned object, but never over one this RegistryAuth does
// not already control: a forced server-side apply would take the object
// over, and the owner reference would let the garbage collector delete it
// with the RegistryAuth. Such an object stalls its step with NameConflict
// (the steps that do not need it still run).
//
// PersistentVolumeClaims are not checked here: a claim outlives its
// RegistryAuth by design and storage.go decides which claim it may use.
func (r *RegistryAuthReconciler) apply(ctx context.Context, st *state, desired client.Object) (bool, error) {
	if _, isClaim := desired.(*corev1.PersistentVolumeClaim); !isClaim {
		if err := r.checkControlled(ctx, st, desired); err != nil {
			return false, err
		}
	}
	return r.Applier.Apply(ctx, desired)
}

// checkControlled returns a NameConflict stall when an object of desired's
// kind and name exists and is not controlled by this RegistryAuth.
func (r *RegistryAuthReconciler) checkControlled(ctx context.Context, st *state, desired client.Object) error {
	current := desired.DeepCopyObject().(client.Object)
	err := r.Client.Get(ctx, client.ObjectKeyFromObject(desired), current)
	if apierrors.IsNotFound(err) && r.APIReader != nil {
		// The cache may hold only what the operator labels as its own (or
		// not yet see a fresh object): the apply would create-or-overwrite,
		// so ask the API server. This costs one read per object created.
		err = r.APIReader.Get(ctx, client.ObjectKeyFromObject(desired), current)
	}
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	owner := metav1.GetControllerOf(current)
	if owner != nil && owner.UID == st.ra.UID {
		return nil
	}
	kind := desired.GetObjectKind().GroupVersionKind().Kind
	who := "it has no controller"
	if owner != nil {
		who = fmt.Sprintf("it is controlled by %s %s", owner.Kind, owner.Name)
	}
	msg := fmt.Sprintf("%s %q already exists and is not this RegistryAuth's (%s): it is left untouched; rename or delete it, or rename this RegistryAuth",
		kind, desired.GetName(), who)
	st.conflicts = append(st.conflicts, msg)
	// Deleting a foreign object triggers no reconcile (it is neither owned
	// nor referenced): look again in a while.
	st.renewals = append(st.renewals, st.now.Add(conflictRecheck))
	return stall(v1alpha1.ReasonNameConflict, "%s", msg)
}

// ownedSecretNames are the Secret names this RegistryAuth writes or (for
// cert-manager) has written for it.
func ownedSecretNames(st *state) []string {
	n := st.names
	return []string{n.ServingCA, n.ServingTLS, n.TokenCA, n.TokenSigning, n.AuthConfig, n.HTTPSecret, n.CertManagerTLS, render.SelfCheckSecretName(st.ra)}
}

// checkReferencedNames refuses a user's Secret (a password Secret or a
// bring-your-own certificate) named like a Secret this RegistryAuth owns:
// the operator would read its own output as input, then overwrite the
// user's Secret.
func (r *RegistryAuthReconciler) checkReferencedNames(_ context.Context, st *state) error {
	owned := map[string]bool{}
	for _, n := range ownedSecretNames(st) {
		owned[n] = true
	}
	var bad []string
	for i, u := range st.ra.Spec.Auth.Users {
		if owned[u.PasswordSecretRef.Name] {
			bad = append(bad, fmt.Sprintf("spec.auth.users[%d] (%s).passwordSecretRef.name %q", i, u.Name, u.PasswordSecretRef.Name))
		}
	}
	if n := st.ra.Spec.TLS.SecretName; owned[n] {
		bad = append(bad, fmt.Sprintf("spec.tls.secretName %q", n))
	}
	if len(bad) == 0 {
		return nil
	}
	msg := strings.Join(bad, ", ") + ": a Secret this RegistryAuth writes itself cannot be an input; use another name (the operator writes " +
		strings.Join(ownedSecretNames(st), ", ") + ")"
	st.conflicts = append(st.conflicts, msg)
	st.stalled = append(st.stalled, msg)
	st.warnings = append(st.warnings, warning{condType: v1alpha1.ConditionNameConflict, reason: v1alpha1.ReasonNameConflict, message: msg})
	return nil
}

// ownsSecretName: name is one of the Secrets this RegistryAuth writes.
func ownsSecretName(st *state, name string) bool {
	for _, n := range ownedSecretNames(st) {
		if n == name {
			return true
		}
	}
	return false
}

// reportConflicts sets NameConflict (True while any object is in the way,
// naming each) and clears it once a complete reconcile found none.
func reportConflicts(st *state) {
	switch {
	case len(st.conflicts) > 0:
		st.set(v1alpha1.ConditionNameConflict, true, v1alpha1.ReasonNameConflict, strings.Join(st.conflicts, "; "))
	case len(st.errs) == 0:
		apimeta.RemoveStatusCondition(&st.ra.Status.Conditions, v1alpha1.ConditionNameConflict)
	}
}
