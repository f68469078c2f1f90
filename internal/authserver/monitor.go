package authserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MonitoringHandler serves /healthz (the process answers), /readyz (a config
// is loaded, the server is not draining, and the registry answers, when there
// is one) and /metrics.
func (s *Server) MonitoringHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.ready(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/maintenance", s.maint.serveStatus)
	return mux
}

func (s *Server) ready(ctx context.Context) error {
	if s.state.Load() == nil {
		return fmt.Errorf("no config loaded")
	}
	if s.draining.Load() {
		return fmt.Errorf("shutting down")
	}
	if s.upstream == nil {
		return nil
	}
	// Any HTTP answer from /v2/ (401 included) means the registry is up.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.upstream.JoinPath("/v2/").String(), nil)
	if err != nil {
		return err
	}
	resp, err := s.probe.Do(req)
	if err != nil {
		return fmt.Errorf("registry at %s does not answer", s.upstream.Host)
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("registry at %s answers %d", s.upstream.Host, resp.StatusCode)
	}
	return nil
}
