package controllers

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// Scope is where the operator works: the namespaces it watches (none: all)
// and its own namespace, which holds the node-trust ConfigMap.
type Scope struct {
	WatchNamespaces   []string
	OperatorNamespace string
	// NodeTrust: the node-trust ConfigMap is published (in OperatorNamespace).
	NodeTrust bool
}

// ownedSelector matches the label every owned object carries. The cache
// holds only these Secrets, ConfigMaps, Deployments and Services, so its
// size follows the number of registries, not what else the cluster holds.
var ownedSelector = labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.ManagedBy})

// CacheOptions configures the manager's cache for scope. Users' password
// Secrets and bring-your-own certificates carry no such label: they are read
// directly from the API server (see getSecret) and followed through a
// metadata-only watch (see SecretMetadataCache).
func CacheOptions(scope Scope) cache.Options {
	opts := cache.Options{
		// Nothing reads managedFields: a third of an object's size, dropped.
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject:         map[client.Object]cache.ByObject{},
	}
	if len(scope.WatchNamespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range scope.WatchNamespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	for _, obj := range []client.Object{&corev1.Secret{}, &appsv1.Deployment{}, &corev1.Service{}, &networkingv1.NetworkPolicy{}, &policyv1.PodDisruptionBudget{}, &corev1.ServiceAccount{}} {
		opts.ByObject[obj] = cache.ByObject{Label: ownedSelector}
	}
	cm := cache.ByObject{Label: ownedSelector}
	if len(scope.WatchNamespaces) > 0 && scope.NodeTrust {
		// The node-trust ConfigMap lives in the operator's namespace, which
		// need not be watched: ConfigMaps are cached there too.
		cm.Namespaces = map[string]cache.Config{scope.OperatorNamespace: {}}
		for _, ns := range scope.WatchNamespaces {
			cm.Namespaces[ns] = cache.Config{}
		}
	}
	opts.ByObject[&corev1.ConfigMap{}] = cm
	// Of the ClusterRoleBindings (cluster-scoped: the watched namespaces do
	// not apply), only ours.
	opts.ByObject[&rbacv1.ClusterRoleBinding{}] = cache.ByObject{Label: ownedSelector}
	return opts
}

// secretMetadataOptions configures the cache behind the watch of Secrets the
// operator reads but does not own: metadata only, and of that only what maps
// an event to its RegistryAuths (namespace and name), so an unrelated Secret
// costs a few hundred bytes and its data never reaches the operator.
func secretMetadataOptions(scope Scope, scheme *runtime.Scheme) cache.Options {
	opts := cache.Options{Scheme: scheme, DefaultTransform: keepIdentity}
	if len(scope.WatchNamespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range scope.WatchNamespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return opts
}

// keepIdentity strips an object's metadata down to what identifies it.
func keepIdentity(in any) (any, error) {
	if o, ok := in.(client.Object); ok {
		o.SetLabels(nil)
		o.SetAnnotations(nil)
		o.SetManagedFields(nil)
		o.SetOwnerReferences(nil)
		o.SetFinalizers(nil)
	}
	return in, nil
}
