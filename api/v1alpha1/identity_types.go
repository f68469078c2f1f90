package v1alpha1

// Identity is a trusted issuer of workload tokens: a client presents such a
// token as its password (docs/workload-identity.md). The token server maps
// the token's claims to an account named "<identity name>:<account>" and
// to labels, which spec.auth.acl judges like any user's, e.g.
// match: {account: "/^cluster:/", name: "${labels:namespace}/*"}.
// +kubebuilder:validation:XValidation:rule="has(self.oidc) != has(self.kubernetes)",message="exactly one of oidc and kubernetes must be set"
type Identity struct {
	// Name of the identity, the prefix of the accounts it admits.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// OIDC trusts an OpenID Connect issuer found by discovery: GitHub
	// Actions, GitLab CI, another cluster's ServiceAccount issuer.
	// +optional
	OIDC *OIDCIdentity `json:"oidc,omitempty"`

	// Kubernetes trusts this cluster's ServiceAccount tokens, checked with
	// a TokenReview (works without public discovery). At most one.
	// +optional
	Kubernetes *KubernetesIdentity `json:"kubernetes,omitempty"`

	// Account is a template with ${claim:PATH} placeholders; PATH is a claim
	// name, "/" between nested keys. Default for oidc: ${claim:sub}; for
	// kubernetes: ${claim:namespace}/${claim:serviceaccount}.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.replace('${claim:', '').indexOf('${') < 0",message="account may use only ${claim:PATH} placeholders"
	Account string `json:"account,omitempty"`

	// Labels maps a label key to the claim PATH its value comes from, e.g.
	// {repository: repository, ref: ref} for GitHub Actions. Default for
	// kubernetes: namespace, serviceaccount, pod. The label "identity" is
	// always set to this identity's name.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	Labels map[string]string `json:"labels,omitempty"`
}

// OIDCIdentity is an OpenID Connect issuer.
type OIDCIdentity struct {
	// Issuer URL; the token's "iss" must equal it exactly, and so must the
	// discovery document's.
	// +required
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != '' && url(self).getQuery().size() == 0 && !self.contains('#')",message="issuer must be an https URL without query or fragment"
	Issuer string `json:"issuer"`

	// Audiences: the token's "aud" must contain one of them, so a token
	// minted for another service is refused.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	Audiences []string `json:"audiences"`

	// CABundle (PEM) is the only trust for discovery and key fetches when
	// set; the system roots otherwise.
	// +optional
	// +kubebuilder:validation:MaxLength=65536
	CABundle string `json:"caBundle,omitempty"`

	// Algorithms the issuer may sign with. Default RS256 and ES256.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=10
	Algorithms []TokenAlgorithm `json:"algorithms,omitempty"`
}

// TokenAlgorithm is an asymmetric JWS algorithm ("none" and HMAC are not).
// +kubebuilder:validation:Enum=RS256;RS384;RS512;PS256;PS384;PS512;ES256;ES384;ES512;EdDSA
type TokenAlgorithm string

// KubernetesIdentity is the cluster the registry runs in.
type KubernetesIdentity struct {
	// Audiences the ServiceAccount token must be bound to (the audience of
	// a projected token, or the kubelet credential provider's
	// serviceAccountTokenAudience). Default: the registry's service
	// (spec.auth.service, default "<name>.<namespace>"). Never the API
	// server's own audience.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="!self.exists(a, a in ['https://kubernetes.default.svc', 'https://kubernetes.default.svc.cluster.local', 'kubernetes', 'api'])",message="the API server's audience would accept any ServiceAccount token of the cluster"
	Audiences []string `json:"audiences,omitempty"`
}
