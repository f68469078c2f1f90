package authserver

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// TestDrainOnShutdown: a request in flight when shutdown begins completes;
// readiness turns false at once; Serve returns cleanly.
func TestDrainOnShutdown(t *testing.T) {
	up, upSrv := newUpstream(t)
	ts := newTestServer(t, classic, func(o *Options) { o.Upstream = upSrv.URL })
	base, client, stop := ts.serve(t)

	resp, err := client.Get(base + "/v2/repo/blobs/slow")
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	eventually(t, "readyz reports draining", func() bool {
		r, err := http.Get("http://" + ts.MonitorAddr() + "/readyz")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == http.StatusServiceUnavailable
	})
	select {
	case err := <-stopped:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(up.release)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "firstend" {
		t.Errorf("in-flight download: %q %v", body, err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
