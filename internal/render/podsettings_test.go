package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// scheduled runs 3 replicas on S3 on dedicated nodes, from a private mirror.
func scheduled() *v1alpha1.RegistryAuth {
	ra := s3Storage()
	ra.Spec.Pod = &v1alpha1.PodSettings{
		NodeSelector: map[string]string{"node-role.example.com/registry": ""},
		Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "registry",
			Effect: corev1.TaintEffectNoSchedule}},
		Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/arch", Operator: corev1.NodeSelectorOpIn, Values: []string{"amd64", "arm64"}}},
			}}},
		}},
		PriorityClassName: "registry-critical",
		ImagePullSecrets:  []v1alpha1.LocalSecretRef{{Name: "mirror-pull"}, {Name: "mirror-pull-2"}},
	}
	return ra
}

// TestPodSettings: each setting reaches the pod template as written, the
// operator's spread stays beside the user's affinity, and empty settings
// render exactly what no settings render (no rollout for `pod: {}`).
func TestPodSettings(t *testing.T) {
	podOf := func(ra *v1alpha1.RegistryAuth) corev1.PodSpec {
		return DesiredDeployment(ra, testOptions, nil).Spec.Template.Spec
	}
	base := podOf(s3Storage())
	for _, tc := range []struct {
		name string
		pod  *v1alpha1.PodSettings
	}{
		{"empty", &v1alpha1.PodSettings{}},
		{"empty values", &v1alpha1.PodSettings{NodeSelector: map[string]string{}, Tolerations: []corev1.Toleration{},
			Affinity: &corev1.Affinity{}, ImagePullSecrets: []v1alpha1.LocalSecretRef{}}},
	} {
		ra := s3Storage()
		ra.Spec.Pod = tc.pod
		if diff := cmp.Diff(base, podOf(ra)); diff != "" {
			t.Errorf("%s: the template differs from no settings:\n%s", tc.name, diff)
		}
	}

	ra := scheduled()
	got := podOf(ra)
	if !cmp.Equal(got.NodeSelector, ra.Spec.Pod.NodeSelector) || !cmp.Equal(got.Tolerations, ra.Spec.Pod.Tolerations) ||
		!cmp.Equal(got.Affinity, ra.Spec.Pod.Affinity) || got.PriorityClassName != "registry-critical" ||
		!cmp.Equal(got.ImagePullSecrets, []corev1.LocalObjectReference{{Name: "mirror-pull"}, {Name: "mirror-pull-2"}}) {
		t.Fatalf("settings not copied: nodeSelector %v, tolerations %v, affinity %v, priorityClassName %q, imagePullSecrets %v",
			got.NodeSelector, got.Tolerations, got.Affinity, got.PriorityClassName, got.ImagePullSecrets)
	}
	if !cmp.Equal(got.TopologySpreadConstraints, base.TopologySpreadConstraints) || len(got.TopologySpreadConstraints) != 2 {
		t.Errorf("the spread must stay beside the user's affinity: %+v", got.TopologySpreadConstraints)
	}
	// Only the placement fields differ: containers, volumes and security are untouched.
	got.NodeSelector, got.Tolerations, got.Affinity, got.PriorityClassName, got.ImagePullSecrets = nil, nil, nil, "", nil
	if diff := cmp.Diff(base, got); diff != "" {
		t.Errorf("pod settings changed more than placement:\n%s", diff)
	}
	// The rendered pod owns its copies: editing it leaves the resource alone.
	d := DesiredDeployment(ra, testOptions, nil)
	d.Spec.Template.Spec.NodeSelector["x"] = "y"
	d.Spec.Template.Spec.Tolerations[0].TolerationSeconds = ptr.To[int64](1)
	if _, ok := ra.Spec.Pod.NodeSelector["x"]; ok || ra.Spec.Pod.Tolerations[0].TolerationSeconds != nil {
		t.Error("the Deployment shares maps or slices with the RegistryAuth")
	}
	golden(t, "scheduled-deployment", DesiredDeployment(ra, testOptions, map[string]string{AnnotationRestartHash: "0123456789abcdef"}))
}
