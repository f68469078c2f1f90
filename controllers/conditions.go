package controllers

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
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

// fail records a problem of the user's input: a False condition, a Warning
// Event, and Stalled, since only a change of the input can fix it.
func (r *RegistryAuthReconciler) fail(st *state, condType, reason, message string) {
	st.set(condType, false, reason, message)
	st.stalled = append(st.stalled, message)
	r.Recorder.Eventf(st.ra, nil, corev1.EventTypeWarning, reason, "Reconcile", "%s", message)
}

// summarize derives Ready, Reconciling and Stalled (kstatus) from the
// specific conditions and records the generation they describe.
func (r *RegistryAuthReconciler) summarize(st *state, err error) {
	ra := st.ra
	ra.Status.ObservedGeneration = ra.Generation
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
	if err != nil {
		ready, reason, msg = false, v1alpha1.ReasonApplyFailed, err.Error()
	}
	st.set(v1alpha1.ConditionReady, ready, reason, msg)

	switch {
	case len(st.stalled) > 0:
		st.set(v1alpha1.ConditionStalled, true, reason, strings.Join(st.stalled, "; "))
		apimeta.RemoveStatusCondition(&ra.Status.Conditions, v1alpha1.ConditionReconciling)
	case !ready:
		apimeta.RemoveStatusCondition(&ra.Status.Conditions, v1alpha1.ConditionStalled)
		apimeta.SetStatusCondition(&ra.Status.Conditions, metav1.Condition{
			Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: reason, Message: msg,
			ObservedGeneration: ra.Generation,
		})
	default:
		apimeta.RemoveStatusCondition(&ra.Status.Conditions, v1alpha1.ConditionStalled)
		apimeta.RemoveStatusCondition(&ra.Status.Conditions, v1alpha1.ConditionReconciling)
	}
}
