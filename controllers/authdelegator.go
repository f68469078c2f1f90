package controllers

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=create
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterrolebindings,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=system:auth-delegator
//
// bind on system:auth-delegator only: the API server lets the operator
// create a binding to that one ClusterRole without holding its permissions
// itself, and to no other role (docs/security.md weighs this).

// FinalizerAuthDelegator keeps a RegistryAuth until the ClusterRoleBinding
// made for its kubernetes identity is deleted: a cluster-scoped object
// cannot be owned by a namespaced one, so garbage collection would never
// remove it.
const FinalizerAuthDelegator = "registryauth.dev/auth-delegator"

// reconcileAuthDelegator gives the auth container a ServiceAccount allowed
// to create TokenReviews when a kubernetes identity is configured, and takes
// the permission away when it is not. The ServiceAccount is owned (garbage
// collected with the RegistryAuth) and left in place when the identity goes:
// without its binding it may do nothing.
func (r *RegistryAuthReconciler) reconcileAuthDelegator(ctx context.Context, st *state) error {
	if !render.NeedsTokenReviews(st.ra) {
		return r.releaseAuthDelegator(ctx, st.ra)
	}
	if err := r.addFinalizer(ctx, st.ra, FinalizerAuthDelegator); err != nil {
		return err
	}
	if _, err := r.apply(ctx, st, render.DesiredAuthServiceAccount(st.ra)); err != nil {
		return err
	}
	crb := render.DesiredAuthDelegatorBinding(st.ra)
	live := &rbacv1.ClusterRoleBinding{}
	switch err := r.APIReader.Get(ctx, types.NamespacedName{Name: crb.Name}, live); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return err
	default:
		if ns, name, ok := render.AuthDelegatorOwner(live); !ok || ns != st.ra.Namespace || name != st.ra.Name {
			msg := fmt.Sprintf("ClusterRoleBinding %q already exists and is not this RegistryAuth's: it is left untouched; delete it, or rename this RegistryAuth", crb.Name)
			st.conflicts = append(st.conflicts, msg)
			st.renewals = append(st.renewals, st.now.Add(conflictRecheck))
			return stall(v1alpha1.ReasonNameConflict, "%s", msg)
		}
	}
	_, err := r.Applier.Apply(ctx, crb)
	return err
}

// releaseAuthDelegator deletes the ClusterRoleBinding (only if it is this
// RegistryAuth's), then the finalizer. Without the finalizer there is
// nothing of ours to delete.
func (r *RegistryAuthReconciler) releaseAuthDelegator(ctx context.Context, ra *v1alpha1.RegistryAuth) error {
	if !controllerutil.ContainsFinalizer(ra, FinalizerAuthDelegator) {
		return nil
	}
	live := &rbacv1.ClusterRoleBinding{}
	switch err := r.APIReader.Get(ctx, types.NamespacedName{Name: render.NamesFor(ra).AuthDelegator}, live); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return err
	default:
		if ns, name, ok := render.AuthDelegatorOwner(live); ok && ns == ra.Namespace && name == ra.Name {
			if err := r.Client.Delete(ctx, live, client.Preconditions{UID: &live.UID}); client.IgnoreNotFound(err) != nil {
				return err
			}
		}
	}
	return r.removeFinalizer(ctx, ra, FinalizerAuthDelegator)
}

// addFinalizer and removeFinalizer patch a copy: the reconcile's own
// RegistryAuth keeps the status the steps have set so far. The optimistic
// lock keeps the pull-access controller's finalizer (same list) intact.
func (r *RegistryAuthReconciler) addFinalizer(ctx context.Context, ra *v1alpha1.RegistryAuth, f string) error {
	if controllerutil.ContainsFinalizer(ra, f) {
		return nil
	}
	cp := ra.DeepCopy()
	controllerutil.AddFinalizer(cp, f)
	if err := r.Client.Patch(ctx, cp, client.MergeFromWithOptions(ra, client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	ra.Finalizers, ra.ResourceVersion = cp.Finalizers, cp.ResourceVersion
	return nil
}

func (r *RegistryAuthReconciler) removeFinalizer(ctx context.Context, ra *v1alpha1.RegistryAuth, f string) error {
	cp := ra.DeepCopy()
	controllerutil.RemoveFinalizer(cp, f)
	if err := r.Client.Patch(ctx, cp, client.MergeFromWithOptions(ra, client.MergeFromWithOptimisticLock{})); err != nil {
		return client.IgnoreNotFound(err)
	}
	ra.Finalizers, ra.ResourceVersion = cp.Finalizers, cp.ResourceVersion
	return nil
}

// registryAuthOfBinding maps one of our ClusterRoleBindings (changed or
// deleted by someone) to its RegistryAuth, which puts it back or lets it go.
func registryAuthOfBinding(_ context.Context, o client.Object) []reconcile.Request {
	ns, name, ok := render.AuthDelegatorOwner(o)
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
}
