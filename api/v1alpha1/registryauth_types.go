package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RegistryAuthSpec is what the cluster admin asks for: a registry, who may use
// it, and how clients reach it. The operator derives everything else (certificates,
// rendered configs, the realm/service/issuer wiring).
// +kubebuilder:validation:XValidation:rule="!has(self.replicas) || self.replicas <= 1 || has(self.registry.storage.s3) || (has(self.registry.storage.persistentVolumeClaim) && (has(self.registry.storage.persistentVolumeClaim.claimName) || (has(self.registry.storage.persistentVolumeClaim.accessModes) && self.registry.storage.persistentVolumeClaim.accessModes.exists(m, m == 'ReadWriteMany'))))",message="replicas > 1 needs shared storage: s3, or a persistentVolumeClaim with accessModes [ReadWriteMany], or claimName of a ReadWriteMany claim (emptyDir and ReadWriteOnce volumes are per pod)"
type RegistryAuthSpec struct {
	// Replicas of the registry pod. More than one needs ReadWriteMany storage.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	Replicas *int32 `json:"replicas,omitempty"`

	// Registry configures the distribution registry container.
	// +optional
	// +kubebuilder:default={}
	Registry RegistrySpec `json:"registry"`

	// Auth configures the token server, its users and its access rules.
	// +optional
	// +kubebuilder:default={}
	Auth AuthSpec `json:"auth"`

	// TLS selects where the serving certificate comes from. Empty: the operator
	// runs its own CA.
	// +optional
	// +kubebuilder:default={}
	TLS TLSSpec `json:"tls"`

	// Expose says how clients outside the cluster reach the registry.
	// +optional
	// +kubebuilder:default={}
	Expose ExposeSpec `json:"expose"`

	// PullSecrets gives selected namespaces pull access (see pullaccess_types.go).
	// +optional
	PullSecrets *PullSecretsSpec `json:"pullSecrets,omitempty"`

	// Pod places the registry's pods and names their image pull Secrets
	// (scheduling_types.go).
	// +optional
	Pod *PodSettings `json:"pod,omitempty"`
}

// RegistrySpec configures the registry container.
type RegistrySpec struct {
	// Image of the distribution v3 registry. Empty: the operator's default
	// (--registry-image, the chart's registryImage; registry:3 unless set).
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`

	// Storage for the registry's blobs: at most one kind. Default emptyDir,
	// whose data dies with the pod (the StorageEphemeral condition says so).
	// +optional
	// +kubebuilder:default={emptyDir:{}}
	Storage StorageSpec `json:"storage"`

	// Resources of the registry container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
}

// StorageSpec holds at most one storage kind; none means emptyDir.
// +kubebuilder:validation:XValidation:rule="(has(self.emptyDir) ? 1 : 0) + (has(self.persistentVolumeClaim) ? 1 : 0) + (has(self.s3) ? 1 : 0) <= 1",message="storage: set only one of emptyDir, persistentVolumeClaim and s3"
type StorageSpec struct {
	// EmptyDir keeps blobs in a pod-local volume: for trying things out.
	// +optional
	EmptyDir *EmptyDirStorage `json:"emptyDir,omitempty"`

	// PersistentVolumeClaim keeps blobs in a claim: one the operator creates
	// (size; retained when the RegistryAuth is deleted unless deletionPolicy
	// is Delete) or an existing one (claimName). The registry runs as uid
	// 65532 with fsGroup 65532: the volume must be writable for it.
	// +optional
	PersistentVolumeClaim *PVCStorage `json:"persistentVolumeClaim,omitempty"`

	// S3 keeps blobs in a bucket (AWS or S3-compatible): shared by every
	// replica. See storage_s3_types.go.
	// +optional
	S3 *S3Storage `json:"s3,omitempty"`
}

// EmptyDirStorage is a pod-local volume.
type EmptyDirStorage struct {
	// SizeLimit of the volume.
	// +optional
	SizeLimit *resource.Quantity `json:"sizeLimit,omitempty"`
}

// PVCStorage is either a claim the operator creates (`<name>-data`, from
// size and the fields beside it) or, with claimName, an existing claim the
// operator only mounts. The transition rules refuse at admission the edits
// the API server would refuse on the claim itself, so a bad edit never leaves
// the operator retrying a change that cannot happen.
// +kubebuilder:validation:XValidation:rule="has(self.size) != has(self.claimName)",message="persistentVolumeClaim: set size (the operator creates the claim <name>-data) or claimName (an existing claim), not both"
// +kubebuilder:validation:XValidation:rule="!has(self.claimName) || (!has(self.storageClassName) && !has(self.accessModes) && !has(self.volumeName))",message="persistentVolumeClaim.claimName names an existing claim: storageClassName, accessModes and volumeName belong to that claim and cannot be set here"
// +kubebuilder:validation:XValidation:rule="!has(self.claimName) || self.deletionPolicy != 'Delete'",message="persistentVolumeClaim.claimName names a claim the operator did not create and never deletes: deletionPolicy Delete applies only to the claim the operator creates from size"
// +kubebuilder:validation:XValidation:rule="!has(self.size) || quantity(self.size).isGreaterThan(quantity('0'))",message="persistentVolumeClaim.size must be greater than zero"
// +kubebuilder:validation:XValidation:rule="!has(self.size) || !has(oldSelf.size) || quantity(self.size).compareTo(quantity(oldSelf.size)) >= 0",message="persistentVolumeClaim.size cannot shrink: a PersistentVolumeClaim can only grow (and only if its storage class allows volume expansion)"
// +kubebuilder:validation:XValidation:rule="has(self.claimName) || has(oldSelf.claimName) || (has(self.storageClassName) ? self.storageClassName : '<none>') == (has(oldSelf.storageClassName) ? oldSelf.storageClassName : '<none>')",message="persistentVolumeClaim.storageClassName cannot change: a claim's storage class is immutable; to move the data, create a claim of the new class, copy the blobs, and set claimName to it"
// +kubebuilder:validation:XValidation:rule="has(self.claimName) || has(oldSelf.claimName) || (has(self.accessModes) ? self.accessModes : ['ReadWriteOnce']) == (has(oldSelf.accessModes) ? oldSelf.accessModes : ['ReadWriteOnce'])",message="persistentVolumeClaim.accessModes cannot change: a claim's access modes are immutable; to move the data, create a claim with the new modes, copy the blobs, and set claimName to it"
// +kubebuilder:validation:XValidation:rule="has(self.claimName) || has(oldSelf.claimName) || (has(self.volumeName) ? self.volumeName : '<none>') == (has(oldSelf.volumeName) ? oldSelf.volumeName : '<none>')",message="persistentVolumeClaim.volumeName cannot change: a claim stays bound to its volume; to move the data, create a claim on the new volume, copy the blobs, and set claimName to it"
type PVCStorage struct {
	// Size requested for the claim the operator creates, e.g. 20Gi. It may
	// grow (if the storage class allows expansion), never shrink.
	// +optional
	Size *resource.Quantity `json:"size,omitempty"`

	// ClaimName of an existing PersistentVolumeClaim in the RegistryAuth's
	// namespace to keep the blobs in. The operator mounts it and never
	// changes or deletes it. Exclusive with size and the fields that shape a
	// new claim.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	ClaimName string `json:"claimName,omitempty"`

	// DeletionPolicy says what happens to the claim the operator created when
	// the RegistryAuth is deleted. Retain (default): the claim and its data
	// stay, and a RegistryAuth of the same name in the same namespace adopts
	// the claim again. Delete: the claim is garbage-collected with the
	// RegistryAuth, and with it the data (unless its volume's reclaim policy
	// keeps it).
	// +optional
	// +kubebuilder:default=Retain
	DeletionPolicy PVCDeletionPolicy `json:"deletionPolicy,omitempty"`

	// StorageClassName of the claim; "" asks for a statically provisioned
	// volume. Immutable.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	StorageClassName *string `json:"storageClassName,omitempty"`

	// AccessModes of the claim; default [ReadWriteOnce]. ReadWriteMany is
	// required for replicas > 1. Immutable.
	// +optional
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=3
	// +kubebuilder:validation:items:Enum=ReadWriteOnce;ReadWriteMany;ReadWriteOncePod
	// +listType=set
	AccessModes []corev1.PersistentVolumeAccessMode `json:"accessModes,omitempty"`

	// VolumeName binds the claim to one existing PersistentVolume. Immutable.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	VolumeName string `json:"volumeName,omitempty"`
}

// PVCDeletionPolicy says whether a created claim outlives its RegistryAuth.
// +kubebuilder:validation:Enum=Retain;Delete
type PVCDeletionPolicy string

const (
	// PVCRetain keeps the claim (and the data) when the RegistryAuth goes.
	PVCRetain PVCDeletionPolicy = "Retain"
	// PVCDelete garbage-collects the claim with the RegistryAuth.
	PVCDelete PVCDeletionPolicy = "Delete"
)

// AuthProvider selects the token server.
// +kubebuilder:validation:Enum=builtin;docker_auth
type AuthProvider string

const (
	// ProviderBuiltin is the operator's own token server, also the pod's TLS front door.
	ProviderBuiltin AuthProvider = "builtin"
	// ProviderDockerAuth is cesanta/docker_auth in the classic split-port layout.
	ProviderDockerAuth AuthProvider = "docker_auth"
)

// AuthSpec configures the token server.
// +kubebuilder:validation:XValidation:rule="!has(self.identities) || size(self.identities) == 0 || !has(self.provider) || self.provider == 'builtin'",message="identities need the builtin provider (docker_auth cannot validate workload tokens)"
type AuthSpec struct {
	// Provider of the token server.
	// +optional
	// +kubebuilder:default=builtin
	Provider AuthProvider `json:"provider,omitempty"`

	// Image of the token server. Default per provider: builtin runs the
	// operator's own image; docker_auth runs cesanta/docker_auth:1.14.0.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`

	// Issuer of the tokens (the JWT "iss"). Default "<name>.<namespace>.registryauth.dev".
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9._:/-]*$`
	Issuer string `json:"issuer,omitempty"`

	// Service is the token audience (the JWT "aud"). Default "<name>.<namespace>".
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9._:/-]*$`
	Service string `json:"service,omitempty"`

	// TokenTTL is how long an issued token is valid: 1m to 24h.
	// +optional
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('24h')",message="tokenTTL must be between 1m and 24h"
	TokenTTL *metav1.Duration `json:"tokenTTL,omitempty"`

	// Users who may log in. Passwords come only from Secrets.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Users []User `json:"users,omitempty"`

	// ACL rules, docker_auth semantics: the first rule whose match fits decides.
	// No rule matching denies.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	ACL []ACLRule `json:"acl,omitempty"`

	// Identities are trusted issuers of workload tokens (identity_types.go).
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:XValidation:rule="self.filter(i, has(i.kubernetes)).size() <= 1",message="at most one kubernetes identity (the cluster the registry runs in)"
	Identities []Identity `json:"identities,omitempty"`

	// Resources of the auth container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
}

// User is one account of the token server.
type User struct {
	// Name the user logs in with.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9._@-]*$`
	Name string `json:"name"`

	// PasswordSecretRef names the Secret (and its key, default "password")
	// holding the password, in plaintext or as a bcrypt hash ($2a$, $2b$,
	// $2y$). The Secret must be in the same namespace.
	// +required
	PasswordSecretRef SecretKeyRef `json:"passwordSecretRef"`

	// Labels of the user, usable in ACL matches and as ${labels:KEY}.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	Labels map[string]LabelValues `json:"labels,omitempty"`
}

// LabelValues are the values of one user label.
// +kubebuilder:validation:MaxItems=16
// +kubebuilder:validation:items:MaxLength=128
type LabelValues []string

// SecretKeyRef points at one key of a Secret in the RegistryAuth's namespace.
type SecretKeyRef struct {
	// Name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Name string `json:"name"`

	// Key within the Secret; default "password".
	// +optional
	// +kubebuilder:default=password
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key,omitempty"`
}

// ACLRule grants actions when its match fits a request.
type ACLRule struct {
	// Match selects the requests this rule decides. Every field is a glob
	// ("team/*", "?"), or a regular expression when written as /re/
	// ("/^ci-.+$/"); fields may use ${account}, ${name}, ${service} and
	// ${labels:KEY}. An unset field matches anything; account "" matches
	// anonymous requests.
	// +required
	Match ACLMatch `json:"match"`

	// Actions granted: pull, push, delete, or "*" for whatever was asked.
	// An empty list denies.
	// +required
	// +listType=set
	// +kubebuilder:validation:MaxItems=4
	// +kubebuilder:validation:items:Enum=pull;push;delete;*
	// +kubebuilder:validation:XValidation:rule="!self.exists(a, a == '*') || size(self) == 1",message="\"*\" already grants every action: list it alone"
	Actions []string `json:"actions"`

	// Comment describes the rule.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Comment string `json:"comment,omitempty"`
}

// ACLMatch fields are globs by default, or regular expressions written as
// /re/. They may use ${account}, ${name}, ${service} and ${labels:KEY}.
// An unset field matches anything; account "" matches anonymous requests.
type ACLMatch struct {
	// Account is the user name ("" for anonymous): a glob or /regex/.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Account *string `json:"account,omitempty"`

	// Type of the resource (repository, registry, ...): a glob or /regex/.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Type *string `json:"type,omitempty"`

	// Name of the resource, e.g. a repository "team/app": a glob ("team/*")
	// or /regex/, may use ${account} and ${labels:KEY}.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Name *string `json:"name,omitempty"`

	// Service the token is requested for: a glob or /regex/.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Service *string `json:"service,omitempty"`

	// IP is the client's address or a CIDR range.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="isIP(self) || isCIDR(self)",message="ip must be an IP address or a CIDR range"
	IP *string `json:"ip,omitempty"`

	// Labels the user must carry: each key's pattern (a glob or /regex/)
	// must match one of its values.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	Labels map[string]string `json:"labels,omitempty"`
}

// TLSSpec selects the source of the serving certificate; at most one of
// issuerRef and secretName. The token CA is always separate from it.
// +kubebuilder:validation:XValidation:rule="!(has(self.issuerRef) && has(self.secretName))",message="tls: issuerRef and secretName are exclusive: choose cert-manager or your own Secret"
type TLSSpec struct {
	// IssuerRef names a cert-manager Issuer or ClusterIssuer that issues the
	// serving certificate.
	// +optional
	IssuerRef *IssuerRef `json:"issuerRef,omitempty"`

	// SecretName of your own kubernetes.io/tls Secret (tls.crt, tls.key, and
	// ca.crt for clients to trust) in the RegistryAuth's namespace.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	SecretName string `json:"secretName,omitempty"`

	// ExtraSANs added to the serving certificate: DNS names or IP addresses
	// clients use (a node address for a NodePort, an external name).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^(\*\.)?[A-Za-z0-9]([-A-Za-z0-9.:]*[A-Za-z0-9])?$`
	ExtraSANs []string `json:"extraSANs,omitempty"`
}

// IssuerRef names a cert-manager issuer.
type IssuerRef struct {
	// Name of the issuer.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Kind of the issuer.
	// +optional
	// +kubebuilder:default=Issuer
	// +kubebuilder:validation:Enum=Issuer;ClusterIssuer
	Kind string `json:"kind,omitempty"`

	// Group of the issuer.
	// +optional
	// +kubebuilder:default=cert-manager.io
	// +kubebuilder:validation:MaxLength=253
	Group string `json:"group,omitempty"`
}

// ExposeSpec says how clients reach the registry.
// +kubebuilder:validation:XValidation:rule="!has(self.port) || has(self.host)",message="expose.port needs expose.host"
type ExposeSpec struct {
	// Host is the public name clients use (DNS name of an Ingress, load
	// balancer or node). Added to the serving certificate; the docker_auth
	// layout puts it in the realm, so every client, nodes included, must resolve it.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$`
	Host string `json:"host,omitempty"`

	// Port clients use at host. Default: the Service's port (or its node port).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port *int32 `json:"port,omitempty"`

	// Service shapes the Service in front of the pods.
	// +optional
	// +kubebuilder:default={}
	Service ServiceSpec `json:"service"`

	// TrustedProxies are the addresses or CIDRs of proxies in front of the
	// registry that add X-Forwarded-For (an ingress controller's pods, a
	// load balancer). The front door then takes the client's address from
	// that header, for its failed-login limits, the ACL's ip match and the
	// audit log; from any other peer the header is ignored. Without it,
	// every client behind such a proxy shares the proxy's limits.
	// builtin provider only.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	TrustedProxies []ProxyAddress `json:"trustedProxies,omitempty"`

	// NetworkPolicy, when enabled, makes the operator own a NetworkPolicy
	// that admits traffic to the registry's pods only on the Service's
	// ports and the auth container's monitoring port. It takes effect only
	// where the cluster's network plugin enforces NetworkPolicies.
	// +optional
	NetworkPolicy NetworkPolicySpec `json:"networkPolicy,omitempty"`
}

// NetworkPolicySpec switches the registry's NetworkPolicy on.
type NetworkPolicySpec struct {
	// Enabled renders the NetworkPolicy; false (the default) removes it.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
}

// ProxyAddress is an IP address or a CIDR.
// +kubebuilder:validation:MaxLength=49
// +kubebuilder:validation:XValidation:rule="isIP(self) || isCIDR(self)",message="must be an IP address or a CIDR, e.g. 10.244.0.0/16"
type ProxyAddress string

// ServiceSpec shapes the registry's Service.
// +kubebuilder:validation:XValidation:rule="!has(self.nodePort) || self.type != 'ClusterIP'",message="service.nodePort needs type NodePort or LoadBalancer"
type ServiceSpec struct {
	// Type of the Service.
	// +optional
	// +kubebuilder:default=ClusterIP
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	Type corev1.ServiceType `json:"type,omitempty"`

	// ClusterIP pins the Service's address, e.g. one that image references,
	// pull Secrets and nodes' certs.d entries already name. It must lie in
	// the cluster's Service range and be free. Unset, the API server picks
	// one, and the operator requests that same address again whenever it has
	// to recreate the Service (status.clusterIP). A Service's address cannot
	// change in place: after changing this field, delete the Service and the
	// operator recreates it at the new address.
	// +optional
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="expose.service.clusterIP must be an IP address (None, for a headless Service, has no address clients could use)"
	ClusterIP string `json:"clusterIP,omitempty"`

	// NodePort for the front door, when the type allocates one.
	// +optional
	// +kubebuilder:validation:Minimum=30000
	// +kubebuilder:validation:Maximum=32767
	NodePort *int32 `json:"nodePort,omitempty"`

	// Annotations of the Service (e.g. for a load balancer controller).
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Annotations map[string]string `json:"annotations,omitempty"`
}

// RegistryAuthStatus is what the operator observed and what users need to connect.
type RegistryAuthStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled and specific ones (see condition_types.go).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URLs of every way in; each names the host its realm uses.
	// +optional
	URLs RegistryURLs `json:"urls,omitempty"`

	// Service is the token audience the registry expects.
	// +optional
	Service string `json:"service,omitempty"`

	// Issuer is the token issuer the registry expects.
	// +optional
	Issuer string `json:"issuer,omitempty"`

	// Realm the registry sends clients to (builtin: relative to the host used).
	// +optional
	Realm string `json:"realm,omitempty"`

	// CAConfigMapName is the ConfigMap, in the RegistryAuth's namespace,
	// whose ca.crt clients and nodes must trust: certificates only, never a
	// key (reading it needs get on that one ConfigMap). Empty when the
	// serving certificate's source provides no CA (clients then rely on their
	// system roots).
	// +optional
	CAConfigMapName string `json:"caConfigMapName,omitempty"`

	// ClusterIP is the Service's address as last seen; the operator asks for
	// it again when it recreates the Service, so status.urls.node, image
	// references and nodes' certs.d entries stay valid.
	// +optional
	ClusterIP string `json:"clusterIP,omitempty"`

	// ServingCertificateNotAfter is the expiry of the serving certificate in use.
	// +optional
	ServingCertificateNotAfter *metav1.Time `json:"servingCertificateNotAfter,omitempty"`

	// SigningCertificateNotAfter is the expiry of the token-signing certificate in use.
	// +optional
	SigningCertificateNotAfter *metav1.Time `json:"signingCertificateNotAfter,omitempty"`
}

// RegistryURLs are the addresses of the registry, one per kind of client.
type RegistryURLs struct {
	// InCluster is for Pods: the Service's DNS name.
	// +optional
	InCluster string `json:"inCluster,omitempty"`
	// Node is for kubelets (nodes do not resolve cluster DNS): the ClusterIP.
	// +optional
	Node string `json:"node,omitempty"`
	// External is for clients outside the cluster, when expose.host is set.
	// +optional
	External string `json:"external,omitempty"`
}

// RegistryAuth is a private container registry with token authentication.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ra,categories=registry
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.urls.inCluster`
// +kubebuilder:printcolumn:name="Node URL",type=string,JSONPath=`.status.urls.node`,priority=1
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.auth.provider`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="!self.metadata.name.endsWith('-token')",message="metadata.name must not end with -token: <name>-token-ca is the token CA Secret of the RegistryAuth <name>, and would also be this one's serving CA Secret"
type RegistryAuth struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec RegistryAuthSpec `json:"spec"`
	// +optional
	Status RegistryAuthStatus `json:"status,omitempty"`
}

// RegistryAuthList is a list of RegistryAuth.
// +kubebuilder:object:root=true
type RegistryAuthList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RegistryAuth `json:"items"`
}

func init() {
	SchemeBuilder.Register(&RegistryAuth{}, &RegistryAuthList{})
}
