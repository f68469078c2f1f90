package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// +kubebuilder:rbac:groups="",resources=pods,verbs=list;patch

// AnnotationAuthConfig on a registry pod names the version of the auth
// config (users, passwords, ACL) the operator last told its kubelet about.
const AnnotationAuthConfig = "registryauth.dev/auth-config"

// AuthSyncReconciler makes a change of the auth Secret (a password changed,
// a user added or removed) reach the running auth containers in about a
// second, without restarting or rolling any pod.
//
// The auth container reloads its files within --reload-interval of a change,
// but the kubelet rewrites a Secret volume only when it syncs the pod, which
// without an event happens every minute or so plus its cache's TTL: a
// removed user kept working for ~60 s and a changed password took 30-65 s.
// Any update of the pod object makes the kubelet sync it, and every sync
// remounts Secret volumes from its watch-fed cache. So when the auth Secret
// changes, this reconciler sets one annotation on each running pod of that
// registry to the Secret's content version. Chosen over the auth container
// watching its own Secret through the API, which would give the data plane
// a service-account token, API access and RBAC of its own, and make the
// auth server depend on the cluster; this way it keeps reading files only.
//
// Pods are patched, not applied: the operator must not become a field owner
// of pods the Deployment creates. Pods are listed from the API, not from a
// cache, so the operator needs no watch on every pod of the cluster. A pod
// is patched once per config version at most, and not at all when it
// carries the current version already. A pod that started after the
// change also gets the annotation once, the first time the Secret is
// reconciled after it started: harmless (its volume is already current), and
// then it is quiet.
type AuthSyncReconciler struct {
	// Client reads Secrets (the manager's cache) and patches pods.
	Client client.Client
	// Pods lists pods straight from the API server.
	Pods client.Reader
}

// SetupWithManager registers the reconciler for the rendered auth Secrets.
func (r *AuthSyncReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("auth-config-sync").
		For(&corev1.Secret{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			_, ok := authSecretOwner(o)
			return ok
		}))).
		Complete(r)
}

// authSecretOwner returns the RegistryAuth whose rendered auth Secret o is.
func authSecretOwner(o client.Object) (*v1alpha1.RegistryAuth, bool) {
	ref := metav1.GetControllerOf(o)
	if ref == nil || ref.Kind != "RegistryAuth" || ref.APIVersion != v1alpha1.GroupVersion.String() {
		return nil, false
	}
	ra := &v1alpha1.RegistryAuth{ObjectMeta: metav1.ObjectMeta{Name: ref.Name, Namespace: o.GetNamespace(), UID: ref.UID}}
	return ra, o.GetName() == render.NamesFor(ra).AuthConfig
}

// Reconcile nudges the kubelets of the pods that may still hold an older
// version of the Secret.
func (r *AuthSyncReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	s := &corev1.Secret{}
	if err := r.Client.Get(ctx, req.NamespacedName, s); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ra, ok := authSecretOwner(s)
	if !ok {
		return ctrl.Result{}, nil
	}
	version := contentVersion(s.Data)
	var pods corev1.PodList
	if err := r.Pods.List(ctx, &pods, client.InNamespace(s.Namespace), client.MatchingLabels(render.SelectorLabels(ra))); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing the pods of %s: %w", ra.Name, err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if !needsNudge(p, version) {
			continue
		}
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, AnnotationAuthConfig, version)
		if err := r.Client.Patch(ctx, p, client.RawPatch(types.MergePatchType, patch)); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("annotating pod %s: %w", p.Name, err)
		}
		log.FromContext(ctx).V(1).Info("asked the kubelet to resync the auth config", "pod", p.Name, "version", version)
	}
	return ctrl.Result{}, nil
}

// needsNudge: a running pod whose annotation names another version (or
// none). A pod that is not running yet mounts what is current anyway.
func needsNudge(p *corev1.Pod, version string) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	return p.Annotations[AnnotationAuthConfig] != version
}

// contentVersion names the Secret's data; it changes exactly when the
// auth container's files do.
func contentVersion(data map[string][]byte) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s:%d:", len(k), k, len(data[k]))
		h.Write(data[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
