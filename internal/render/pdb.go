package render

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// DesiredPDB lets a node drain evict one registry pod at a time when there
// are several (shared storage: any replica serves any request), so a drain
// never takes the registry away. Nil for one replica: a budget there would
// block every drain of its node (or allow nothing useful).
func DesiredPDB(ra *v1alpha1.RegistryAuth) *policyv1.PodDisruptionBudget {
	if ra.Spec.Replicas == nil || *ra.Spec.Replicas < 2 {
		return nil
	}
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   typeMeta("policy/v1", "PodDisruptionBudget"),
		ObjectMeta: objectMeta(ra, NamesFor(ra).Deployment, "registry"),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			Selector:       &metav1.LabelSelector{MatchLabels: SelectorLabels(ra)},
			// A pod that is not ready serves nothing: evicting it costs
			// nothing, and refusing would stall drains behind a broken pod.
			UnhealthyPodEvictionPolicy: ptr.To(policyv1.AlwaysAllow),
		},
	}
}
