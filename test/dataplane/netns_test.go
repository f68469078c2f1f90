package dataplane

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// netnsEnv is set in a test binary re-run inside a network namespace.
const netnsEnv = "DATAPLANE_NETNS"

// netnsAddr is the test host's address inside the namespace the test makes
// (TEST-NET-1, put on the namespace's own loopback device). Some clients
// treat every 127.0.0.0/8 registry as insecure and skip certificate checks;
// on this address they verify TLS as they would against a real host.
const netnsAddr = "192.0.2.10"

// inNetns reports whether this process is the re-run inside the namespace.
func inNetns() bool { return os.Getenv(netnsEnv) != "" }

// rerunInNetns creates a network namespace with netnsAddr, runs this test
// binary's test `name` inside it, and fails unless that run passed (a skip
// there is a failure here). It removes the namespace afterwards.
func rerunInNetns(t *testing.T, name string) {
	t.Helper()
	need(t, "ip")
	ns := fmt.Sprintf("rao-dataplane-%d", os.Getpid())
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", ns)
	t.Cleanup(func() {
		killNetnsProcesses(t, ns)
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", ns, err, out)
		}
	})
	ip("-n", ns, "link", "set", "lo", "up")
	ip("-n", ns, "addr", "add", netnsAddr+"/32", "dev", "lo")

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	// Enter only the network namespace (ip netns exec would also remount
	// /sys, hiding the cgroup mounts dockerd needs), in a private mount
	// namespace so any mount a server makes there dies with the re-run.
	need(t, "unshare")
	need(t, "nsenter")
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "--",
		"nsenter", "--net=/run/netns/"+ns, "--", os.Args[0],
		"-test.run", "^"+name+"$", "-test.v", "-test.count=1", "-test.timeout=14m")
	cmd.Env = append(os.Environ(), netnsEnv+"="+ns, "REGISTRY_BIN="+registryBin, "DATAPLANE_AUTH_BIN="+authBin)
	out, err := cmd.CombinedOutput()
	t.Logf("--- %s inside netns %s ---\n%s", name, ns, out)
	if err != nil {
		t.Fatalf("%s in the network namespace: %v", name, err)
	}
	if !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("%s did not pass inside the network namespace", name)
	}
}

// killNetnsProcesses stops, by PID, anything the re-run left in ns.
func killNetnsProcesses(t *testing.T, ns string) {
	out, _ := exec.Command("ip", "netns", "pids", ns).Output()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			t.Logf("killing leftover pid %d in %s", pid, ns)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
