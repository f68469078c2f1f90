package render

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// spreadReplicas asks the scheduler to put replicas on different nodes,
// then zones, so one node's drain or failure takes one replica, not all.
// ScheduleAnyway: a single-node cluster still runs every replica (a hard
// rule would leave them Pending there).
func spreadReplicas(ra *v1alpha1.RegistryAuth, pod *corev1.PodSpec) {
	if ra.Spec.Replicas == nil || *ra.Spec.Replicas < 2 {
		return
	}
	for _, key := range []string{corev1.LabelHostname, corev1.LabelTopologyZone} {
		pod.TopologySpreadConstraints = append(pod.TopologySpreadConstraints, corev1.TopologySpreadConstraint{
			MaxSkew: 1, TopologyKey: key, WhenUnsatisfiable: corev1.ScheduleAnyway,
			LabelSelector: &metav1.LabelSelector{MatchLabels: SelectorLabels(ra)},
		})
	}
}
