package controllers

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// podRecheck is how often pods are looked at while not available.
const podRecheck = 30 * time.Second

// reconcileDeployment applies the pods with the hash of the restart inputs
// collected by the steps before, and reports availability.
func (r *RegistryAuthReconciler) reconcileDeployment(ctx context.Context, st *state) error {
	st.podAnnotations[render.AnnotationRestartHash] = render.RestartHash(st.restartInputs...)
	d := render.DesiredDeployment(st.ra, st.opts, st.podAnnotations)
	if _, err := r.apply(ctx, st, d); err != nil {
		return err
	}
	st.deployment = d
	ok, reason, msg := deploymentAvailable(d)
	if !ok {
		if why := r.podProblems(ctx, st); why != "" {
			reason, msg = v1alpha1.ReasonPodsFailing, msg+": "+why
		} else if why := replicaFailure(d); why != "" {
			reason, msg = v1alpha1.ReasonPodsFailing, msg+": "+why
		}
		// Pods are not watched (see podProblems): look again soon, so the
		// message follows a crash loop.
		st.renewals = append(st.renewals, st.now.Add(podRecheck))
	}
	st.set(v1alpha1.ConditionAvailable, ok, reason, msg)
	return nil
}

// deploymentAvailable: every desired pod is updated and available, as
// observed for the current generation.
func deploymentAvailable(d *appsv1.Deployment) (bool, string, string) {
	want := ptr.Deref(d.Spec.Replicas, 1)
	s := d.Status
	switch {
	case s.ObservedGeneration < d.Generation:
		return false, v1alpha1.ReasonRolloutInProgress, "the Deployment controller has not yet observed the current spec"
	case want == 0:
		return false, v1alpha1.ReasonDeploymentNotReady, "spec.replicas is 0"
	case s.UpdatedReplicas < want:
		return false, v1alpha1.ReasonRolloutInProgress, fmt.Sprintf("%d of %d pods updated", s.UpdatedReplicas, want)
	case s.AvailableReplicas < want:
		return false, v1alpha1.ReasonDeploymentNotReady, fmt.Sprintf("%d of %d pods available", s.AvailableReplicas, want)
	case s.Replicas > want:
		return false, v1alpha1.ReasonRolloutInProgress, fmt.Sprintf("%d old pods still terminating", s.Replicas-want)
	}
	return true, v1alpha1.ReasonSucceeded, fmt.Sprintf("%d of %d pods available", s.AvailableReplicas, want)
}

// replicaFailure is the Deployment's ReplicaFailure message, or "": pods the
// API server refused to create (a missing PriorityClass, a quota) exist
// nowhere, so podProblems cannot name them.
func replicaFailure(d *appsv1.Deployment) string {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			return "pods cannot be created: " + c.Message
		}
	}
	return ""
}
