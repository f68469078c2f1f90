package render

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// DesiredService is the Service in front of the pods. Port 5000 ("https") is
// the only way in for builtin; the docker_auth layout adds its token port 5001.
// clusterIP, when not empty, is the address to request (pinned or
// remembered, see RequestedClusterIP); empty lets the API server pick one
// (or keeps the one a live Service already has: it cannot change in place).
func DesiredService(ra *v1alpha1.RegistryAuth, clusterIP string) *corev1.Service {
	typ := ra.Spec.Expose.Service.Type
	if typ == "" {
		typ = corev1.ServiceTypeClusterIP
	}
	https := corev1.ServicePort{
		Name:       "https",
		Port:       PortFrontDoor,
		TargetPort: intstr.FromString("https"),
		Protocol:   corev1.ProtocolTCP,
	}
	if typ != corev1.ServiceTypeClusterIP && ra.Spec.Expose.Service.NodePort != nil {
		https.NodePort = *ra.Spec.Expose.Service.NodePort
	}
	ports := []corev1.ServicePort{https}
	if Provider(ra) == v1alpha1.ProviderDockerAuth {
		ports = append(ports, corev1.ServicePort{
			Name:       "auth",
			Port:       PortAuthSplit,
			TargetPort: intstr.FromString("auth"),
			Protocol:   corev1.ProtocolTCP,
		})
	}
	meta := objectMeta(ra, NamesFor(ra).Service, "registry")
	if len(ra.Spec.Expose.Service.Annotations) > 0 {
		meta.Annotations = ra.Spec.Expose.Service.Annotations
	}
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: meta,
		Spec: corev1.ServiceSpec{
			Type:      typ,
			ClusterIP: clusterIP,
			Selector:  SelectorLabels(ra),
			Ports:     ports,
		},
	}
}

// RequestedClusterIP is the address the Service should have: the one the
// admin pinned, else the one it had before (status.clusterIP), so a deleted
// Service comes back where image references and nodes expect it.
func RequestedClusterIP(ra *v1alpha1.RegistryAuth) string {
	if ip := ra.Spec.Expose.Service.ClusterIP; ip != "" {
		return ip
	}
	return ra.Status.ClusterIP
}
