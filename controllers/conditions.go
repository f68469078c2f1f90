package controllers

import (
	"slices"
	"strings"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// readiness are the conditions that must all be True for Ready, in the order
// their failure is reported.
var readiness = []string{
	v1alpha1.ConditionServiceAddress,
	v1alpha1.ConditionCertificatesReady,
	v1alpha1.ConditionConfigRendered,
	v1alpha1.ConditionAvailable,
	v1alpha1.ConditionVerified,
}

func (st *state) set(condType string, ok bool, reason, message string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	apimeta.SetStatusCondition(&st.ra.Status.Conditions, metav1.Condition{
		Type: condType, Status: status, Reason: reason, Message: message,
		ObservedGeneration: st.ra.Generation,
	})
}

// fail records a problem of the user's input: a False condition, Stalled
// (only a change of the input can fix it), and a Warning Event when the
// problem is new (see announce).
func (r *RegistryAuthReconciler) fail(st *state, condType, reason, message string) {
	st.set(condType, false, reason, message)
	st.stalled = append(st.stalled, message)
	st.warnings = append(st.warnings, warning{condType: condType, reason: reason, message: message})
}

// summarize derives Ready, Reconciling and Stalled (kstatus) from the
// specific conditions and the steps' outcome.
//
// status.observedGeneration moves to the generation only when the reconcile
// reached a verdict on it: every step ran, or failed in a way only a change
// of the input can fix (then Stalled=True says so, and kstatus reads the
// pair as Failed). After an error a retry may fix, it keeps the generation
// of the last complete reconcile, so a reader never takes a half-applied
// spec for an observed one.
func (r *RegistryAuthReconciler) summarize(st *state) {
	ra := st.ra
	if len(st.errs) == 0 {
		ra.Status.ObservedGeneration = ra.Generation
	}
	ready, reason, msg := true, v1alpha1.ReasonSucceeded, "the registry answers with the current spec"
	for _, t := range readiness {
		c := apimeta.FindStatusCondition(ra.Status.Conditions, t)
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != ra.Generation {
			ready, reason, msg = false, v1alpha1.ReasonProgressing, t+" is not yet known"
			if c != nil && c.ObservedGeneration == ra.Generation {
				reason, msg = c.Reason, c.Message
			}
			break
		}
	}
	stalled := st.stalled
	for _, f := range st.stalledBy {
		if !slices.Contains(st.stalled, f.message) { // a step may both fail() and stall
			stalled = append(stalled, f.step+": "+f.message)
		}
	}
	reportConflicts(st)
	switch {
	case len(st.errs) > 0:
		ready, reason, msg = false, v1alpha1.ReasonApplyFailed, joinErrs(st.errs)
	case len(st.conflicts) > 0:
		ready, reason, msg = false, v1alpha1.ReasonNameConflict, strings.Join(st.conflicts, "; ")
	case len(st.stalledBy) > 0:
		f := st.stalledBy[0]
		ready, reason, msg = false, f.reason, f.step+": "+f.message
	}
	if len(st.skipped) > 0 {
		msg += "; skipped: " + strings.Join(st.skipped, ", ")
	}
	st.set(v1alpha1.ConditionReady, ready, reason, msg)

	switch {
	case len(st.errs) == 0 && len(stalled) > 0:
		st.set(v1alpha1.ConditionStalled, true, reason, strings.Join(stalled, "; "))
		apimeta.RemoveStatusCondition(&ra.Status.Conditions, v1alpha1.ConditionReconciling)
	case !ready:
		apimeta.RemoveStatusCondition(&ra.Status.Conditions, v1alpha1.ConditionStalled)
		st.set(v1alpha1.ConditionReconciling, true, reason, msg)
	default:
		apimeta.RemoveStatusCondition(&ra.Status.Conditions, v1alpha1.ConditionStalled)
		apimeta.RemoveStatusCondition(&ra.Status.Conditions, v1alpha1.ConditionReconciling)
	}
}

func joinErrs(errs []error) string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return strings.Join(out, "; ")
}
