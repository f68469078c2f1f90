package apply

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestHolds: an apply is skipped only when the live object still carries
// every field the operator sets; what others add does not count.
func TestHolds(t *testing.T) {
	desired := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "n", Labels: map[string]string{"a": "1"}},
		Data:       map[string]string{"k": "v"},
	}
	want, _, err := toApplyObject(desired)
	if err != nil {
		t.Fatal(err)
	}
	live := func(edit func(*corev1.ConfigMap)) *corev1.ConfigMap {
		c := desired.DeepCopy()
		c.UID, c.ResourceVersion = "u", "7"
		c.Annotations = want.GetAnnotations()
		edit(c)
		return c
	}
	for name, tc := range map[string]struct {
		edit func(*corev1.ConfigMap)
		want bool
	}{
		"unchanged":           {func(*corev1.ConfigMap) {}, true},
		"others' label added": {func(c *corev1.ConfigMap) { c.Labels["other"] = "x" }, true},
		"our value changed":   {func(c *corev1.ConfigMap) { c.Data["k"] = "edited" }, false},
		"our key removed":     {func(c *corev1.ConfigMap) { delete(c.Data, "k") }, false},
		"our label removed":   {func(c *corev1.ConfigMap) { delete(c.Labels, "a") }, false},
	} {
		got, err := holds(live(tc.edit), want.Object)
		if err != nil || got != tc.want {
			t.Errorf("%s: holds = %v (%v), want %v", name, got, err, tc.want)
		}
	}
}
