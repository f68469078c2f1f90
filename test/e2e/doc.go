// Package e2e holds the end-to-end tests: a cluster admin's whole journey on
// the real local single-node cluster that `make test-e2e` (hack/e2e.sh) brings
// up — helm install, a RegistryAuth applied with kubectl, skopeo and the Docker
// CLI logging in, pushing and pulling, and the kubelet pulling from the new
// registry. Run outside that script, the tests skip.
package e2e
