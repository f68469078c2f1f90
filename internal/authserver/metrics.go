package authserver

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are served on the monitoring port. Label values are small fixed
// sets: never a user name, a repository or an address.
type metrics struct {
	registry       *prometheus.Registry
	tokensIssued   *prometheus.CounterVec   // grant: basic, anonymous, password, refresh_token
	denied         *prometheus.CounterVec   // reason
	requestSeconds *prometheus.HistogramVec // token endpoint: method, code
	proxySeconds   *prometheus.HistogramVec // proxied requests: method, code
	proxyBytes     *prometheus.CounterVec   // direction: in (client to registry), out
	reloads        *prometheus.CounterVec   // result: success, failure
	configOK       prometheus.Gauge         // 1 while the last reload attempt succeeded
	unsupported    prometheus.Gauge         // config keys present but not implemented
	rateLimited    *prometheus.CounterVec   // limit: client, user
	cacheLookups   *prometheus.CounterVec   // result: hit, miss
	refused        prometheus.Gauge         // users whose hash cost differs from the policy
	connsRefused   prometheus.Counter       // connections over the per-client cap
}

// methodLabel maps an HTTP method to a fixed set: a client may send any
// token as a method, and a label value made from it would grow /metrics
// (and the server's memory) with every new one.
func methodLabel(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m
	}
	return "other"
}

// codeLabel keeps status labels to the three-digit codes HTTP defines.
func codeLabel(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code)
}

func newMetrics() *metrics {
	const ns = "registry_auth"
	m := &metrics{
		registry: prometheus.NewRegistry(),
		tokensIssued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "tokens_issued_total", Help: "Access tokens issued, by how the client authenticated.",
		}, []string{"grant"}),
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "denied_total", Help: "Token requests refused, and scopes granted nothing, by reason.",
		}, []string{"reason"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "token_request_duration_seconds", Help: "Latency of token endpoint requests.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "code"}),
		proxySeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "proxy_request_duration_seconds", Help: "Latency of requests proxied to the registry, to the end of the response body.",
			Buckets: prometheus.ExponentialBuckets(.001, 4, 10),
		}, []string{"method", "code"}),
		proxyBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "proxy_bytes_total", Help: "Body bytes proxied: in = client to registry, out = registry to client.",
		}, []string{"direction"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "config_reloads_total", Help: "Attempts to load changed config, certificate or key files.",
		}, []string{"result"}),
		configOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "config_last_reload_successful", Help: "1 if the last load of the files succeeded; 0 if the server keeps serving an older config.",
		}),
		unsupported: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "config_unsupported_keys", Help: "Keys in the config that this server does not implement (logged at load).",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "rate_limited_total", Help: "Token requests refused with 429 after repeated failures, by the limit hit.",
		}, []string{"limit"}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "credential_cache_lookups_total", Help: "Password checks answered from the verification cache (hit) or by bcrypt (miss).",
		}, []string{"result"}),
		refused: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "config_users_refused", Help: "Users that cannot log in because their bcrypt cost differs from --bcrypt-cost (named in the log).",
		}),
		connsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "connections_refused_total", Help: "Connections closed at accept because their client address already held --max-conns-per-client.",
		}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.tokensIssued, m.denied, m.requestSeconds, m.proxySeconds, m.proxyBytes,
		m.reloads, m.configOK, m.unsupported, m.rateLimited, m.cacheLookups,
		m.refused, m.connsRefused,
	)
	return m
}
