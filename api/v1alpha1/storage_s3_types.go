package v1alpha1

// S3Storage keeps the registry's blobs in a bucket of AWS S3 or of an
// S3-compatible server. Every replica reads and writes the same bucket, so
// it is shared storage: replicas > 1 are allowed on it.
//
// The credentials never appear in the rendered config: the registry
// container reads them from the Secret through environment variables.
// +kubebuilder:validation:XValidation:rule="has(self.endpoint) || (has(self.region) && size(self.region) > 0)",message="s3: region is required unless endpoint is set (AWS needs a region; an S3-compatible server needs its endpoint)"
// +kubebuilder:validation:XValidation:rule="!has(self.caBundleRef) || (has(self.endpoint) && self.endpoint.startsWith('https://'))",message="s3.caBundleRef is the CA of the endpoint: it needs an https:// endpoint"
type S3Storage struct {
	// Bucket that holds the blobs; it must exist.
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`
	Bucket string `json:"bucket"`

	// Region of the bucket (e.g. us-east-1). Optional with an endpoint,
	// where distribution takes any value ("us-east-1" when empty).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[a-z0-9-]*$`
	Region string `json:"region,omitempty"`

	// Endpoint of an S3-compatible server, with its scheme
	// (https://minio.storage.svc:9000). Empty means AWS itself.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.matches('^https?://[^/?#]+/?$')",message="s3.endpoint must be http(s)://host[:port] with no path, query or fragment"
	Endpoint string `json:"endpoint,omitempty"`

	// ForcePathStyle addresses the bucket as <endpoint>/<bucket> instead of
	// <bucket>.<endpoint>: what most S3-compatible servers need.
	// +optional
	ForcePathStyle bool `json:"forcePathStyle,omitempty"`

	// RootDirectory is a key prefix inside the bucket under which the
	// registry keeps everything (so one bucket can serve several registries).
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^(/[A-Za-z0-9._-]+)+$`
	RootDirectory string `json:"rootDirectory,omitempty"`

	// CredentialsSecretRef names a Secret in the RegistryAuth's namespace
	// holding the access key id and the secret access key. Without it the
	// registry uses the AWS SDK's default chain (instance or pod identity).
	// +optional
	CredentialsSecretRef *S3CredentialsRef `json:"credentialsSecretRef,omitempty"`

	// CABundleRef names a ConfigMap key holding the PEM CA certificates the
	// registry trusts for an https endpoint (instead of the system roots).
	// +optional
	CABundleRef *ConfigMapKeyRef `json:"caBundleRef,omitempty"`
}

// S3CredentialsRef is a Secret with an access key pair.
type S3CredentialsRef struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// AccessKeyIDKey is the Secret's key holding the access key id.
	// +optional
	// +kubebuilder:default="accessKeyID"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	AccessKeyIDKey string `json:"accessKeyIDKey,omitempty"`

	// SecretAccessKeyKey is the Secret's key holding the secret access key.
	// +optional
	// +kubebuilder:default="secretAccessKey"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	SecretAccessKeyKey string `json:"secretAccessKeyKey,omitempty"`
}

// ConfigMapKeyRef is one key of a ConfigMap in the RegistryAuth's namespace.
type ConfigMapKeyRef struct {
	// Name of the ConfigMap.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Key of the PEM bundle in the ConfigMap.
	// +optional
	// +kubebuilder:default="ca.crt"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key,omitempty"`
}

// ReasonS3 on StorageEphemeral=False: blobs live in an S3 bucket.
const ReasonS3 = "S3Bucket"
