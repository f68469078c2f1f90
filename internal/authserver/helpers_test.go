package authserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/registry/auth/token"
	"github.com/go-jose/go-jose/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
)

const testService = "registry.test"

// classic is docker_auth's classic example plus a namespace rule.
var classic = authtest.Options{
	Users: map[string]authtest.User{
		"admin": {Password: "badmin"},
		"test":  {Password: "123"},
		"alice": {Password: "wonderland", Labels: map[string][]string{"team": {"red"}}},
	},
	ACL: `
- match: {account: "admin"}
  actions: ["*"]
- match: {account: "test"}
  actions: ["pull"]
- match: {account: "/.+/", name: "${account}/*"}
  actions: [pull, push]
- match: {name: "teams/${labels:team}/*"}
  actions: [pull, push]
`,
}

type testServer struct {
	*Server
	env  *authtest.Env
	logs *syncBuffer
}

func newTestServer(t testing.TB, o authtest.Options, mods ...func(*Options)) *testServer {
	t.Helper()
	env, err := authtest.NewEnv(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	opts := Options{
		ConfigPath: env.ConfigPath(), RefreshKeyPath: env.RefreshKeyPath(), MonitoringAddr: "127.0.0.1:0",
		ReloadInterval: 50 * time.Millisecond, DrainTimeout: 5 * time.Second, IdleTimeout: time.Minute,
		CacheTTL: time.Minute, RefreshTokenTTL: time.Hour,
		BcryptCost: 5, // authtest's default: the tests' users are hashed at it
		Logger:     slog.New(slog.NewJSONHandler(logs, nil)),
	}
	for _, m := range mods {
		m(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{Server: s, env: env, logs: logs}
}

// get sends GET /auth/token with query q and optional Basic credentials.
func (ts *testServer) get(q url.Values, user, pass string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "https://localhost/auth/token?"+q.Encode(), nil)
	if user != "" || pass != "" {
		r.SetBasicAuth(user, pass)
	}
	w := httptest.NewRecorder()
	ts.Handler().ServeHTTP(w, r)
	return w
}

func (ts *testServer) post(form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "https://localhost/auth", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	ts.Handler().ServeHTTP(w, r)
	return w
}

func scopeQuery(scopes ...string) url.Values {
	return url.Values{"service": {testService}, "scope": scopes}
}

func decodeToken(t *testing.T, w *httptest.ResponseRecorder) tokenResponse {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

// verify checks raw with distribution v3's own token verifier, trusting only
// the token CA, and returns the claims.
func (ts *testServer) verify(t *testing.T, raw string) *token.ClaimSet {
	t.Helper()
	tok, err := token.NewToken(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatalf("distribution cannot parse the token: %v", err)
	}
	claims, err := tok.Verify(token.VerifyOptions{
		TrustedIssuers:    []string{ts.env.Config.Token.Issuer},
		AcceptedAudiences: []string{testService},
		Roots:             authtest.Pool(ts.env.TokenCA),
	})
	if err != nil {
		t.Fatalf("distribution rejects the token: %v", err)
	}
	return claims
}

// access renders the access claim as "type:name:a,b" strings.
func access(c *token.ClaimSet) []string {
	var out []string
	for _, a := range c.Access {
		out = append(out, a.Type+":"+a.Name+":"+strings.Join(a.Actions, ","))
	}
	return out
}

func metricValue(t *testing.T, ts *testServer, name string, labels ...string) float64 {
	t.Helper()
	var v float64
	switch name {
	case "denied":
		v = testutil.ToFloat64(ts.metrics.denied.WithLabelValues(labels...))
	case "issued":
		v = testutil.ToFloat64(ts.metrics.tokensIssued.WithLabelValues(labels...))
	case "cache":
		v = testutil.ToFloat64(ts.metrics.cacheLookups.WithLabelValues(labels...))
	case "reloads":
		v = testutil.ToFloat64(ts.metrics.reloads.WithLabelValues(labels...))
	case "limited":
		v = testutil.ToFloat64(ts.metrics.rateLimited.WithLabelValues(labels...))
	default:
		t.Fatalf("unknown metric %s", name)
	}
	return v
}

// syncBuffer collects the server's logs from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve runs ts on loopback until the test ends (or stop is called) and
// returns the front door's base URL and an HTTPS client that trusts it.
func (ts *testServer) serve(t *testing.T) (base string, client *http.Client, stop func() error) {
	t.Helper()
	if err := ts.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.Serve(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	_, port, _ := net.SplitHostPort(ts.FrontAddr())
	return "https://localhost:" + port, ts.client(), stop
}

func (ts *testServer) client() *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: authtest.Pool(ts.env.ServingCA)},
		ForceAttemptHTTP2: true,
	}}
}

// eventually waits up to 10s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	authtest.Eventually(t, 10*time.Second, what, cond)
}
