package controllers

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// event records an Event on the RegistryAuth and logs the same line at info
// level, so an admin without access to Events still finds it in the log.
//
// The Event names the RegistryAuth without its resourceVersion: the recorder
// folds repeats of one event into a series by comparing references, and a
// reference that carries the version before and after the status patch
// turns one problem into two Events (why every Warning used to appear twice).
func (r *RegistryAuthReconciler) event(st *state, eventType, reason, action, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	st.log.Info(msg, "event", reason, "type", eventType)
	regarding := st.ra.DeepCopy()
	regarding.ResourceVersion = ""
	r.Recorder.Eventf(regarding, nil, eventType, reason, action, "%s", msg)
}

// announce emits the Events of this reconcile's transitions only: a problem
// already reported on the status found at the start is not reported again
// by the reconciles that follow (each status patch triggers one).
func (r *RegistryAuthReconciler) announce(st *state) {
	for _, w := range st.warnings {
		if !reported(st.before, w.condType, w.message) {
			r.event(st, corev1.EventTypeWarning, w.reason, "Reconcile", "%s", w.message)
		}
	}
	for _, f := range st.stalledBy {
		if st.warned(f.message) {
			continue // the step's condition already carries it
		}
		if !reported(st.before, v1alpha1.ConditionStalled, f.message) {
			r.event(st, corev1.EventTypeWarning, f.reason, "Reconcile", "%s: %s", f.step, f.message)
		}
	}
	if len(st.errs) > 0 {
		msg := joinErrs(st.errs)
		if !reported(st.before, v1alpha1.ConditionReady, msg) {
			r.event(st, corev1.EventTypeWarning, v1alpha1.ReasonApplyFailed, "Reconcile", "%s (retrying)", msg)
		}
	}
	if len(st.before) == 0 {
		r.event(st, corev1.EventTypeNormal, "Created", "Reconcile",
			"creating the registry's Service, certificates, configuration and Deployment")
	}
	wasReady := apimeta.IsStatusConditionTrue(st.before, v1alpha1.ConditionReady)
	if now := apimeta.FindStatusCondition(st.ra.Status.Conditions, v1alpha1.ConditionReady); now != nil && now.Status == metav1.ConditionTrue && !wasReady {
		r.event(st, corev1.EventTypeNormal, "Ready", "Reconcile", "the registry is ready at %s", urlList(st.ra))
	}
}

// reported: the condition as found already carried the message.
func reported(before []metav1.Condition, condType, message string) bool {
	c := apimeta.FindStatusCondition(before, condType)
	return c != nil && strings.Contains(c.Message, message)
}

func urlList(ra *v1alpha1.RegistryAuth) string {
	var out []string
	for _, u := range []string{ra.Status.URLs.InCluster, ra.Status.URLs.Node, ra.Status.URLs.External} {
		if u != "" {
			out = append(out, u)
		}
	}
	return strings.Join(out, ", ")
}

// warned: a warning with this message is already on the list.
func (st *state) warned(message string) bool {
	for _, w := range st.warnings {
		if w.message == message {
			return true
		}
	}
	return false
}
