// Package controllers reconciles RegistryAuth resources. It orchestrates only:
// the desired objects come from internal/render, certificates from
// internal/pki, and every write goes through internal/apply.
package controllers

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/registry-auth-operator/registry-auth-operator/internal/selfcheck"
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
	// Checker proves the registry works from outside its pod (Verified);
	// envtest, where no registry runs, injects a stand-in.
	Checker selfcheck.Checker
	// CertManager: the cert-manager.io/v1 API is served (checked at start).
	CertManager bool
	// APIReader reads what the cache does not hold (Secrets not owned, the
	// registry's pods: see podProblems); setupWith sets it when nil.
	APIReader client.Reader
}

// step is one sub-reconciler. It returns an error for what a retry may fix
// (API errors) or a stalledError for what only a change of the input can;
// other problems of the user's input become conditions and return nil.
type step func(ctx context.Context, st *state) error

// stepDef is a step and the steps whose output it needs. A step whose need
// failed is skipped; the others still run, so a claim the API server refuses
// never stops rollouts and rotations.
type stepDef struct {
	name  string
	run   step
	needs []string
}

// steps in order. The Deployment needs every step that contributes a restart
// input (applied without one, it would roll the pods twice) and storage (the
// pods mount the claim by name: a claim that is not this RegistryAuth's must
// not be mounted). Storage reports what it can live with as conditions
// (a claim to be created, an immutable field it cannot change) and stalls
// only on a foreign claim, so a storage problem blocks rollouts only then.
func (r *RegistryAuthReconciler) steps() []stepDef {
	return []stepDef{
		{name: "references", run: r.checkReferencedNames},
		{name: "service", run: r.reconcileService},
		{name: "network policy", run: r.reconcileNetworkPolicy},
		{name: "disruption budget", run: r.reconcilePDB},
		{name: "serving certificate", run: r.reconcileServingCertificate, needs: []string{"service"}},
		{name: "token PKI", run: r.reconcileTokenPKI, needs: []string{"service"}},
		{name: "auth config", run: r.reconcileAuthConfig, needs: []string{"service"}},
		{name: "registry config", run: r.reconcileRegistryConfig, needs: []string{"service"}},
		{name: "storage", run: r.reconcileStorage},
		{name: "auth delegator", run: r.reconcileAuthDelegator},
		{name: "deployment", run: r.reconcileDeployment, needs: []string{"service", "serving certificate", "token PKI", "registry config", "storage", "auth delegator"}},
		{name: "self-check", run: r.reconcileVerified, needs: []string{"deployment", "auth config"}},
	}
}

// Reconcile runs the sub-reconcilers and writes the status once, at the
// end, only when it changed.
func (r *RegistryAuthReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ra := &v1alpha1.RegistryAuth{}
	if err := r.Client.Get(ctx, req.NamespacedName, ra); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ra.DeletionTimestamp.IsZero() {
		// Owner references let the garbage collector clean up the rest.
		return ctrl.Result{}, r.releaseAuthDelegator(ctx, ra)
	}
	before := ra.DeepCopy()
	st := newState(ra, r.Options, r.Now())
	st.log = log.FromContext(ctx)
	st.before = before.Status.Conditions

	failed := map[string]bool{}
	for _, s := range r.steps() {
		if need := firstFailed(s.needs, failed); need != "" {
			failed[s.name] = true
			st.skipped = append(st.skipped, s.name+" (needs "+need+")")
			continue
		}
		err := s.run(ctx, st)
		if err == nil {
			continue
		}
		failed[s.name] = true
		if se, ok := asStalled(err); ok {
			st.stalledBy = append(st.stalledBy, stepFailure{s.name, se.reason, se.message})
			continue
		}
		st.errs = append(st.errs, fmt.Errorf("%s: %w", s.name, err))
	}

	r.reportCertificates(st)
	r.summarize(st)
	r.announce(st)
	var retErr error
	if len(st.errs) > 0 {
		retErr = errors.Join(st.errs...)
	}
	if !equality.Semantic.DeepEqual(before.Status, ra.Status) {
		st.log.V(1).Info("status changed", "before", before.Status, "after", ra.Status)
		if err := r.Client.Status().Patch(ctx, ra, client.MergeFrom(before)); err != nil {
			retErr = errors.Join(retErr, client.IgnoreNotFound(err))
		}
	}
	if retErr != nil {
		return ctrl.Result{}, retErr // backoff
	}
	return ctrl.Result{RequeueAfter: st.requeueAfter()}, nil
}

// firstFailed returns the first of needs that failed, or "".
func firstFailed(needs []string, failed map[string]bool) string {
	for _, n := range needs {
		if failed[n] {
			return n
		}
	}
	return ""
}
