package render

import (
	"maps"
	"testing"

	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/utils/ptr"
)

// TestDesiredPDB: a budget only for several replicas, one pod at a time,
// selecting exactly the Deployment's pods, unhealthy pods always evictable.
func TestDesiredPDB(t *testing.T) {
	one := classic()
	one.Spec.Replicas = ptr.To[int32](1)
	if DesiredPDB(classic()) != nil || DesiredPDB(one) != nil {
		t.Error("one replica must have no budget")
	}
	ra := s3Storage()
	pdb := DesiredPDB(ra)
	d := DesiredDeployment(ra, testOptions, nil)
	if pdb == nil || pdb.Name != d.Name || pdb.Spec.MaxUnavailable.IntValue() != 1 ||
		!maps.Equal(pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels) ||
		ptr.Deref(pdb.Spec.UnhealthyPodEvictionPolicy, "") != policyv1.AlwaysAllow || len(pdb.OwnerReferences) != 1 {
		t.Errorf("budget for 3 replicas: %+v", pdb)
	}
}
