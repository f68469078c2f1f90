package controllers

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// IndexReferencedSecrets indexes RegistryAuths by the names of the Secrets
// they read but do not own: users' passwords and a bring-your-own certificate.
const IndexReferencedSecrets = "registryauth.dev/referenced-secrets"

// referencedSecrets is the index function.
func referencedSecrets(o client.Object) []string {
	ra, ok := o.(*v1alpha1.RegistryAuth)
	if !ok {
		return nil
	}
	var names []string
	for _, u := range ra.Spec.Auth.Users {
		names = append(names, u.PasswordSecretRef.Name)
	}
	if ra.Spec.TLS.SecretName != "" {
		names = append(names, ra.Spec.TLS.SecretName)
	}
	return names
}

// SetupWithManager registers the controller: it owns what it creates and
// follows referenced Secrets through the index, without polling.
func (r *RegistryAuthReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return r.setupWith(mgr, r)
}

// setupWith registers rec (r, or a test's wrapper around it) for the watches of r.
func (r *RegistryAuthReconciler) setupWith(mgr ctrl.Manager, rec reconcile.Reconciler) error {
	ctx := context.Background()
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.RegistryAuth{}, IndexReferencedSecrets, referencedSecrets); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.RegistryAuth{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.Secret{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.PersistentVolumeClaim{}).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.registryAuthsReferencing)).
		Complete(rec)
}

// registryAuthsReferencing maps a Secret to the RegistryAuths that read it.
func (r *RegistryAuthReconciler) registryAuthsReferencing(ctx context.Context, s client.Object) []reconcile.Request {
	var list v1alpha1.RegistryAuthList
	if err := r.Client.List(ctx, &list, client.InNamespace(s.GetNamespace()),
		client.MatchingFields{IndexReferencedSecrets: s.GetName()}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, ra := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ra.Namespace, Name: ra.Name}})
	}
	return reqs
}
