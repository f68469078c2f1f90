package dataplane

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// TestS3PrivateCA: an https S3 endpoint whose certificate comes from a
// private CA. With the rendered AWS_CA_BUNDLE (caBundleRef) the registry
// stores and serves images there; without it the same push fails (the
// system roots do not know that CA): the bundle is what makes it work.
func TestS3PrivateCA(t *testing.T) {
	s3 := startS3On(t, true)
	if !strings.HasPrefix(s3.endpoint, "https://") {
		t.Fatalf("endpoint %s", s3.endpoint)
	}
	storage, env := s3.registryStorage(t)
	without := slices.DeleteFunc(slices.Clone(env), func(e string) bool { return strings.HasPrefix(e, render.EnvS3CABundle+"=") })
	if len(without) != len(env)-1 {
		t.Fatalf("the rendered environment has no %s: %v", render.EnvS3CABundle, env)
	}

	untrusting := newStack(t, frontDoor, func(_ testing.TB, s *stack) { s.storage, s.regEnv = storage, without })
	if _, err := untrusting.crane("admin", "badmin").push(t, "admin/tls", "v1"); err == nil {
		t.Fatal("push to an https S3 endpoint of an unknown CA succeeded without the CA bundle")
	}
	// Refused for the right reason: the registry could not verify the endpoint.
	if log, _ := os.ReadFile(untrusting.registry.log); !strings.Contains(string(log), "x509") {
		t.Fatalf("push failed, but the registry log names no certificate error:\n%s", tail(untrusting.registry.log, 20))
	}

	s := newStack(t, frontDoor, func(_ testing.TB, s *stack) { s.storage, s.regEnv = storage, env })
	admin := s.crane("admin", "badmin")
	pushed, err := admin.push(t, "admin/tls", "v1")
	if err != nil {
		t.Fatalf("push through the CA bundle: %v", err)
	}
	if got, err := admin.pull("admin/tls", "v1"); err != nil || got != pushed {
		t.Fatalf("pull: %s, %v; pushed %s", got, err, pushed)
	}
}
