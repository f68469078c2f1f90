package authconfig

// Identity is a trusted issuer of workload tokens (builtin token server
// only; docker_auth does not read it). A client presents such a token as
// its password; the token server validates it and maps its claims to an
// account and labels, which the ACL then judges like any password user's.
type Identity struct {
	// Name is unique among identities. The account of every caller it admits
	// is "<name>:<mapped account>", so an identity can never pose as a
	// password user (a Basic user name cannot contain ':').
	Name string `json:"name"`
	// Exactly one of OIDC and Kubernetes.
	OIDC       *OIDCIssuer       `json:"oidc,omitempty"`
	Kubernetes *KubernetesIssuer `json:"kubernetes,omitempty"`
	// Account is a template with ${claim:PATH} placeholders (PATH: a claim
	// name, "/" between nested keys, e.g. ${claim:kubernetes.io/namespace}).
	// Default: ${claim:sub}.
	Account string `json:"account,omitempty"`
	// Labels maps a label key to the claim PATH it takes its value(s) from.
	// A missing claim leaves the label unset (a rule using it never matches).
	Labels map[string]string `json:"labels,omitempty"`
}

// OIDCIssuer is an OpenID Connect issuer found by discovery.
type OIDCIssuer struct {
	// Issuer URL (https); the token's "iss" must equal it exactly.
	Issuer string `json:"issuer"`
	// Audiences: the token's "aud" must contain one of them. Required, so a
	// token minted for another service cannot be replayed here.
	Audiences []string `json:"audiences"`
	// CAPEM, if set, is the only trust for discovery and JWKS fetches.
	CAPEM string `json:"ca_pem,omitempty"`
	// Algorithms allowed in the token header. Default RS256 and ES256.
	Algorithms []string `json:"algorithms,omitempty"`
}

// KubernetesIssuer is the cluster the token server runs in: tokens are
// checked with a TokenReview, so it works without public discovery.
type KubernetesIssuer struct {
	// Audiences the token must be bound to (TokenReview spec.audiences).
	Audiences []string `json:"audiences"`
}
