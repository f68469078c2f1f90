package authserver

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Maintenance mode: while a marker file exists, the front door refuses every
// write it would proxy to the registry (503 + Retry-After, a body saying
// why) and passes reads through. It is the window in which distribution's
// offline garbage collector runs safely against live storage: nothing is
// written while it marks and sweeps, and no pull fails.
//
// The marker is a file, not a flag or an API call, so every replica sees the
// same switch: the operator mounts one ConfigMap key (optional, so absent
// means off) into every pod, and a test or an admin can create it by hand.
// Its content, if any, is the reason shown to clients (e.g. "garbage
// collection is running").
//
// Writes already proxied when the marker appears are counted: the
// collector may start once every front door reports maintenance on and no
// write in flight (GET /maintenance on the monitoring port). A write is
// counted before the marker is checked, so once a front door reports
// {on, 0 in flight}, no write can reach the registry until the marker goes.

const (
	maxMarkerBytes        = 512
	defaultMaintenanceMsg = "the registry is in maintenance"
	// DefaultMaintenanceRetryAfter is what clients are told to wait.
	DefaultMaintenanceRetryAfter = 30 * time.Second
)

type maintenance struct {
	path       string
	retryAfter time.Duration
	inflight   atomic.Int64
	refused    prometheus.Counter
}

func newMaintenance(path string, retryAfter time.Duration, reg *prometheus.Registry) *maintenance {
	if retryAfter <= 0 {
		retryAfter = DefaultMaintenanceRetryAfter
	}
	m := &maintenance{path: path, retryAfter: retryAfter,
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "registry_auth", Name: "maintenance_refused_writes_total",
			Help: "Writes refused with 503 because maintenance mode (garbage collection) was on.",
		})}
	reg.MustRegister(m.refused,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "registry_auth", Name: "maintenance",
			Help: "1 while the maintenance marker is present (writes refused), else 0.",
		}, func() float64 {
			if _, on := m.state(); on {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "registry_auth", Name: "inflight_writes",
			Help: "Writes being proxied to the registry now.",
		}, func() float64 { return float64(m.inflight.Load()) }))
	return m
}

// state reads the marker: present means on; its first line is the reason.
// An unreadable marker (other than absent) counts as on: failing closed
// only delays pushes, failing open could corrupt the collector's view.
func (m *maintenance) state() (reason string, on bool) {
	if m == nil || m.path == "" {
		return "", false
	}
	f, err := os.Open(m.path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	if err != nil {
		return defaultMaintenanceMsg, true
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, maxMarkerBytes))
	reason, _, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
	if reason = strings.Map(printable, strings.TrimSpace(reason)); reason == "" {
		reason = defaultMaintenanceMsg
	}
	return reason, true
}

// printable drops control characters from the reason a client will see.
func printable(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return -1
	}
	return r
}

func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// gate wraps the proxy: reads pass, writes pass unless the marker is there.
func (m *maintenance) gate(next http.Handler) http.Handler {
	if m == nil || m.path == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWrite(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		m.inflight.Add(1)
		defer m.inflight.Add(-1)
		if reason, on := m.state(); on {
			m.refused.Inc()
			secs := strconv.FormatInt(int64((m.retryAfter+time.Second-1)/time.Second), 10)
			w.Header().Set("Retry-After", secs)
			msg := reason + ": writes are paused, pulls continue; retry after " + secs + "s"
			writeJSON(w, http.StatusServiceUnavailable, errorBody{
				Errors: []errorEntry{{Code: "UNAVAILABLE", Message: msg}}, Error: "temporarily_unavailable", ErrorDescription: msg,
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// maintenanceStatus is what GET /maintenance on the monitoring port says:
// the orchestrator starts the collector once every replica reports
// {"on":true,"inflightWrites":0}.
type maintenanceStatus struct {
	On             bool   `json:"on"`
	Reason         string `json:"reason,omitempty"`
	InflightWrites int64  `json:"inflightWrites"`
}

func (m *maintenance) serveStatus(w http.ResponseWriter, _ *http.Request) {
	reason, on := m.state()
	st := maintenanceStatus{On: on, Reason: reason, InflightWrites: m.inflight.Load()}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st)
}
