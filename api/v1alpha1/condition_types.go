package v1alpha1

// Condition types. Ready, Reconciling and Stalled follow kstatus
// (sigs.k8s.io/cli-utils/pkg/kstatus): Reconciling is True while the operator
// still works towards the spec, Stalled is True when it cannot progress without
// a change from the user. The others say which part is (not) in place.
const (
	// ConditionReady is True when the registry answers with the current spec.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the observed state catches up with the spec.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when progress needs a user's change (bad input).
	ConditionStalled = "Stalled"
	// ConditionCertificatesReady is True when serving and token certificates are valid and in place.
	ConditionCertificatesReady = "CertificatesReady"
	// ConditionConfigRendered is True when the auth and registry configs are rendered from valid input.
	ConditionConfigRendered = "ConfigRendered"
	// ConditionAvailable is True when the Deployment has its desired pods available and updated.
	ConditionAvailable = "Available"
	// ConditionStorageEphemeral is True when blobs live in an emptyDir and die with the pod.
	ConditionStorageEphemeral = "StorageEphemeral"
	// ConditionServiceAddress is True when the Service holds the address it
	// should (the pinned one, or the one it had before it was recreated).
	ConditionServiceAddress = "ServiceAddress"
	// ConditionStorageReady is False when the claim for the blobs cannot be
	// used as asked (missing, someone else's, or unchangeable as asked).
	ConditionStorageReady = "StorageReady"
	// ConditionRealmReachable is False when clients may fail to reach the realm
	// (docker_auth layout with a cluster-internal host).
	ConditionRealmReachable = "RealmReachable"
)

// Condition reasons.
const (
	ReasonSucceeded           = "Succeeded"
	ReasonProgressing         = "Progressing"
	ReasonSecretNotFound      = "SecretNotFound"
	ReasonSecretKeyNotFound   = "SecretKeyNotFound"
	ReasonInvalidPassword     = "InvalidPassword"
	ReasonInvalidACL          = "InvalidACL"
	ReasonInvalidCertificate  = "InvalidCertificate"
	ReasonIssuerNotFound      = "IssuerNotFound"
	ReasonIssuerNotReady      = "IssuerNotReady"
	ReasonCertificatePending  = "CertificatePending"
	ReasonCertManagerMissing  = "CertManagerNotInstalled"
	ReasonRotating            = "Rotating"
	ReasonApplyFailed         = "ApplyFailed"
	ReasonDeploymentNotReady  = "DeploymentNotAvailable"
	ReasonRolloutInProgress   = "RolloutInProgress"
	ReasonEmptyDir            = "EmptyDir"
	ReasonPersistentVolume    = "PersistentVolumeClaim"
	ReasonClusterInternalHost = "ClusterInternalHost"
	ReasonHostReachable       = "Reachable"
	ReasonFrontDoor           = "FrontDoor"

	ReasonClusterIPPinned      = "Pinned"
	ReasonClusterIPAllocated   = "Allocated"
	ReasonClusterIPUnavailable = "ClusterIPUnavailable"
	ReasonClusterIPMismatch    = "ClusterIPMismatch"
	// ReasonClusterIPReleasing: the recreated Service asks for its previous
	// address, which the API server has not released yet.
	ReasonClusterIPReleasing = "ClusterIPReleasing"
	ReasonClaimNotFound      = "ClaimNotFound"
	ReasonClaimNotOwned      = "ClaimNotOwned"
	ReasonClaimUnchangeable  = "ClaimUnchangeable"
)

// Reasons of the reconcile's own outcome (Ready, Stalled, Reconciling).
const (
	// ReasonApplyRejected: the API server refuses an object as invalid (an
	// immutable field changed): retrying cannot help, the input must change.
	ReasonApplyRejected = "ApplyRejected"
	// ReasonDependencyFailed: a step was skipped because a step it needs failed.
	ReasonDependencyFailed = "DependencyFailed"
	// ReasonInvalidPasswordHash: a password Secret holds a malformed bcrypt
	// hash, or one whose cost is out of range.
	ReasonInvalidPasswordHash = "InvalidPasswordHash"
	// ReasonPodsFailing: a container of the registry's pods is stuck
	// (CrashLoopBackOff, an image that cannot be pulled, ...); the message
	// carries its reason and last termination message.
	ReasonPodsFailing = "PodsFailing"
	// ReasonNameConflict: an object with an owned name exists and is not
	// this RegistryAuth's, or an input names an owned object.
	ReasonNameConflict = "NameConflict"
)

// ConditionNameConflict is True while an object this RegistryAuth would own
// exists under another controller (or none), or an input Secret is named
// like an owned one; the message names each. The object is left untouched.
const ConditionNameConflict = "NameConflict"

// ConditionVerified is True when the operator's own client round trip
// through the Service works: token challenge, a token for its probe
// identity, GET /v2/, a blob upload started and cancelled. Ready requires it.
const ConditionVerified = "Verified"
