package render

import "github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"

// Names of the objects one RegistryAuth owns (DESIGN §3).
type Names struct {
	ServingCA      string // operator-issued serving CA (only without another TLS source)
	ServingTLS     string // serving certificate and key
	CABundle       string // ConfigMap: ca.crt clients and nodes trust (no keys)
	TokenCA        string // token CA; its bundle is the registry's rootcertbundle
	TokenSigning   string // short-lived signing key and certificate
	AuthConfig     string // rendered auth config and refresh-token key
	RegistryConfig string // rendered registry config.yml
	HTTPSecret     string // REGISTRY_HTTP_SECRET shared by replicas
	Deployment     string
	Service        string
	NetworkPolicy  string // only when spec.expose.networkPolicy is enabled
	Data           string // PersistentVolumeClaim, when storage asks for one
	// Certificate is the cert-manager Certificate for the serving certificate;
	// cert-manager writes CertManagerTLS, which the operator copies to ServingTLS.
	Certificate    string
	CertManagerTLS string
	// AuthServiceAccount runs the pods when a kubernetes identity is
	// configured (the auth container's TokenReviews); AuthDelegator is its
	// ClusterRoleBinding to system:auth-delegator (cluster-scoped, so the
	// name carries the namespace).
	AuthServiceAccount string
	AuthDelegator      string
}

// NamesFor derives the object names from the RegistryAuth's name.
func NamesFor(ra *v1alpha1.RegistryAuth) Names {
	n := ra.Name
	return Names{
		ServingCA:      n + "-ca",
		ServingTLS:     n + "-tls",
		CABundle:       n + "-ca-bundle",
		TokenCA:        n + "-token-ca",
		TokenSigning:   n + "-token",
		AuthConfig:     n + "-auth",
		RegistryConfig: n + "-registry",
		HTTPSecret:     n + "-http",
		Deployment:     n,
		Service:        n,
		NetworkPolicy:  n,
		Data:           n + "-data",
		Certificate:    n + "-serving",
		CertManagerTLS: n + "-serving-issued",
		// "-auth" is also the auth config Secret's name: another kind, no clash.
		AuthServiceAccount: n + "-auth",
		AuthDelegator:      "registry-auth:" + ra.Namespace + ":" + n,
	}
}
