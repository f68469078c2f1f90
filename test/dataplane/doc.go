// Package dataplane tests the auth-server against real parts: the
// distribution v3 registry (built from the Go module proxy), Debian's
// registry 2.8, and real clients — go-containerregistry, containerd's
// resolver, skopeo and the Docker daemon. Every server it starts listens on
// loopback (or in a network namespace the test creates) and is stopped by
// PID when the test ends.
package dataplane
