package authserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync/atomic"
	"time"

	authnclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
)

// Options are the auth-server flags.
type Options struct {
	ConfigPath      string        // docker_auth-compatible YAML
	RefreshKeyPath  string        // key signing refresh tokens; "" = random per process
	Upstream        string        // registry URL, e.g. http://127.0.0.1:5001; "" = token endpoint only
	MonitoringAddr  string        // /healthz, /readyz, /metrics
	ReloadInterval  time.Duration // how often the files are checked for changes
	DrainTimeout    time.Duration // how long in-flight requests may finish on shutdown
	IdleTimeout     time.Duration // a proxied transfer with no bytes for this long is cut
	CacheTTL        time.Duration // how long a verified password is remembered
	RefreshTokenTTL time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For is believed (an
	// ingress controller, a load balancer); empty trusts none.
	TrustedProxies []netip.Prefix
	// MaxConnsPerClient caps the open connections of one client address
	// (IPv6: one /64); trusted proxies are exempt; 0 means no cap.
	MaxConnsPerClient int
	// BcryptCost is the one bcrypt cost users' hashes may have (0 means
	// DefaultBcryptCost); see costPolicy in state.go.
	BcryptCost int
	// MaintenanceFile, while it exists, makes the front door refuse writes
	// (maintenance.go); MaintenanceRetryAfter is what clients are told.
	MaintenanceFile       string
	MaintenanceRetryAfter time.Duration
	// StorageDir, when set, is the registry's storage, mounted read-only:
	// /metrics reports its filesystem's usage (storage.go).
	StorageDir string
	Logger     *slog.Logger
	// TokenReviews checks this cluster's ServiceAccount tokens for a
	// kubernetes identity; nil means the Pod's in-cluster credentials.
	TokenReviews authnclient.TokenReviewInterface
}

// Bounds on the front door's connections. Headers must arrive within
// headerTimeout (this also bounds the TLS handshake); the rest of a request
// (a token request's form body) within requestReadTimeout, and its answer
// must be taken within requestWriteTimeout; a kept-alive connection may idle
// idleTimeout. Proxied requests replace the last two by their own: no
// overall limit (a blob upload takes as long as it takes), but cut after
// --proxy-idle-timeout without a byte.
const (
	headerTimeout       = 10 * time.Second
	requestReadTimeout  = 10 * time.Second
	requestWriteTimeout = 20 * time.Second
	idleTimeout         = 90 * time.Second
)

// tlsCipherSuites are the TLS 1.2 suites offered: forward secret AEADs
// only, no CBC, no SHA-1 MAC (TLS 1.3 suites are not configurable and all
// qualify). Both ECDSA and RSA forms: the serving key may be either.
var tlsCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// Server is the token server and front door.
type Server struct {
	opts        Options
	log, audit  *slog.Logger
	metrics     *metrics
	cache       *verifyCache
	limiter     *failLimiter
	state       atomic.Pointer[state]
	fallbackKey []byte
	upstream    *url.URL
	proxy       http.Handler
	draining    atomic.Bool
	probe       *http.Client
	maint       *maintenance
	identities  identityHolder

	front, monitor     *http.Server
	frontLn, monitorLn net.Listener
}

// New loads the files once; a config that does not load is fatal at start
// (later, on reload, it is rejected and the last good one keeps serving).
func New(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BcryptCost == 0 {
		o.BcryptCost = DefaultBcryptCost
	}
	s := &Server{
		opts:        o,
		log:         o.Logger,
		audit:       o.Logger.With("log", "audit"),
		metrics:     newMetrics(),
		cache:       newVerifyCache(o.CacheTTL, 50000),
		limiter:     newFailLimiter(defaultClientLimit, defaultUserClientLimit, 100000),
		fallbackKey: randomBytes(32),
	}
	s.maint = newMaintenance(o.MaintenanceFile, o.MaintenanceRetryAfter, s.metrics.registry)
	if o.StorageDir != "" {
		s.metrics.registry.MustRegister(newStorageCollector(o.StorageDir))
	}
	if o.RefreshKeyPath == "" {
		s.log.Warn("no --refresh-key-file: refresh tokens are signed with a per-process key and do not survive a restart or work across replicas")
	}
	st, err := loadState(o.ConfigPath, o.RefreshKeyPath, s.fallbackKey, o.BcryptCost)
	if err != nil {
		return nil, err
	}
	s.install(st)
	if o.Upstream != "" {
		u, err := url.Parse(o.Upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--upstream %q: want http://host:port", o.Upstream)
		}
		s.upstream = u
		s.proxy = s.newProxy(u)
		s.probe = &http.Client{Timeout: 2 * time.Second}
	}
	return s, nil
}

// install makes st the state every new request sees.
func (s *Server) install(st *state) {
	s.state.Store(st)
	s.cache.clear()
	s.metrics.configOK.Set(1)
	s.metrics.unsupported.Set(float64(len(st.unsupported)))
	for _, k := range st.unsupported {
		s.log.Warn("config key not implemented by this server; ignored", "key", k)
	}
	s.metrics.refused.Set(float64(len(st.refused)))
	for _, u := range st.refused {
		s.log.Warn("user refused: the password hash's bcrypt cost differs from --bcrypt-cost; re-hash it at that cost",
			"user", u, "bcrypt_cost", s.opts.BcryptCost)
	}
}

// Handler is the front door: the token endpoint, and the registry behind
// it, for the names the serving certificate covers.
func (s *Server) Handler() http.Handler {
	return bounded(s.onlyServedNames(s.routes()))
}

// bounded gives every request deadlines of its own. net/http has no
// per-request deadline after the headers (its ReadTimeout and WriteTimeout
// would also cut the proxy's long transfers), so without this a body that
// never arrives, or an answer never read, holds the connection forever;
// and a deadline left on a kept-alive connection by an earlier request
// could cut a later one.
func bounded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		_ = rc.SetReadDeadline(now.Add(requestReadTimeout)) // not every ResponseWriter supports deadlines
		_ = rc.SetWriteDeadline(now.Add(requestWriteTimeout))
		next.ServeHTTP(w, r)
	})
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/auth", s.serveToken)
	mux.HandleFunc("/auth/token", s.serveToken)
	if s.proxy != nil {
		mux.Handle("/", s.maint.gate(s.proxy))
	} else {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "invalid_request", "only /auth and /auth/token are served here")
		})
	}
	return mux
}

// Listen binds the front door (server.addr from the config) and the
// monitoring port.
func (s *Server) Listen() error {
	addr := s.state.Load().addr
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("front door: %w", err)
	}
	mln, err := net.Listen("tcp", s.opts.MonitoringAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("monitoring: %w", err)
	}
	s.frontLn, s.monitorLn = newConnLimitListener(ln, s.opts.MaxConnsPerClient, s.trusted, s.metrics.connsRefused.Inc), mln
	return nil
}

// FrontAddr and MonitorAddr are the bound addresses (after Listen).
func (s *Server) FrontAddr() string   { return s.frontLn.Addr().String() }
func (s *Server) MonitorAddr() string { return s.monitorLn.Addr().String() }

// Serve runs until ctx ends, then stops taking connections and lets
// in-flight requests finish (up to DrainTimeout).
func (s *Server) Serve(ctx context.Context) error {
	tlsCfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: tlsCipherSuites,
		NextProtos:   []string{"h2", "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.state.Load().serving, nil
		},
	}
	s.front = &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: headerTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.monitor = &http.Server{Handler: s.MonitoringHandler(), ReadHeaderTimeout: 10 * time.Second}

	errc := make(chan error, 2)
	go func() { errc <- s.front.ServeTLS(s.frontLn, "", "") }()
	go func() { errc <- s.monitor.Serve(s.monitorLn) }()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go s.watch(watchCtx)
	s.log.Info("serving", "front_door", s.FrontAddr(), "monitoring", s.MonitorAddr(), "upstream", s.opts.Upstream)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.log.Info("draining in-flight requests", "timeout", s.opts.DrainTimeout)
	dctx, cancel := context.WithTimeout(context.Background(), s.opts.DrainTimeout)
	defer cancel()
	err := s.front.Shutdown(dctx)
	if err != nil {
		s.log.Warn("drain timed out; closing remaining connections", "error", err)
		s.front.Close()
	}
	_ = s.monitor.Shutdown(dctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil // the drain timeout is the operator's choice, not a failure
	}
	return err
}

// Run is Listen then Serve.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	return s.Serve(ctx)
}
