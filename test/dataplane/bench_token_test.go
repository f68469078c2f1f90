package dataplane

import (
	"encoding/csv"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	tokenBenchConns   = 8  // concurrent keep-alive connections
	tokenBenchSeconds = 10 // length of one load run
)

type tokenResult struct {
	perSec, p50, p99     float64 // tokens/s, milliseconds
	serverCPU, clientCPU float64 // CPU µs per token: auth-server process, ab
	failed               int
}

// BenchmarkTokenEndpoint measures GET /auth/token with Basic credentials and
// one scope against the auth-server process on loopback: 8 connections for
// 10 s, driven by ApacheBench (a C client, so the load generator takes as
// little as possible of the 2 cores). Users are hashed by htpasswd -B at its
// default cost (5) and at cost 10; the credential cache is on, then off
// (off = bcrypt on every request, the usual design). One op is one 10 s run.
// The server runs as in production (audit log on, info level). make bench.
func BenchmarkTokenEndpoint(b *testing.B) {
	results := map[string]tokenResult{}
	for _, cost := range []int{5, 10} {
		for _, cached := range []bool{true, false} {
			key := fmt.Sprintf("cost%d/cache=%v", cost, cached)
			b.Run(key, func(b *testing.B) {
				for range b.N {
					results[key] = benchTokens(b, cost, cached)
				}
			})
		}
	}
	if len(results) != 4 {
		return // a -bench filter ran only some
	}
	fmt.Printf("\n| bcrypt cost | credential cache | tokens/s | p50 ms | p99 ms | server CPU µs/token | ab CPU µs/token | vs bcrypt every request |\n|---|---|---|---|---|---|---|---|\n")
	for _, cost := range []int{5, 10} {
		on, off := results[fmt.Sprintf("cost%d/cache=true", cost)], results[fmt.Sprintf("cost%d/cache=false", cost)]
		fmt.Printf("| %d | on | %.0f | %.2f | %.2f | %.0f | %.0f | %.1f× |\n", cost, on.perSec, on.p50, on.p99, on.serverCPU, on.clientCPU, on.perSec/off.perSec)
		fmt.Printf("| %d | off | %.0f | %.2f | %.2f | %.0f | %.0f | 1× |\n", cost, off.perSec, off.p50, off.p99, off.serverCPU, off.clientCPU)
	}
	fmt.Printf("\n%d connections, %d s per run, %d CPUs\n", tokenBenchConns, tokenBenchSeconds, runtime.NumCPU())
}

func benchTokens(b *testing.B, cost int, cached bool) tokenResult {
	hash := htpasswdHash(b, "bench", "bench-password", cost) // htpasswd's own hash
	target, monitor, pid := builtinServer(b, hash, cost, cached)
	r := abRun(b, target, pid)
	if n := scrape(b, "http://"+monitor+"/metrics", `registry_auth_tokens_issued_total{grant="basic"}`); n < 1 {
		b.Fatal("the server issued no tokens")
	}
	return r
}

var (
	abRate   = regexp.MustCompile(`Requests per second:\s+([0-9.]+)`)
	abFailed = regexp.MustCompile(`Failed requests:\s+([0-9]+)`)
	abNon2xx = regexp.MustCompile(`Non-2xx responses:\s+([0-9]+)`)
)

// parseAB reads ab's summary and its CSV of "percentage served, ms".
func parseAB(b *testing.B, out, csvPath string) tokenResult {
	var r tokenResult
	m := abRate.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("no rate in ab output:\n%s", out)
	}
	r.perSec, _ = strconv.ParseFloat(m[1], 64)
	for _, re := range []*regexp.Regexp{abFailed, abNon2xx} {
		if m := re.FindStringSubmatch(out); m != nil {
			n, _ := strconv.Atoi(m[1])
			r.failed += n
		}
	}
	f, err := os.Open(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	for _, row := range rows[1:] {
		pct, _ := strconv.Atoi(row[0])
		v, _ := strconv.ParseFloat(row[1], 64)
		switch pct {
		case 50:
			r.p50 = v
		case 99:
			r.p99 = v
		}
	}
	return r
}

// htpasswdHash hashes with Apache's htpasswd -B, as an admin would.
func htpasswdHash(b *testing.B, user, password string, cost int) string {
	out, err := run(b, "", nil, need(b, "htpasswd"), "-nbB", "-C", strconv.Itoa(cost), user, password)
	if err != nil {
		b.Fatalf("htpasswd: %v %s", err, out)
	}
	_, hash, ok := strings.Cut(strings.TrimSpace(out), ":")
	if !ok || !strings.HasPrefix(hash, fmt.Sprintf("$2y$%02d$", cost)) {
		b.Fatalf("htpasswd output %q", out)
	}
	return hash
}

// processCPU is the user+system CPU time a process has used so far.
func processCPU(b *testing.B, pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the ")" that ends the command name; utime and stime are
	// the 14th and 15th fields of the whole line, in clock ticks (100/s).
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
