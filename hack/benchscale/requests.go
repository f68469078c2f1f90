package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// ownRequests counts the bench's own requests by the verb the API server
// reports them under, so they can be taken out of the server's totals.
type ownRequests struct {
	mu sync.Mutex
	n  map[string]float64
}

func (o *ownRequests) wrap(rt http.RoundTripper) http.RoundTripper {
	return rtFunc(func(r *http.Request) (*http.Response, error) {
		v := verbOf(r)
		o.mu.Lock()
		if o.n == nil {
			o.n = map[string]float64{}
		}
		o.n[v]++
		o.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

func (o *ownRequests) snapshot() map[string]float64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]float64{}
	for k, v := range o.n {
		out[k] = v
	}
	return out
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// verbOf names a request as apiserver_request_total does.
func verbOf(r *http.Request) string {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPatch:
		if strings.Contains(r.Header.Get("Content-Type"), "apply-patch") {
			return "APPLY"
		}
		return "PATCH"
	default:
		return r.Method
	}
	if r.URL.Query().Get("watch") == "true" {
		return "WATCH"
	}
	p := strings.Trim(r.URL.Path, "/")
	segs := strings.Split(p, "/")
	switch {
	case len(segs) >= 2 && segs[0] == "api":
		segs = segs[2:]
	case len(segs) >= 3 && segs[0] == "apis":
		segs = segs[3:]
	}
	if len(segs) >= 3 && segs[0] == "namespaces" {
		segs = segs[2:]
	}
	if len(segs) == 1 {
		return "LIST"
	}
	return "GET"
}

// serverRequests reads apiserver_request_total summed by verb.
func (cl *cluster) serverRequests(ctx context.Context) map[string]float64 {
	b, err := cl.kube.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	out := map[string]float64{}
	if err != nil {
		return out
	}
	for k, v := range parseMetrics(strings.NewReader(string(b))) {
		if !strings.HasPrefix(k, "apiserver_request_total{") {
			continue
		}
		i := strings.Index(k, `verb="`)
		if i < 0 {
			continue
		}
		verb := k[i+6:]
		verb = verb[:strings.IndexByte(verb, '"')]
		out[verb] += v
	}
	return out
}

// phase measures one step: time, the operator's CPU and memory, and the
// requests the operator sent (the server's count less the bench's own; the
// bench's metric scrapes count as GETs and are taken out too).
type phase struct {
	cl      *cluster
	op      *operator
	start   time.Time
	cpu     float64
	server  map[string]float64
	own     map[string]float64
	scrapes int
}

func (cl *cluster) beginPhase(ctx context.Context, op *operator) *phase {
	ph := &phase{cl: cl, op: op, start: time.Now(), cpu: op.cpu(), own: cl.own.snapshot()}
	ph.server = cl.serverRequests(ctx)
	return ph
}

func (ph *phase) report(ctx context.Context, name string, n int) {
	elapsed := time.Since(ph.start)
	server := ph.cl.serverRequests(ctx)
	own := ph.cl.own.snapshot()
	rss, hwm := ph.op.memory()
	cpu := ph.op.cpu() - ph.cpu
	heap := 0.0
	if m, err := ph.op.scrape(); err == nil {
		heap = sum(m, "go_memstats_heap_inuse_bytes") / (1 << 20)
	}
	fmt.Printf("%s: %.1f s, VmRSS %.1f MiB, VmHWM %.1f MiB, Go heap in use %.1f MiB, CPU %.1f s (load %s)\n",
		name, elapsed.Seconds(), rss, hwm, heap, cpu, loadavg())
	var verbs []string
	for v := range server {
		verbs = append(verbs, v)
	}
	sort.Strings(verbs)
	var parts []string
	writes := 0.0
	for _, v := range verbs {
		d := server[v] - ph.server[v] - (own[v] - ph.own[v])
		if v == "GET" {
			d-- // the scrape that read these totals
		}
		if d <= 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.0f", v, d))
		switch v {
		case "POST", "PUT", "PATCH", "APPLY", "DELETE", "CREATE", "UPDATE":
			writes += d
		}
	}
	fmt.Printf("  operator requests: %s; writes %.0f (%.1f per registry)\n", strings.Join(parts, ", "), writes, writes/float64(n))
}
