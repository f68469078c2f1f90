package dataplane

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// providerBench is one token server under the same load.
type providerBench struct {
	name   string
	target func(b *testing.B, hash string, cost int) (url string, pid int)
}

// BenchmarkTokenProviders compares the two providers' token endpoints side
// by side: the same user (hashed by htpasswd -B at cost 5, then 10), the
// same ACL, the same load generator (ab, 8 keep-alive connections, 10 s),
// each server as the operator configures it (builtin: ES256, credential
// cache on by default, also shown off; docker_auth: the rendered config,
// RS256 with an RSA-2048 key). Runs alternate between the servers, twice,
// and each row carries the 1-minute load average before it: this machine is
// shared, so read the figures next to it. make bench-providers.
func BenchmarkTokenProviders(b *testing.B) {
	servers := []providerBench{
		{"builtin (cache on)", func(b *testing.B, hash string, cost int) (string, int) {
			t, _, pid := builtinServer(b, hash, cost, true)
			return t, pid
		}},
		{"builtin (cache off)", func(b *testing.B, hash string, cost int) (string, int) {
			t, _, pid := builtinServer(b, hash, cost, false)
			return t, pid
		}},
		{"docker_auth 1.14", dockerAuthTarget},
	}
	type row struct {
		server string
		cost   int
		round  int
		load   string
		r      tokenResult
	}
	var rows []row
	for _, cost := range []int{5, 10} {
		hash := htpasswdHash(b, "bench", "bench-password", cost)
		for round := 1; round <= 2; round++ {
			for _, s := range servers {
				b.Run(fmt.Sprintf("cost%d/round%d/%s", cost, round, s.name), func(b *testing.B) {
					for range b.N {
						load := loadAvg(b)
						target, pid := s.target(b, hash, cost)
						rows = append(rows, row{s.name, cost, round, load, abRun(b, target, pid)})
					}
				})
			}
		}
	}
	fmt.Printf("\n| bcrypt cost | server | round | load avg (1 min) before | tokens/s | p50 ms | p99 ms | server CPU µs/token |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Printf("| %d | %s | %d | %s | %.0f | %.2f | %.2f | %.0f |\n", r.cost, r.server, r.round, r.load, r.r.perSec, r.r.p50, r.r.p99, r.r.serverCPU)
	}
	fmt.Printf("\n%d connections, %d s per run, %d CPUs\n", tokenBenchConns, tokenBenchSeconds, runtime.NumCPU())
}

// builtinServer starts our auth-server with the user's hash; it returns the
// token URL, the monitoring address and the process ID.
func builtinServer(b *testing.B, hash string, cost int, cached bool) (target, monitor string, pid int) {
	env, err := authtest.NewEnv(b.TempDir(), authtest.Options{
		Addr: hostPort(freePort(b)), Issuer: issuer, Users: map[string]authtest.User{"bench": {Password: "unused"}},
		ACL: `[{match: {account: bench}, actions: [pull, push]}]`,
	})
	if err != nil {
		b.Fatal(err)
	}
	env.Config.Users["bench"].Password = hash
	if err := env.WriteConfig(); err != nil {
		b.Fatal(err)
	}
	monitor = hostPort(freePort(b))
	ttl := "2m"
	if !cached {
		ttl = "0"
	}
	p := start(b, "auth-server", nil, authBin, "--config="+env.ConfigPath(), "--refresh-key-file="+env.RefreshKeyPath(),
		"--monitoring-addr="+monitor, "--credential-cache-ttl="+ttl, "--bcrypt-cost="+strconv.Itoa(cost))
	waitHTTP(b, p, "http://"+monitor+"/readyz", nil, http.StatusOK)
	q := url.Values{"service": {service}, "scope": {"repository:bench/app:pull"}}
	return "https://" + env.Config.Server.Addr + "/auth/token?" + q.Encode(), monitor, p.cmd.Process.Pid
}

// dockerAuthTarget starts docker_auth with the config the operator renders
// for the same user and ACL, listening on a free loopback port.
func dockerAuthTarget(b *testing.B, hash string, _ int) (string, int) {
	ra := daRegistryAuth("registry:3")
	ra.Spec.Auth.Users = ra.Spec.Auth.Users[:1]
	ra.Spec.Auth.Users[0].Name = "bench"
	// The builtin server's ACL above.
	ra.Spec.Auth.ACL = []v1alpha1.ACLRule{{Match: v1alpha1.ACLMatch{Account: ptr.To("bench")}, Actions: []string{"pull", "push"}}}
	w := render.Wire(ra, render.DefaultOptions(), nil)
	cfg, err := render.AuthConfig(ra, w, map[string]string{"bench": hash})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	now := time.Now()
	ca, err := pki.NewCA(pki.Template{CommonName: "bench CA", Lifetime: time.Hour, Algorithm: pki.ECDSAP256}, now)
	if err != nil {
		b.Fatal(err)
	}
	serving, err := ca.IssueServing(pki.Template{CommonName: "bench", SANs: []string{"127.0.0.1"}, Lifetime: time.Hour, Algorithm: pki.ECDSAP256}, now)
	if err != nil {
		b.Fatal(err)
	}
	signing, err := ca.IssueSigning(pki.Template{CommonName: "bench signer", Lifetime: time.Hour, Algorithm: pki.RSA2048}, now)
	if err != nil {
		b.Fatal(err)
	}
	writePair(b, filepath.Join(dir, "tls"), serving)
	writePair(b, filepath.Join(dir, "token"), signing)
	addr := hostPort(freePort(b))
	cfg.Server.Addr = addr
	cfg.Server.Certificate, cfg.Server.Key = filepath.Join(dir, "tls", "tls.crt"), filepath.Join(dir, "tls", "tls.key")
	cfg.Token.Certificate, cfg.Token.Key = filepath.Join(dir, "token", "tls.crt"), filepath.Join(dir, "token", "tls.key")
	y, err := authconfig.Marshal(cfg)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, authconfig.ConfigFile)
	if err := os.WriteFile(path, y, 0o600); err != nil {
		b.Fatal(err)
	}
	// The rendered arguments, with the config path of this run.
	args := []string{dockerAuthBinary(b)}
	for _, c := range render.DesiredDeployment(ra, render.DefaultOptions(), nil).Spec.Template.Spec.Containers {
		if c.Name != render.ContainerAuth {
			continue
		}
		for _, a := range c.Args {
			args = append(args, strings.Replace(a, render.DockerAuthConfigDir+"/"+authconfig.ConfigFile, path, 1))
		}
	}
	p := start(b, "docker_auth", nil, args...)
	waitHTTP(b, p, "https://"+addr+"/", &tls.Config{InsecureSkipVerify: true}, http.StatusOK)
	q := url.Values{"service": {w.Service}, "scope": {"repository:bench/app:pull"}}
	return "https://" + addr + render.DockerAuthPath + "?" + q.Encode(), p.cmd.Process.Pid
}

// abRun drives target with ab as bench:bench-password and measures the
// server's and ab's CPU per token.
func abRun(b *testing.B, target string, pid int) tokenResult {
	csvPath := filepath.Join(b.TempDir(), "percentiles.csv")
	cpu0 := processCPU(b, pid)
	cmd := exec.Command(need(b, "ab"), "-q", "-k", "-l", "-c", strconv.Itoa(tokenBenchConns),
		"-t", strconv.Itoa(tokenBenchSeconds), "-n", "10000000", "-A", "bench:bench-password", "-e", csvPath, target)
	b.ResetTimer()
	out, err := cmd.CombinedOutput()
	b.StopTimer()
	if err != nil {
		b.Fatalf("ab: %v\n%s", err, out)
	}
	r := parseAB(b, string(out), csvPath)
	if r.failed > 0 {
		b.Fatalf("%d requests failed:\n%s", r.failed, out)
	}
	n := r.perSec * tokenBenchSeconds
	r.serverCPU = (processCPU(b, pid) - cpu0).Seconds() * 1e6 / n
	r.clientCPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds() * 1e6 / n
	b.ReportMetric(r.perSec, "tokens/s")
	b.ReportMetric(r.p50, "p50-ms")
	b.ReportMetric(r.p99, "p99-ms")
	b.ReportMetric(r.serverCPU, "server-cpu-µs/token")
	b.ReportMetric(r.clientCPU, "ab-cpu-µs/token")
	return r
}

func loadAvg(b *testing.B) string {
	s, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		b.Fatal(err)
	}
	return strings.Fields(string(s))[0]
}
