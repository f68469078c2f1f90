package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
)

// PodSettings place the registry's pods and let the kubelet pull their
// images. Each field is copied onto the pod template as written; changing
// one rolls the pods (the template changes), nothing else does.
type PodSettings struct {
	// NodeSelector: the pods run only on nodes with all these labels.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Tolerations let the pods run on nodes with matching taints.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// Affinity of the pods (node affinity, pod affinity and anti-affinity).
	// It applies beside the operator's own topology spread constraints,
	// which are soft (ScheduleAnyway): required terms here filter the
	// nodes, the spread then prefers different nodes and zones among
	// those (docs/storage.md).
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// PriorityClassName of the pods; the PriorityClass must exist, or the
	// API server refuses the pods (the Available condition says so).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// ImagePullSecrets name Secrets (kubernetes.io/dockerconfigjson) in the
	// RegistryAuth's namespace that the kubelet uses to pull the registry's
	// and the auth container's images, e.g. from a private mirror in an
	// air-gapped cluster. Names only: the operator never reads them.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=8
	ImagePullSecrets []LocalSecretRef `json:"imagePullSecrets,omitempty"`
}

// LocalSecretRef names a Secret in the RegistryAuth's namespace.
type LocalSecretRef struct {
	// Name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Name string `json:"name"`
}
