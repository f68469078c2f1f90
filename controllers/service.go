package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// reconcileService comes first: the serving certificate and the URLs need
// the ClusterIP the API server allocates.
func (r *RegistryAuthReconciler) reconcileService(ctx context.Context, st *state) error {
	svc, err := r.applyService(ctx, st)
	if err != nil {
		return err
	}
	st.svc = svc // nil when the pinned address cannot be had: the condition says why
	if svc != nil {
		st.ra.Status.ClusterIP = svc.Spec.ClusterIP
	}
	st.wiring = render.Wire(st.ra, st.opts, svc)
	w := st.wiring
	st.ra.Status.URLs = w.URLs
	st.ra.Status.Service = w.Service
	st.ra.Status.Issuer = w.Issuer
	st.ra.Status.Realm = w.Realm
	if w.RealmIsClusterInternal(st.opts) {
		st.set(v1alpha1.ConditionRealmReachable, false, v1alpha1.ReasonClusterInternalHost,
			"the docker_auth realm "+w.Realm+" names a cluster DNS name that nodes and clients outside the cluster cannot resolve: set spec.expose.host (or use the builtin provider, whose realm follows the host each client used)")
	} else {
		reason := v1alpha1.ReasonHostReachable
		msg := "the realm is " + w.Realm
		if w.Provider == v1alpha1.ProviderBuiltin {
			reason, msg = v1alpha1.ReasonFrontDoor, "the front door answers tokens on every host that reaches the registry"
		}
		st.set(v1alpha1.ConditionRealmReachable, true, reason, msg)
	}
	return nil
}

// applyService keeps the Service's address stable. Image references, pull
// Secrets and nodes' certs.d entries name the ClusterIP, so a Service that is
// deleted (by hand, by a backup restore, by a namespace cleanup) is recreated
// at the address it had (status.clusterIP) or the one the admin pinned.
// A Service's address cannot change in place: a live Service keeps its own.
// Nil Service (and no error) when the pinned address cannot be had.
func (r *RegistryAuthReconciler) applyService(ctx context.Context, st *state) (*corev1.Service, error) {
	pinned := st.ra.Spec.Expose.Service.ClusterIP
	want := render.RequestedClusterIP(st.ra)
	live := &corev1.Service{}
	request := ""
	switch err := r.Client.Get(ctx, types.NamespacedName{Namespace: st.ra.Namespace, Name: st.names.Service}, live); {
	case apierrors.IsNotFound(err):
		request = want
	case err != nil:
		return nil, err
	}
	svc := render.DesiredService(st.ra, request)
	_, err := r.apply(ctx, st, svc)
	var refused *apierrors.StatusError
	if err != nil && request != "" && errors.As(err, &refused) && apierrors.IsInvalid(refused) {
		if pinned != "" {
			r.fail(st, v1alpha1.ConditionServiceAddress, v1alpha1.ReasonClusterIPUnavailable,
				fmt.Sprintf("spec.expose.service.clusterIP %s cannot be given to Service %s: %s (it must lie in the cluster's Service range and be free)",
					pinned, st.names.Service, refused.ErrStatus.Message))
			return nil, nil
		}
		// Right after a deletion the API server may still hold the old
		// address (it is released asynchronously): ask for it again for a
		// while before concluding that another Service took it.
		if r.addressMayStillBeReleased(st) {
			waiting := r.addressWaitStarted(st)
			st.set(v1alpha1.ConditionServiceAddress, false, v1alpha1.ReasonClusterIPReleasing,
				fmt.Sprintf("Service %s is recreated at its previous address %s once the API server has released it (%s)",
					st.names.Service, want, refused.ErrStatus.Message))
			if !waiting {
				// The wait starts now, whatever the condition said before.
				apimeta.FindStatusCondition(st.ra.Status.Conditions, v1alpha1.ConditionServiceAddress).LastTransitionTime = metav1.NewTime(st.now)
			}
			// %v, not %w: the refusal is Invalid, which would stall the step;
			// this one is retried with backoff until the grace ends.
			return nil, fmt.Errorf("previous address %s of Service %s not released yet: %v", want, st.names.Service, err)
		}
		// The remembered address went to another Service meanwhile: a new
		// one is better than none. Loud, because clients of the old one break.
		log.FromContext(ctx).Info("the Service's previous address is taken; a new one is allocated", "previous", want, "error", refused.ErrStatus.Message)
		r.Recorder.Eventf(st.ra, nil, corev1.EventTypeWarning, "ClusterIPChanged", "Reconcile",
			"Service %s could not get its previous address %s back (%s); clients, pull Secrets and nodes using it must move to the new status.urls.node",
			st.names.Service, want, refused.ErrStatus.Message)
		svc = render.DesiredService(st.ra, "")
		_, err = r.apply(ctx, st, svc)
	}
	if err != nil {
		return nil, err
	}
	ip := svc.Spec.ClusterIP
	switch {
	case pinned != "" && ip != pinned:
		r.fail(st, v1alpha1.ConditionServiceAddress, v1alpha1.ReasonClusterIPMismatch,
			fmt.Sprintf("Service %s has address %s but spec.expose.service.clusterIP asks for %s: a Service's address cannot change in place; delete the Service and the operator recreates it at %s (clients using %s then break)",
				st.names.Service, ip, pinned, pinned, ip))
	case pinned != "":
		st.set(v1alpha1.ConditionServiceAddress, true, v1alpha1.ReasonClusterIPPinned, "the Service holds the pinned address "+ip)
	default:
		st.set(v1alpha1.ConditionServiceAddress, true, v1alpha1.ReasonClusterIPAllocated,
			"the Service holds the address "+ip+"; the operator requests it again if the Service is recreated")
	}
	if st.ra.Status.ClusterIP != "" && ip == request {
		log.FromContext(ctx).Info("Service recreated at its previous address", "service", st.names.Service, "clusterIP", ip)
		r.Recorder.Eventf(st.ra, nil, corev1.EventTypeNormal, "ServiceRecreated", "Reconcile",
			"Service %s was missing and is recreated at its address %s", st.names.Service, ip)
	}
	return svc, nil
}

// addressReleaseGrace is how long a recreated Service keeps asking for its
// previous address while the API server reports it as still allocated.
const addressReleaseGrace = 30 * time.Second

// addressMayStillBeReleased: the wait for the previous address started less
// than addressReleaseGrace ago (or starts now). The start is the condition's
// transition time, so the wait survives requeues and operator restarts.
func (r *RegistryAuthReconciler) addressMayStillBeReleased(st *state) bool {
	if !r.addressWaitStarted(st) {
		return true
	}
	c := apimeta.FindStatusCondition(st.ra.Status.Conditions, v1alpha1.ConditionServiceAddress)
	return st.now.Sub(c.LastTransitionTime.Time) < addressReleaseGrace
}

// addressWaitStarted: an earlier reconcile is already waiting for the
// previous address.
func (r *RegistryAuthReconciler) addressWaitStarted(st *state) bool {
	c := apimeta.FindStatusCondition(st.ra.Status.Conditions, v1alpha1.ConditionServiceAddress)
	return c != nil && c.Status == metav1.ConditionFalse && c.Reason == v1alpha1.ReasonClusterIPReleasing
}
