package render

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// DesiredNetworkPolicy admits ingress to the registry's pods on the ports
// clients use (the Service's: 5000, and 5001 for docker_auth) and the
// builtin auth container's monitoring port, from anywhere: clients are
// Pods, nodes and whatever routes to the Service. Everything else the pods
// listen on is bound to loopback anyway; the policy keeps it so if a future
// port is added by mistake. Nil when spec.expose.networkPolicy is not
// enabled. Egress is not restricted: the registry's storage may be remote.
func DesiredNetworkPolicy(ra *v1alpha1.RegistryAuth) *networkingv1.NetworkPolicy {
	if !ra.Spec.Expose.NetworkPolicy.Enabled {
		return nil
	}
	tcp := corev1.ProtocolTCP
	port := func(p int32) networkingv1.NetworkPolicyPort {
		return networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: ptr.To(intstr.FromInt32(p))}
	}
	ports := []networkingv1.NetworkPolicyPort{port(PortFrontDoor)}
	if Provider(ra) == v1alpha1.ProviderDockerAuth {
		// docker_auth has no monitoring port of its own.
		ports = append(ports, port(PortAuthSplit))
	} else {
		ports = append(ports, port(PortAuthMonitor))
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta:   typeMeta("networking.k8s.io/v1", "NetworkPolicy"),
		ObjectMeta: objectMeta(ra, NamesFor(ra).NetworkPolicy, "registry"),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: SelectorLabels(ra)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{Ports: ports}},
		},
	}
}
