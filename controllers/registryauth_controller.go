// Package controllers reconciles RegistryAuth resources. It orchestrates only:
// the desired objects come from internal/render, certificates from
// internal/pki, and every write goes through internal/apply.
package controllers

import (
	"context"
	"errors"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/apply"
	"github.com/registry-auth-operator/registry-auth-operator/internal/passwords"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// +kubebuilder:rbac:groups=registryauth.dev,resources=registryauths,verbs=get;list;watch
// +kubebuilder:rbac:groups=registryauth.dev,resources=registryauths/status,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=secrets;configmaps;services;persistentvolumeclaims,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
//
// Every write is a server-side apply (patch; create when the object is new):
// nothing is updated or deleted directly, garbage collection removes owned objects.

// RegistryAuthReconciler turns a RegistryAuth into its registry.
type RegistryAuthReconciler struct {
	// Client reads from the manager's cache.
	Client   client.Client
	Scheme   *runtime.Scheme
	Applier  *apply.Applier
	Recorder events.EventRecorder
	Options  render.Options
	Hasher   *passwords.Hasher
	// Now is the clock of renewal decisions (tests move it).
	Now func() time.Time
	// CertManager: the cert-manager.io/v1 API is served (checked at start).
	CertManager bool
	// APIReader reads what the cache does not hold (Secrets not owned).
	APIReader client.Reader
}

// step is one sub-reconciler. It returns an error only for what a retry may
// fix (API errors); problems of the user's input become conditions instead.
type step func(ctx context.Context, st *state) error

// Reconcile runs the sub-reconcilers in order and writes the status once, at
// the end, only when it changed.
func (r *RegistryAuthReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	ra := &v1alpha1.RegistryAuth{}
	if err := r.Client.Get(ctx, req.NamespacedName, ra); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ra.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // owner references let the garbage collector clean up
	}
	before := ra.DeepCopy()
	st := newState(ra, r.Options, r.Now())
	defer func() {
		r.summarize(st, retErr)
		if equality.Semantic.DeepEqual(before.Status, ra.Status) {
			return
		}
		log.FromContext(ctx).V(1).Info("status changed", "before", before.Status, "after", ra.Status)
		if err := r.Client.Status().Patch(ctx, ra, client.MergeFrom(before)); err != nil {
			retErr = errors.Join(retErr, client.IgnoreNotFound(err))
		}
	}()

	for _, s := range []step{
		r.reconcileService,
		r.reconcileNetworkPolicy,
		r.reconcileServingCertificate,
		r.reconcileTokenPKI,
		func(context.Context, *state) error { r.reportCertificates(st); return nil },
		r.reconcileAuthConfig,
		r.reconcileRegistryConfig,
		r.reconcileStorage,
		r.reconcileDeployment,
	} {
		if err := s(ctx, st); err != nil {
			log.FromContext(ctx).Error(err, "reconcile step failed")
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{RequeueAfter: st.requeueAfter()}, nil
}
