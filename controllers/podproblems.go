package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// +kubebuilder:rbac:groups="",resources=pods,verbs=list

// maxTerminationMessage bounds what a container's last words add to a
// condition message (the kubelet keeps up to 4 KiB of them).
const maxTerminationMessage = 300

// podProblems says why the registry's pods are not available, from the
// pods themselves: a container waiting in CrashLoopBackOff (with the reason,
// exit code and message of its last termination), an image that cannot be
// pulled, a config error. It reads the pods directly, only while the
// Deployment is not available: caching every pod of the cluster for this
// would cost far more memory than an occasional list costs time.
func (r *RegistryAuthReconciler) podProblems(ctx context.Context, st *state) string {
	if r.APIReader == nil {
		return ""
	}
	var pods corev1.PodList
	if err := r.APIReader.List(ctx, &pods, client.InNamespace(st.ra.Namespace), client.MatchingLabels(render.SelectorLabels(st.ra))); err != nil {
		st.log.V(1).Info("listing the registry's pods", "error", err.Error())
		return ""
	}
	var out []string
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
			if msg := containerProblem(cs); msg != "" {
				out = append(out, fmt.Sprintf("pod %s container %s: %s", p.Name, cs.Name, msg))
			}
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason != "" {
				out = append(out, fmt.Sprintf("pod %s not scheduled: %s: %s", p.Name, c.Reason, c.Message))
			}
		}
	}
	if len(out) > 3 {
		out = append(out[:3], fmt.Sprintf("and %d more", len(out)-3))
	}
	return strings.Join(out, "; ")
}

// containerProblem describes a container that is stuck, or "".
func containerProblem(cs corev1.ContainerStatus) string {
	w := cs.State.Waiting
	if w == nil || w.Reason == "" || w.Reason == "ContainerCreating" || w.Reason == "PodInitializing" {
		return ""
	}
	msg := w.Reason
	if w.Message != "" {
		msg += " (" + w.Message + ")"
	}
	if t := cs.LastTerminationState.Terminated; t != nil {
		msg += fmt.Sprintf("; last exit code %d", t.ExitCode)
		if t.Reason != "" {
			msg += " (" + t.Reason + ")"
		}
		if m := strings.TrimSpace(t.Message); m != "" {
			if len(m) > maxTerminationMessage {
				m = "…" + m[len(m)-maxTerminationMessage:]
			}
			msg += ": " + m
		}
	}
	if cs.RestartCount > 0 {
		msg += fmt.Sprintf("; %d restarts", cs.RestartCount)
	}
	return msg
}
