// Package pullaccess holds the pure logic of per-namespace pull access: the
// robot accounts' rotation state, the decisions taken on it, and the objects
// and auth-config entries built from it. It reads and writes nothing; the
// controller (controllers/pullaccess*.go) does.
package pullaccess

import (
	"strconv"
	"strings"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// Labels and annotations on the objects pull access writes. The label is
// what the operator's cache selects, so it never holds other Secrets.
const (
	// LabelKind marks the operator's pull-access Secrets: "pull-secret" in
	// tenant namespaces, "robots" for the state beside the registry.
	LabelKind = "registryauth.dev/pull-access"
	// LabelRegistryUID ties a pull Secret to its RegistryAuth (names may be
	// reused; the UID may not), and is how cleanup finds them all.
	LabelRegistryUID = "registryauth.dev/registry-uid"
	// AnnotationRegistry is "<namespace>/<name>" of the RegistryAuth.
	AnnotationRegistry = "registryauth.dev/registry"
	// AnnotationGeneration is the robot generation in .dockerconfigjson.
	AnnotationGeneration = "registryauth.dev/robot-generation"
	// AnnotationNextGeneration is the generation of KeyNext, not yet in use.
	AnnotationNextGeneration = "registryauth.dev/robot-next-generation"
	// KeyNext holds the successor password while the auth server learns it.
	KeyNext = "next-password"
	// Finalizer keeps a RegistryAuth until its pull Secrets are gone:
	// objects in other namespaces cannot carry owner references to it.
	Finalizer = "registryauth.dev/pull-secrets"

	KindPullSecret = "pull-secret"
	KindRobots     = "robots"
	// StateKey is the key of the state document in the robots Secret.
	StateKey = "robots.json"
	// RobotPrefix starts every robot account name. User names cannot contain
	// "$" (the CRD's pattern), so no user can pose as a robot.
	RobotPrefix = "robot$"
	// LabelNamespace is the auth-config label each robot carries: the ACL
	// substitutes it for ${namespace}.
	LabelNamespace = "namespace"
)

// RobotUser is the account name of one generation of a namespace's robot.
// Namespace names have no dots, so the name splits back unambiguously.
func RobotUser(namespace string, generation int64) string {
	return RobotPrefix + namespace + "." + strconv.FormatInt(generation, 10)
}

// SecretName is the pull Secret's name in every selected namespace.
func SecretName(ra *v1alpha1.RegistryAuth) string {
	if ps := ra.Spec.PullSecrets; ps != nil && ps.SecretName != "" {
		return ps.SecretName
	}
	return ra.Namespace + "-" + ra.Name + "-pull"
}

// StateSecretName is the Secret beside the registry holding robot hashes.
func StateSecretName(ra *v1alpha1.RegistryAuth) string { return ra.Name + "-robots" }

// RegistryKey is the value of AnnotationRegistry.
func RegistryKey(ra *v1alpha1.RegistryAuth) string { return ra.Namespace + "/" + ra.Name }

// ParseRegistryKey splits AnnotationRegistry.
func ParseRegistryKey(v string) (namespace, name string, ok bool) {
	return strings.Cut(v, "/")
}
