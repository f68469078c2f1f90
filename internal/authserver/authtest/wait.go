package authtest

import (
	"testing"
	"time"
)

// Eventually polls cond every 50ms until it holds, failing t after timeout:
// reloads and restarts take effect within seconds, never at once.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
