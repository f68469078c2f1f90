package render

import (
	"maps"

	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// applyPodSettings copies spec.pod onto the pod: placement and image pull
// Secrets, as written. Empty values set nothing, so `pod: {}` renders the
// same template as no pod settings (no needless rollout). The copies keep
// the rendered Deployment from sharing slices and maps with the resource.
// The user's affinity does not replace the operator's spread: that lives in
// topologySpreadConstraints (spread.go), and both apply.
func applyPodSettings(ra *v1alpha1.RegistryAuth, pod *corev1.PodSpec) {
	p := ra.Spec.Pod
	if p == nil {
		return
	}
	if len(p.NodeSelector) > 0 {
		pod.NodeSelector = maps.Clone(p.NodeSelector)
	}
	for _, t := range p.Tolerations {
		pod.Tolerations = append(pod.Tolerations, *t.DeepCopy())
	}
	if p.Affinity != nil && (p.Affinity.NodeAffinity != nil || p.Affinity.PodAffinity != nil || p.Affinity.PodAntiAffinity != nil) {
		pod.Affinity = p.Affinity.DeepCopy()
	}
	pod.PriorityClassName = p.PriorityClassName
	for _, s := range p.ImagePullSecrets {
		pod.ImagePullSecrets = append(pod.ImagePullSecrets, corev1.LocalObjectReference{Name: s.Name})
	}
}
