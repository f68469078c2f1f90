package render

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// TestMaintenanceSwitchWiring: the file the builtin front door checks is
// the optional ConfigMap key mounted in its container (so an absent
// ConfigMap means writes pass, never a pod stuck in ContainerCreating); the
// docker_auth layout gets nothing. Replicas > 1 are spread over nodes and
// zones, softly; one replica is not.
func TestMaintenanceSwitchWiring(t *testing.T) {
	d := DesiredDeployment(classic(), testOptions, nil)
	pod := d.Spec.Template.Spec
	var file string
	var auth corev1.Container
	for _, c := range pod.Containers {
		if c.Name == ContainerAuth {
			auth = c
		}
	}
	for _, a := range auth.Args {
		if v, ok := strings.CutPrefix(a, "--maintenance-file="); ok {
			file = v
		}
	}
	var mounted bool
	for _, m := range auth.VolumeMounts {
		if m.Name == volMaintenance && m.MountPath+"/"+MaintenanceKey == file && m.ReadOnly {
			mounted = true
		}
	}
	var vol *corev1.ConfigMapVolumeSource
	for _, v := range pod.Volumes {
		if v.Name == volMaintenance {
			vol = v.ConfigMap
		}
	}
	if file == "" || !mounted || vol == nil || vol.Name != "acme-maintenance" || !ptr.Deref(vol.Optional, false) ||
		len(vol.Items) != 1 || vol.Items[0].Key != MaintenanceKey || vol.Items[0].Path != MaintenanceKey {
		t.Errorf("maintenance switch not wired: file %q, mounted %v, volume %+v", file, mounted, vol)
	}
	if len(pod.TopologySpreadConstraints) != 0 {
		t.Errorf("one replica needs no spread: %+v", pod.TopologySpreadConstraints)
	}

	for _, v := range DesiredDeployment(dockerAuth(), testOptions, nil).Spec.Template.Spec.Volumes {
		if v.Name == volMaintenance {
			t.Error("docker_auth layout has no front door of ours to switch")
		}
	}
	spread := DesiredDeployment(s3Storage(), testOptions, nil).Spec.Template.Spec.TopologySpreadConstraints
	if len(spread) != 2 || spread[0].TopologyKey != corev1.LabelHostname || spread[0].WhenUnsatisfiable != corev1.ScheduleAnyway ||
		spread[0].LabelSelector.MatchLabels["app.kubernetes.io/instance"] != "acme" {
		t.Errorf("3 replicas not spread softly over nodes and zones: %+v", spread)
	}
}
