package dataplane

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
	"github.com/registry-auth-operator/registry-auth-operator/internal/selfcheck"
)

// TestSelfCheck runs the operator's self-check against the real registry
// behind the real front door: it passes on a working stack, names the
// refusal for a wrong credential, and reports the registry's own storage
// error when the storage cannot be written. Its latency is logged for
// docs/benchmarks.md.
func TestSelfCheck(t *testing.T) {
	check := func(s *stack, user, password string) selfcheck.Result {
		t.Helper()
		return selfcheck.HTTP{}.Check(context.Background(), selfcheck.Target{
			URL: "https://" + s.host, Roots: authtest.Pool(s.env.ServingCA),
			Username: user, Password: password, Repository: user + "/selfcheck",
		})
	}
	s := newStack(t, frontDoor)
	var took []time.Duration
	var r selfcheck.Result
	for range 5 {
		if r = check(s, "admin", users["admin"].Password); !r.OK {
			t.Fatalf("a working registry fails the check: %s: %s", r.Reason, r.Message)
		}
		took = append(took, r.Took)
	}
	// The first includes the auth server's bcrypt of the credential; later
	// ones hit its verification cache, as the operator's periodic checks do.
	t.Logf("self-check against a working registry: first %s, then %v", took[0], took[1:])
	if r = check(s, "alice", "wrong"); r.OK || r.Reason != selfcheck.ReasonTokenRefused {
		t.Errorf("a wrong credential: got %+v, want %s", r, selfcheck.ReasonTokenRefused)
	}
	// An identity without push cannot start an upload; one without delete
	// cannot cancel it: both are refusals, not storage problems.
	if r = check(s, "puller", users["puller"].Password); r.OK || r.Reason != selfcheck.ReasonAPIRefused {
		t.Errorf("an identity without push: got %+v, want %s", r, selfcheck.ReasonAPIRefused)
	}
	if r = check(s, "alice", users["alice"].Password); r.OK || r.Reason != selfcheck.ReasonAPIRefused || !strings.Contains(r.Message, "needs delete") {
		t.Errorf("an identity without delete: got %+v, want %s", r, selfcheck.ReasonAPIRefused)
	}

	// Storage the registry cannot create its directories in (the tests run
	// as root, whom file modes do not stop: a path under a file does).
	broken := newStack(t, frontDoor, func(_ testing.TB, s *stack) {
		s.storage = map[string]any{"filesystem": map[string]any{"rootdirectory": "/dev/null/registry"}}
	})
	r = check(broken, "admin", users["admin"].Password)
	if r.OK || r.Reason != selfcheck.ReasonStorageNotWritable || !strings.Contains(r.Message, "not a directory") {
		t.Errorf("unwritable storage: got %+v, want %s quoting the registry's error", r, selfcheck.ReasonStorageNotWritable)
	}
	t.Logf("unwritable storage reported as: %s", r.Message)
}
