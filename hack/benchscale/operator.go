package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// operator is the operator binary running as its own process.
type operator struct {
	cmd     *exec.Cmd
	metrics string // http://127.0.0.1:port/metrics
	exited  chan struct{}
}

const operatorNamespace = "registry-auth-system"

func startOperator(o options, cl *cluster) (*operator, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{
		"--metrics-bind-address=127.0.0.1:" + strconv.Itoa(port),
		"--health-probe-bind-address=0",
		"--max-concurrent-reconciles=" + strconv.Itoa(o.concurrency),
	}
	if o.nodeTrust {
		args = append(args, "--node-trust-configmap=registry-auth-operator-node-trust")
	}
	cmd := exec.Command(o.operator, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cl.kubeconfig, "POD_NAMESPACE="+operatorNamespace,
		"OPERATOR_IMAGE=registry-auth-operator:bench")
	logf, err := os.Create(fmt.Sprintf("%s/operator-%d.log", cl.dir, time.Now().UnixNano()))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: nothing it starts outlives the bench.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	op := &operator{cmd: cmd, metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", port), exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(op.exited) }()
	return op, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitUp waits for the metrics endpoint (the manager has started).
func (op *operator) waitUp(ctx context.Context) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-op.exited:
			return fmt.Errorf("the operator exited at start (log in the bench's temporary directory)")
		default:
		}
		if _, err := op.scrape(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the operator's metrics endpoint did not come up")
}

// stop sends SIGTERM and waits; kill sends SIGKILL.
func (op *operator) stop() { op.signal(syscall.SIGTERM) }
func (op *operator) kill() { op.signal(syscall.SIGKILL) }

func (op *operator) signal(sig syscall.Signal) {
	select {
	case <-op.exited:
		return
	default:
	}
	_ = op.cmd.Process.Signal(sig)
	select {
	case <-op.exited:
	case <-time.After(30 * time.Second):
		_ = op.cmd.Process.Kill()
		<-op.exited
	}
}

// memory returns VmRSS and VmHWM in MiB from /proc.
func (op *operator) memory() (rss, hwm float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", op.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		}
	}
	return rss, hwm
}

// cpu returns user+system CPU seconds from /proc (clock ticks of 1/100 s).
func (op *operator) cpu() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", op.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

// scrape reads the operator's metrics: name{labels} -> value.
func (op *operator) scrape() (map[string]float64, error) {
	resp, err := http.Get(op.metrics)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return parseMetrics(resp.Body), nil
}

// parseMetrics reads the Prometheus text format, enough for counters and gauges.
func parseMetrics(r io.Reader) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err == nil {
			out[l[:i]] = v
		}
	}
	return out
}

// sum adds the series of metric whose labels contain every one of labels.
func sum(m map[string]float64, metric string, labels ...string) float64 {
	var t float64
	for k, v := range m {
		if k != metric && !strings.HasPrefix(k, metric+"{") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(k, l)
		}
		if ok {
			t += v
		}
	}
	return t
}

// reconciles finished by the RegistryAuth controller.
func (op *operator) reconciles() float64 {
	m, _ := op.scrape()
	return sum(m, "controller_runtime_reconcile_total", `controller="registryauth"`)
}

// idle: no queued or running work in any controller.
func (op *operator) idle() bool {
	m, err := op.scrape()
	if err != nil {
		return false
	}
	return sum(m, "workqueue_depth") == 0 && sum(m, "controller_runtime_active_workers") == 0
}
