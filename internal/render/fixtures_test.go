package render

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

var testOptions = Options{
	ClusterDomain:   "cluster.local",
	AuthImage:       "ghcr.io/registry-auth-operator/registry-auth-operator:v0.1.0",
	DockerAuthImage: "cesanta/docker_auth:1.14.0",
}

// classic is the classic setup: admin may do everything, others pull.
func classic() *v1alpha1.RegistryAuth {
	return &v1alpha1.RegistryAuth{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "registry", UID: "0b7c3a6e-0000-4000-8000-000000000001"},
		Spec: v1alpha1.RegistryAuthSpec{
			Replicas: ptr.To[int32](1),
			Registry: v1alpha1.RegistrySpec{Image: "registry:3"},
			Auth: v1alpha1.AuthSpec{
				Provider: v1alpha1.ProviderBuiltin,
				TokenTTL: &metav1.Duration{Duration: DefaultTokenTTL},
				Users: []v1alpha1.User{
					{Name: "admin", PasswordSecretRef: v1alpha1.SecretKeyRef{Name: "acme-admin", Key: "password"},
						Labels: map[string]v1alpha1.LabelValues{"group": {"admins"}}},
					{Name: "reader", PasswordSecretRef: v1alpha1.SecretKeyRef{Name: "acme-reader", Key: "password"}},
				},
				ACL: []v1alpha1.ACLRule{
					{Match: v1alpha1.ACLMatch{Account: ptr.To("admin")}, Actions: []string{"*"}, Comment: "admin may do anything"},
					{Match: v1alpha1.ACLMatch{Account: ptr.To("/.+/"), Name: ptr.To("${account}/*")}, Actions: []string{"pull", "push"}},
					{Match: v1alpha1.ACLMatch{Labels: map[string]string{"group": "admins"}}, Actions: []string{"delete"}},
					{Match: v1alpha1.ACLMatch{Account: ptr.To("/.+/")}, Actions: []string{"pull"}},
				},
			},
		},
	}
}

// dockerAuth is the classic split layout with an external host and
// anonymous pulls.
func dockerAuth() *v1alpha1.RegistryAuth {
	ra := classic()
	ra.Spec.Auth.Provider = v1alpha1.ProviderDockerAuth
	ra.Spec.Expose.Host = "registry.example.com"
	ra.Spec.Expose.Service.Type = corev1.ServiceTypeNodePort
	ra.Spec.Auth.ACL = append(ra.Spec.Auth.ACL, v1alpha1.ACLRule{Match: v1alpha1.ACLMatch{Account: ptr.To("")}, Actions: []string{"pull"}})
	return ra
}

// persistent keeps blobs on a ReadWriteOnce claim.
func persistent() *v1alpha1.RegistryAuth {
	ra := classic()
	ra.Spec.Registry.Storage.PersistentVolumeClaim = &v1alpha1.PVCStorage{
		Size: ptr.To(resource.MustParse("20Gi")), StorageClassName: ptr.To(""), VolumeName: "registry-pv",
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
	}
	return ra
}

// liveService is the Service as the API server returns it: with a ClusterIP
// and node ports.
func liveService(ra *v1alpha1.RegistryAuth) *corev1.Service {
	s := DesiredService(ra, "")
	s.Spec.ClusterIP = "198.18.128.17"
	s.Spec.ClusterIPs = []string{"198.18.128.17"}
	for i := range s.Spec.Ports {
		if s.Spec.Type == corev1.ServiceTypeNodePort {
			s.Spec.Ports[i].NodePort = 31000 + s.Spec.Ports[i].Port
		}
	}
	return s
}

// hashes are htpasswd -B of badmin and reader-pw.
var hashes = map[string]string{
	"admin":  "$2y$05$AfmvYu/XizOeho65XhzukeHNTpAE3DKAWQjmE3A4pfid.P6bdxJ8y",
	"reader": "$2y$05$hjo8c4r5wew8ZmFf1j84XuDvEXFH4IrOy0ZskPRShgt9zaMpbHcSG",
}
