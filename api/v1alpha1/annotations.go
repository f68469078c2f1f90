package v1alpha1

// On-demand rotations: set one of these annotations on a RegistryAuth to a
// value it has not had before (a timestamp, a ticket number). The operator
// records the last value it acted upon, so each new value starts one rotation
// and re-applying the same value does nothing. See docs/tls-and-rotation.md.
const (
	// AnnotationRotateTokenCA replaces the token CA in three steps (add to the
	// registry's bundle, switch the signer, drop the old CA after the longest
	// token lifetime). With docker_auth it rotates the pinned signing certificate.
	AnnotationRotateTokenCA = "registryauth.dev/rotate-token-ca"
	// AnnotationRotateSigningKey issues a new token-signing key and certificate.
	AnnotationRotateSigningKey = "registryauth.dev/rotate-signing-key"
	// AnnotationRotateServingCA replaces the operator's serving CA: the new CA
	// is published beside the old for --serving-ca-overlap, then the serving
	// certificate moves to it.
	AnnotationRotateServingCA = "registryauth.dev/rotate-serving-ca"
	// AnnotationRenewServingCertificate re-issues the serving certificate
	// (operator-issued) or asks cert-manager to re-issue it.
	AnnotationRenewServingCertificate = "registryauth.dev/renew-serving-certificate"
)
