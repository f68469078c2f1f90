// Package render holds the pure builders of everything a RegistryAuth owns:
// given the resource, operator-wide options and resolved inputs, each returns
// the full desired object. Nothing here talks to the API server.
package render

import (
	"time"
)

// Options are operator-wide settings (manager flags).
type Options struct {
	// ClusterDomain completes Service DNS names (default cluster.local).
	ClusterDomain string
	// AuthImage is the operator's own image; the builtin auth container runs it.
	AuthImage string
	// DockerAuthImage is the default image of the docker_auth provider.
	DockerAuthImage string
	// RegistryImage is the default image of the registry container.
	RegistryImage string
	// CALifetime, ServingLifetime and SigningLifetime of generated certificates.
	CALifetime      time.Duration
	ServingLifetime time.Duration
	SigningLifetime time.Duration
	// ServingCAOverlap is how long a new serving CA is published beside the
	// old one before the serving certificate moves to it: the time clients
	// outside the cluster have to trust it.
	ServingCAOverlap time.Duration
}

// DefaultRegistryImage is distribution v3, the line the rendered config is
// written for (and tested with).
const DefaultRegistryImage = "registry:3"

// DefaultOptions are the documented defaults of the manager flags.
func DefaultOptions() Options {
	return Options{
		ClusterDomain:    "cluster.local",
		DockerAuthImage:  "cesanta/docker_auth:1.14.0",
		RegistryImage:    DefaultRegistryImage,
		CALifetime:       10 * 365 * 24 * time.Hour,
		ServingLifetime:  90 * 24 * time.Hour,
		SigningLifetime:  7 * 24 * time.Hour,
		ServingCAOverlap: 7 * 24 * time.Hour,
	}
}
