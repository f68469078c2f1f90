package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pullaccess"
)

// pullAccessCacheOptions: the cache of pull access holds its own labelled
// Secrets only, ServiceAccounts cut down to name and pull-secret list, and
// namespaces as metadata. At 1000 namespaces that is a few hundred bytes
// per namespace, and no Secret of anyone else.
func pullAccessCacheOptions(mgr ctrl.Manager, namespaces []string) cache.Options {
	own, _ := labels.NewRequirement(pullaccess.LabelKind, selection.Exists, nil)
	var scoped map[string]cache.Config
	for _, ns := range namespaces {
		if scoped == nil {
			scoped = map[string]cache.Config{}
		}
		scoped[ns] = cache.Config{}
	}
	return cache.Options{
		DefaultNamespaces: scoped, // namespaced kinds only; namespaces stay cluster-wide
		Scheme:            mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), HTTPClient: mgr.GetHTTPClient(),
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}:         {Label: labels.NewSelector().Add(*own)},
			&corev1.ServiceAccount{}: {Transform: slimServiceAccount},
		},
	}
}

// slimServiceAccount keeps what pull access reads of a ServiceAccount.
func slimServiceAccount(o any) (any, error) {
	sa, ok := o.(*corev1.ServiceAccount)
	if !ok {
		return o, nil
	}
	return &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{
			Name: sa.Name, Namespace: sa.Namespace, UID: sa.UID, ResourceVersion: sa.ResourceVersion,
		},
		ImagePullSecrets: sa.ImagePullSecrets,
	}, nil
}

// SetupWithManager registers pull access with its own cache.
func (r *PullAccessReconciler) SetupWithManager(mgr ctrl.Manager) error {
	c, err := cache.New(mgr.GetConfig(), pullAccessCacheOptions(mgr, r.Namespaces))
	if err != nil {
		return err
	}
	if err := mgr.Add(c); err != nil {
		return err
	}
	r.Cache = c
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.Generate == nil {
		r.Generate = pullaccess.NewPassword
	}
	if r.Settle == 0 {
		r.Settle = DefaultPullSettle
	}
	nsKind := &metav1.PartialObjectMetadata{}
	nsKind.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return ctrl.NewControllerManagedBy(mgr).
		Named("pullaccess").
		For(&v1alpha1.RegistryAuth{}).
		WatchesRawSource(source.Kind(c, &corev1.Secret{}, handler.TypedEnqueueRequestsFromMapFunc(
			func(_ context.Context, s *corev1.Secret) []reconcile.Request { return registryOf(s) }))).
		WatchesRawSource(source.Kind(c, &corev1.ServiceAccount{}, handler.TypedEnqueueRequestsFromMapFunc(
			func(ctx context.Context, _ *corev1.ServiceAccount) []reconcile.Request { return r.withPullSecrets(ctx) }))).
		WatchesRawSource(source.Kind(c, nsKind, handler.TypedEnqueueRequestsFromMapFunc(
			func(ctx context.Context, _ *metav1.PartialObjectMetadata) []reconcile.Request {
				return r.withPullSecrets(ctx)
			}))).
		Complete(r)
}

// registryOf maps a pull-access Secret to its registry.
func registryOf(s *corev1.Secret) []reconcile.Request {
	if s.Labels[pullaccess.LabelKind] == pullaccess.KindRobots {
		for _, o := range s.OwnerReferences {
			if o.Kind == "RegistryAuth" {
				return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: o.Name}}}
			}
		}
		return nil
	}
	ns, name, ok := pullaccess.ParseRegistryKey(s.Annotations[pullaccess.AnnotationRegistry])
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
}

// withPullSecrets: a namespace or ServiceAccount changed; every registry
// granting pull access (or still cleaning up) looks again. They are few.
func (r *PullAccessReconciler) withPullSecrets(ctx context.Context) []reconcile.Request {
	var list v1alpha1.RegistryAuthList
	if err := r.Client.List(ctx, &list); err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, ra := range list.Items {
		if ra.Spec.PullSecrets != nil || len(ra.Finalizers) > 0 {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ra.Namespace, Name: ra.Name}})
		}
	}
	return out
}
