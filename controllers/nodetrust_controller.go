package controllers

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/apply"
	"github.com/registry-auth-operator/registry-auth-operator/internal/nodetrust"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// nodeTrustResync repairs a ConfigMap edited behind the operator's back.
const nodeTrustResync = 10 * time.Minute

// NodeTrustReconciler publishes, in one ConfigMap of the operator's
// namespace, each registry's node address (status.urls.node) with the CA
// clients must trust, read from the registry's CA bundle ConfigMap
// (status.caConfigMapName). The node-trust agent (a DaemonSet) turns it into
// containerd certs.d files, so kubelets pull from the registries over TLS.
// Only public certificates go into it; no Secret is read.
type NodeTrustReconciler struct {
	Client    client.Client
	Applier   *apply.Applier
	Namespace string
	Name      string
}

// SetupWithManager maps every RegistryAuth event, and every change of a CA
// bundle (a CA rotation changes it without touching the RegistryAuth), to
// the one ConfigMap.
func (r *NodeTrustReconciler) SetupWithManager(mgr ctrl.Manager) error {
	one := func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: r.Namespace, Name: r.Name}}}
	}
	bundles := predicate.NewPredicateFuncs(func(o client.Object) bool {
		l := o.GetLabels()
		return l[render.LabelComponent] == render.ComponentCABundle && l[render.LabelManagedBy] == render.ManagedBy
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("nodetrust").
		Watches(&v1alpha1.RegistryAuth{}, handler.EnqueueRequestsFromMapFunc(one)).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(one), builder.WithPredicates(bundles)).
		Complete(r)
}

// Reconcile rebuilds the whole document from all RegistryAuths.
func (r *NodeTrustReconciler) Reconcile(ctx context.Context, _ ctrl.Request) (ctrl.Result, error) {
	var list v1alpha1.RegistryAuthList
	if err := r.Client.List(ctx, &list); err != nil {
		return ctrl.Result{}, err
	}
	trust := map[string]string{}
	for _, ra := range list.Items {
		host := strings.TrimPrefix(ra.Status.URLs.Node, "https://")
		if host == "" || ra.Status.CAConfigMapName == "" || !ra.DeletionTimestamp.IsZero() {
			continue
		}
		bundle := &corev1.ConfigMap{}
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ra.Namespace, Name: ra.Status.CAConfigMapName}, bundle); err != nil {
			if client.IgnoreNotFound(err) != nil {
				return ctrl.Result{}, err
			}
			continue
		}
		if ca := bundle.Data[render.KeyCACert]; ca != "" {
			trust[host] = ca
		}
	}
	doc, err := json.Marshal(trust) // map keys come out sorted: stable bytes
	if err != nil {
		return ctrl.Result{}, err
	}
	cm := &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: r.Name, Namespace: r.Namespace, Labels: map[string]string{
			render.LabelManagedBy: render.ManagedBy, render.LabelComponent: "node-trust",
		}},
		Data: map[string]string{nodetrust.DataKey: string(doc)},
	}
	if _, err := r.Applier.Apply(ctx, cm); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: nodeTrustResync}, nil
}
