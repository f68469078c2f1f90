package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

var testPodAnnotations = map[string]string{AnnotationRestartHash: "0123456789abcdef"}

func TestAuthDelegatorGolden(t *testing.T) {
	ra := withIdentities()
	if !NeedsTokenReviews(ra) {
		t.Fatal("a kubernetes identity needs TokenReviews")
	}
	golden(t, "identities-deployment", DesiredDeployment(ra, testOptions, testPodAnnotations))
	golden(t, "identities-serviceaccount", DesiredAuthServiceAccount(ra))
	golden(t, "identities-clusterrolebinding", DesiredAuthDelegatorBinding(ra))
}

// TestAPIAccessOnlyInAuthContainer: the ServiceAccount token reaches the
// auth container and nothing else; the kubelet's automatic mount stays off.
func TestAPIAccessOnlyInAuthContainer(t *testing.T) {
	pod := DesiredDeployment(withIdentities(), testOptions, testPodAnnotations).Spec.Template.Spec
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken must stay false")
	}
	if pod.ServiceAccountName != "acme-auth" {
		t.Errorf("serviceAccountName = %q, want acme-auth", pod.ServiceAccountName)
	}
	for _, c := range pod.Containers {
		mounted := false
		for _, m := range c.VolumeMounts {
			if m.MountPath == ServiceAccountDir {
				mounted = true
			}
		}
		if mounted != (c.Name == ContainerAuth) {
			t.Errorf("container %s: token mounted = %v", c.Name, mounted)
		}
	}
}

// TestNoKubernetesIdentityChangesNothing: without a kubernetes identity
// (none at all, or OIDC only) the pods are exactly those of before.
func TestNoKubernetesIdentityChangesNothing(t *testing.T) {
	oidcOnly := withIdentities()
	var ids []v1alpha1.Identity
	for _, id := range oidcOnly.Spec.Auth.Identities {
		if id.Kubernetes == nil {
			ids = append(ids, id)
		}
	}
	oidcOnly.Spec.Auth.Identities = ids
	for name, ra := range map[string]*v1alpha1.RegistryAuth{"none": classic(), "oidc only": oidcOnly} {
		if NeedsTokenReviews(ra) {
			t.Errorf("%s: needs TokenReviews", name)
		}
		got := DesiredDeployment(ra, testOptions, testPodAnnotations).Spec.Template.Spec
		want := DesiredDeployment(classic(), testOptions, testPodAnnotations).Spec.Template.Spec
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: pod differs from the classic one:\n%s", name, d)
		}
		if got.ServiceAccountName != "" || hasVolume(got, volAPIAccess) {
			t.Errorf("%s: runs as %q with API access", name, got.ServiceAccountName)
		}
	}
}

func TestAuthDelegatorOwner(t *testing.T) {
	crb := DesiredAuthDelegatorBinding(withIdentities())
	if ns, name, ok := AuthDelegatorOwner(crb); !ok || ns != "registry" || name != "acme" {
		t.Errorf("owner = %s/%s %v, want registry/acme", ns, name, ok)
	}
	crb.Labels[LabelManagedBy] = "someone-else"
	if _, _, ok := AuthDelegatorOwner(crb); ok {
		t.Error("a binding managed by someone else is taken as ours")
	}
}

func hasVolume(pod corev1.PodSpec, name string) bool {
	for _, v := range pod.Volumes {
		if v.Name == name {
			return true
		}
	}
	return false
}
