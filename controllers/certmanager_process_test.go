package controllers

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// certManagerProcess is cert-manager's real controllers (built from its
// module by hack/build-tools.sh cert-manager) running against the envtest
// API server, as cert-manager would in a cluster.
type certManagerProcess struct {
	cmd *exec.Cmd
	log string
}

// startCertManager runs the controller binary named by $CERT_MANAGER_CONTROLLER
// with an admin kubeconfig of env. ClusterIssuers read their Secrets from the
// namespace "cert-manager".
func startCertManager(env *envtest.Environment, dir string) (*certManagerProcess, error) {
	bin := os.Getenv("CERT_MANAGER_CONTROLLER")
	if bin == "" {
		return nil, fmt.Errorf("CERT_MANAGER_CONTROLLER is not set: run `make test-envtest` (it builds cert-manager's controllers once and caches them)")
	}
	user, err := env.AddUser(envtest.User{Name: "cert-manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return nil, err
	}
	kcPath := filepath.Join(dir, "cert-manager.kubeconfig")
	if err := os.WriteFile(kcPath, kubeconfig, 0o600); err != nil {
		return nil, err
	}
	p := &certManagerProcess{log: filepath.Join(dir, "cert-manager.log")}
	logFile, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	p.cmd = exec.Command(bin, "--kubeconfig="+kcPath, "--cluster-resource-namespace=cert-manager")
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

// stop ends the process we started, by its PID.
func (p *certManagerProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}
