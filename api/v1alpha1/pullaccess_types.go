package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// PullSecretsSpec gives every namespace its selector matches read access to
// this registry without any manual step: the operator keeps a robot account
// per namespace, its kubernetes.io/dockerconfigjson Secret in that namespace,
// and the named ServiceAccounts' imagePullSecrets entry. It lives on the
// RegistryAuth because only whoever may edit the registry may grant rights on
// it; a namespace can only opt in (labels), never widen what it gets, since
// ${namespace} is always its own name. See docs/pull-access.md.
type PullSecretsSpec struct {
	// NamespaceSelector picks the namespaces that get pull access. It must
	// select something: an empty selector would match every namespace.
	// +required
	// +kubebuilder:validation:XValidation:rule="has(self.matchLabels) && size(self.matchLabels) > 0 || has(self.matchExpressions) && size(self.matchExpressions) > 0",message="namespaceSelector must not be empty: it would match every namespace"
	NamespaceSelector metav1.LabelSelector `json:"namespaceSelector"`

	// ServiceAccounts whose imagePullSecrets get the Secret, in each
	// selected namespace. Entries others put there are never removed.
	// +optional
	// +kubebuilder:default={default}
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	ServiceAccounts []string `json:"serviceAccounts,omitempty"`

	// SecretName of the pull Secret in each namespace.
	// Default "<registry namespace>-<registry name>-pull".
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	SecretName string `json:"secretName,omitempty"`

	// Repositories the robots may use, with their actions. A name may use
	// ${namespace} (the robot's own namespace) and globs ("*" stops at "/").
	// Robots get nothing else: no rule of spec.auth.acl applies to them.
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Repositories []PullRepository `json:"repositories"`

	// RotateEvery is how often robot passwords are replaced (at least 1h).
	// +optional
	// +kubebuilder:default="720h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="rotateEvery must be at least 1h"
	RotateEvery *metav1.Duration `json:"rotateEvery,omitempty"`

	// Overlap is how long a replaced password is still accepted after the
	// Secret holds its successor: longer than any pull that started with it
	// and than anything that copies the Secret takes to re-read it.
	// +optional
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('168h')",message="overlap must be between 1m and 168h"
	Overlap *metav1.Duration `json:"overlap,omitempty"`
}

// PullRepository is one repository pattern and what robots may do with it.
type PullRepository struct {
	// Name of the repository, e.g. "${namespace}/*" or "base/images".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Pattern=`^([a-z0-9._/*-]|\$\{namespace\})+$`
	Name string `json:"name"`

	// Actions granted: pull by default; push and delete only when listed.
	// +optional
	// +kubebuilder:default={pull}
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=3
	// +kubebuilder:validation:items:Enum=pull;push;delete
	Actions []string `json:"actions,omitempty"`
}

// Pull access: annotations, labels and the condition.
const (
	// AnnotationRotatePullSecret on a Namespace: set it to a new value to
	// replace that namespace's robot password now (with the usual overlap).
	AnnotationRotatePullSecret = "registryauth.dev/rotate-pull-secret"
	// ConditionPullSecretsReady is True when every selected namespace has its
	// pull Secret and ServiceAccount entries; False with ReasonNameConflict when a
	// Secret of the pull Secret's name exists and is not the operator's.
	ConditionPullSecretsReady = "PullSecretsReady"
)
