package authserver

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMaintenanceGate: with the marker absent every method passes; with it
// present reads pass and writes get 503, Retry-After and the marker's first
// line (control characters dropped) as the reason. The upstream here is a
// stand-in handler; test/dataplane runs the real registry behind it.
func TestMaintenanceGate(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "gc")
	m := newMaintenance(marker, 1500*time.Millisecond, prometheus.NewRegistry())
	upstream := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := m.gate(upstream)
	do := func(method string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "/v2/app/blobs/uploads/", nil))
		return rec
	}
	for _, method := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
		if c := do(method).Code; c != http.StatusTeapot {
			t.Errorf("no marker: %s got %d, want it proxied", method, c)
		}
	}
	if err := os.WriteFile(marker, []byte("garbage collection\x1b[31m is running\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"GET", "HEAD", "OPTIONS"} {
		if c := do(method).Code; c != http.StatusTeapot {
			t.Errorf("marker: %s got %d, want it proxied", method, c)
		}
	}
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		rec := do(method)
		body := rec.Body.String()
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "2" ||
			!strings.Contains(body, "garbage collection[31m is running: writes are paused") || strings.Contains(body, "second line") {
			t.Errorf("marker: %s got %d, Retry-After %q, body %s", method, rec.Code, rec.Header().Get("Retry-After"), body)
		}
	}
	if m.inflight.Load() != 0 {
		t.Errorf("in-flight writes not released: %d", m.inflight.Load())
	}
	// A marker that cannot be read counts as on (fail closed).
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(marker, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, on := m.state(); !on {
		t.Error("an unreadable marker must count as maintenance on")
	}
	if _, on := (*maintenance)(nil).state(); on {
		t.Error("no maintenance file configured must be off")
	}
}
