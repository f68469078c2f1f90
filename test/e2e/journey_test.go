package e2e

import (
	"testing"
)

// The sample's documented users (config/samples/demo-users.yaml).
const (
	nsDemo     = "e2e-demo"
	raName     = "demo"
	adminPass  = "badmin"
	readerPass = "123"
)

// journey carries what earlier steps learned to later ones.
type journey struct {
	*env
	dir      string // lives as long as the whole journey
	ca       string // path of the registry's CA (PEM)
	caPEM    []byte
	nodeHost string // host:port of status.urls.node
}

// TestUserJourney is a cluster admin's path, in order: each step needs the
// ones before it, so the first failure stops the journey.
func TestUserJourney(t *testing.T) {
	j := &journey{env: loadEnv(t), dir: t.TempDir()}
	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"helm install: operator and node-trust agent ready", j.helmInstall},
		{"kubectl apply sample: RegistryAuth Ready with URLs", j.applySample},
		{"docker_auth provider: classic layout rendered (live: TestDockerAuthProvider)", j.dockerAuth},
		{"realm reachable from a Pod via the Service DNS name", j.reachFromPod},
		{"realm reachable from the node via the ClusterIP", j.reachFromNode},
		{"realm reachable from the machine's shell via its route", j.reachFromHost},
		{"realm reachable through kubectl port-forward", j.reachThroughPortForward},
		{"skopeo: admin push and pull, reader pull only, wrong password refused", j.skopeo},
		{"docker CLI: login, push, pull as admin; reader denied push", j.dockerCLI},
		{"kubelet pulls with a dockerconfigjson Secret, trusting the CA from node-trust", j.kubeletPull},
		{"password change in its Secret applies live, without restarts", j.passwordReload},
		{"RegistryAuth deleted: everything it owned is garbage-collected", j.garbageCollection},
		{"node trust entry removed with the registry", j.nodeTrustCleanup},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.Fatalf("stopping the journey: step %q failed", s.name)
		}
	}
}
