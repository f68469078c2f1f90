package controllers

import (
	"context"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
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
	if ra.Spec.TLS.IssuerRef != nil {
		// Written by cert-manager, owned by the Certificate, not by us.
		names = append(names, render.NamesFor(ra).CertManagerTLS)
	}
	return names
}

// IndexIssuer indexes RegistryAuths by "<kind>/<name>" of their cert-manager issuer.
const IndexIssuer = "registryauth.dev/issuer"

func issuerKey(kind, name string) string {
	if kind == "" {
		kind = "Issuer"
	}
	return kind + "/" + name
}

func referencedIssuer(o client.Object) []string {
	ra, ok := o.(*v1alpha1.RegistryAuth)
	if !ok || ra.Spec.TLS.IssuerRef == nil {
		return nil
	}
	return []string{issuerKey(ra.Spec.TLS.IssuerRef.Kind, ra.Spec.TLS.IssuerRef.Name)}
}

// SetupOptions are the controller's knobs.
type SetupOptions struct {
	Scope Scope
	// MaxConcurrentReconciles: registries reconciled at once. One
	// registry's reconcile reads and writes only its own objects, so they
	// run in parallel safely; the same registry is never reconciled twice
	// at once (the work queue guarantees it).
	MaxConcurrentReconciles int
}

// SetupWithManager registers the controller: it owns what it creates and
// follows referenced Secrets through the index, without polling.
func (r *RegistryAuthReconciler) SetupWithManager(mgr ctrl.Manager, o SetupOptions) error {
	_, err := r.setupWith(mgr, r, o)
	return err
}

// setupWith registers rec (r, or a test's wrapper around it) for the watches
// of r. It returns the cache behind the watch of Secrets not owned.
func (r *RegistryAuthReconciler) setupWith(mgr ctrl.Manager, rec reconcile.Reconciler, o SetupOptions) (cache.Cache, error) {
	ctx := context.Background()
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.RegistryAuth{}, IndexReferencedSecrets, referencedSecrets); err != nil {
		return nil, err
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	// Secrets the operator reads but does not own (passwords, certificates
	// brought by the user) are outside the manager's label-selected cache:
	// a metadata-only watch of its own says when one changed.
	mopts := secretMetadataOptions(o.Scope, mgr.GetScheme())
	mopts.Mapper = mgr.GetRESTMapper()
	mopts.HTTPClient = mgr.GetHTTPClient()
	secretMeta, err := cache.New(mgr.GetConfig(), mopts)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(secretMeta); err != nil {
		return nil, err
	}
	secretKind := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.RegistryAuth{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.Secret{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.PersistentVolumeClaim{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&corev1.ServiceAccount{}).
		// Cluster-scoped, so not owned: mapped back by its labels.
		Watches(&rbacv1.ClusterRoleBinding{}, handler.EnqueueRequestsFromMapFunc(registryAuthOfBinding)).
		WatchesRawSource(source.Kind(secretMeta, secretKind,
			handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, s *metav1.PartialObjectMetadata) []reconcile.Request {
				return r.registryAuthsReferencing(ctx, s)
			}))).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(o.MaxConcurrentReconciles, 1)})
	// cert-manager is optional: watch its kinds only where it is installed.
	if _, err := mgr.GetRESTMapper().RESTMapping(cmapi.SchemeGroupVersion.WithKind("Certificate").GroupKind(), "v1"); err == nil {
		r.CertManager = true
		if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.RegistryAuth{}, IndexIssuer, referencedIssuer); err != nil {
			return nil, err
		}
		b = b.Owns(&cmapi.Certificate{}).
			Watches(&cmapi.Issuer{}, handler.EnqueueRequestsFromMapFunc(r.registryAuthsUsingIssuer)).
			Watches(&cmapi.ClusterIssuer{}, handler.EnqueueRequestsFromMapFunc(r.registryAuthsUsingIssuer))
	}
	return secretMeta, b.Complete(rec)
}

// registryAuthsUsingIssuer maps an Issuer (same namespace) or ClusterIssuer
// (any namespace) to the RegistryAuths that name it.
func (r *RegistryAuthReconciler) registryAuthsUsingIssuer(ctx context.Context, o client.Object) []reconcile.Request {
	opts := []client.ListOption{client.MatchingFields{IndexIssuer: issuerKey(kindOf(o), o.GetName())}}
	if o.GetNamespace() != "" {
		opts = append(opts, client.InNamespace(o.GetNamespace()))
	}
	return r.requestsFor(ctx, opts...)
}

func kindOf(o client.Object) string {
	if _, ok := o.(*cmapi.ClusterIssuer); ok {
		return "ClusterIssuer"
	}
	return "Issuer"
}

// registryAuthsReferencing maps a Secret to the RegistryAuths that read it.
func (r *RegistryAuthReconciler) registryAuthsReferencing(ctx context.Context, s client.Object) []reconcile.Request {
	return r.requestsFor(ctx, client.InNamespace(s.GetNamespace()), client.MatchingFields{IndexReferencedSecrets: s.GetName()})
}

// requestsFor lists the RegistryAuths matching opts as reconcile requests.
func (r *RegistryAuthReconciler) requestsFor(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	var list v1alpha1.RegistryAuthList
	if err := r.Client.List(ctx, &list, opts...); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, ra := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ra.Namespace, Name: ra.Name}})
	}
	return reqs
}
