package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// TestPodSettingsReachDeployment: spec.pod lands on the pod template (the
// template change rolls the pods, the restart hash stays as it was);
// clearing it removes every setting again, and `pod: {}` in place of
// nothing changes nothing (no rollout).
func TestPodSettingsReachDeployment(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "sched")
	waitCondition(t, ns, "sched", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	settle(t)
	before := get(t, ns, "sched", &appsv1.Deployment{})
	hash := before.Spec.Template.Annotations[render.AnnotationRestartHash]

	settings := &v1alpha1.PodSettings{
		NodeSelector: map[string]string{"example.com/pool": "registry"},
		Tolerations:  []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "registry", Effect: corev1.TaintEffectNoSchedule}},
		Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{
			Weight: 10, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "example.com/ssd", Operator: corev1.NodeSelectorOpExists}}},
		}}}},
		PriorityClassName: "system-cluster-critical",
		ImagePullSecrets:  []v1alpha1.LocalSecretRef{{Name: "mirror-pull"}},
	}
	setPod(t, ns, "sched", settings)
	var after *appsv1.Deployment
	eventually(t, 20*time.Second, func() error {
		after = get(t, ns, "sched", &appsv1.Deployment{})
		p := after.Spec.Template.Spec
		if !cmp.Equal(p.NodeSelector, settings.NodeSelector) || !cmp.Equal(p.Tolerations, settings.Tolerations) ||
			!cmp.Equal(p.Affinity, settings.Affinity) || p.PriorityClassName != settings.PriorityClassName ||
			!cmp.Equal(p.ImagePullSecrets, []corev1.LocalObjectReference{{Name: "mirror-pull"}}) {
			return fmt.Errorf("pod template: nodeSelector %v, tolerations %v, affinity %v, priorityClassName %q, imagePullSecrets %v",
				p.NodeSelector, p.Tolerations, p.Affinity, p.PriorityClassName, p.ImagePullSecrets)
		}
		return nil
	})
	if after.Generation == before.Generation {
		t.Error("the template changed but the Deployment's generation did not (no rollout)")
	}
	if h := after.Spec.Template.Annotations[render.AnnotationRestartHash]; h != hash {
		t.Errorf("pod settings changed the restart hash %s -> %s: they are not restart inputs", hash, h)
	}

	setPod(t, ns, "sched", &v1alpha1.PodSettings{})
	eventually(t, 20*time.Second, func() error {
		p := get(t, ns, "sched", &appsv1.Deployment{}).Spec.Template.Spec
		if len(p.NodeSelector)+len(p.Tolerations)+len(p.ImagePullSecrets) > 0 || p.Affinity != nil || p.PriorityClassName != "" {
			return fmt.Errorf("settings left after clearing spec.pod: %+v %+v %+v %+v %q", p.NodeSelector, p.Tolerations, p.ImagePullSecrets, p.Affinity, p.PriorityClassName)
		}
		return nil
	})
	settle(t)
	cleared := get(t, ns, "sched", &appsv1.Deployment{})
	if diff := cmp.Diff(before.Spec.Template, cleared.Spec.Template); diff != "" {
		t.Errorf("the cleared template differs from the one before:\n%s", diff)
	}
	setPod(t, ns, "sched", nil)
	settle(t)
	if g := get(t, ns, "sched", &appsv1.Deployment{}).Generation; g != cleared.Generation {
		t.Errorf("pod: {} -> no pod settings changed the Deployment (generation %d -> %d)", cleared.Generation, g)
	}
}

func setPod(t *testing.T, ns, name string, p *v1alpha1.PodSettings) {
	t.Helper()
	ra := get(t, ns, name, &v1alpha1.RegistryAuth{})
	ra.Spec.Pod = p
	if err := updateRA(context.Background(), ra); err != nil {
		t.Fatal(err)
	}
}

// TestReplicaFailureNamed: pods the API server refuses to create (here a
// missing PriorityClass) are named in Available's message.
func TestReplicaFailureNamed(t *testing.T) {
	d := &appsv1.Deployment{Status: appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{
		{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Message: "progressing"},
		{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate",
			Message: `pods "acme-5d9c" is forbidden: no PriorityClass with name registry-critical was found`},
	}}}
	if got := replicaFailure(d); !strings.Contains(got, "no PriorityClass with name registry-critical") {
		t.Errorf("replicaFailure = %q", got)
	}
	d.Status.Conditions[1].Status = corev1.ConditionFalse
	if got := replicaFailure(d); got != "" {
		t.Errorf("a resolved failure still reported: %q", got)
	}
}

// TestAdmissionPodSettings: pull Secrets are names (non-empty, unique, DNS
// subdomains) and priorityClassName a DNS subdomain; the API server refuses
// anything else.
func TestAdmissionPodSettings(t *testing.T) {
	ns := newNamespace(t)
	for i, tc := range []struct {
		pod  v1alpha1.PodSettings
		want string
	}{
		{v1alpha1.PodSettings{ImagePullSecrets: []v1alpha1.LocalSecretRef{{Name: ""}}}, "spec.pod.imagePullSecrets[0].name"},
		{v1alpha1.PodSettings{ImagePullSecrets: []v1alpha1.LocalSecretRef{{Name: "a"}, {Name: "a"}}}, "Duplicate value"},
		{v1alpha1.PodSettings{ImagePullSecrets: []v1alpha1.LocalSecretRef{{Name: "../other"}}}, "spec.pod.imagePullSecrets[0].name"},
		{v1alpha1.PodSettings{PriorityClassName: "High Priority"}, "spec.pod.priorityClassName"},
	} {
		ra := classicRA(ns, fmt.Sprintf("pod-%d", i))
		ra.Spec.Pod = &tc.pod
		err := k8s.Create(context.Background(), ra)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("case %d: want Invalid naming %q, got %v", i, tc.want, err)
		}
	}
}
