package dataplane

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
)

const (
	service = "registry.dataplane.test"
	issuer  = "dataplane-issuer"
)

// layout is how registry and auth-server are wired.
type layout int

const (
	// frontDoor: the auth-server terminates TLS, serves /auth/token and
	// proxies the rest to a plain-HTTP registry v3 using autoredirect: the
	// builtin provider's layout.
	frontDoor layout = iota
	// staticRealm: registry v3 serves TLS itself; its static realm points at
	// an auth-server in token-only mode (split ports).
	staticRealm
	// registry28: Debian's registry 2.8 behind the front door with a static
	// realm (2.8 has no autoredirect), verifying the same tokens.
	registry28
	// direct: registry v3 serving TLS itself with no auth at all, and no
	// auth-server: the baseline of the proxy benchmark.
	direct
)

func (l layout) String() string {
	return [...]string{"front-door", "static-realm", "registry-2.8", "direct"}[l]
}

// users and acl are the accounts every data-plane test may use.
var users = map[string]authtest.User{
	"admin":  {Password: "badmin"},
	"puller": {Password: "pull-only-pass"},
	"alice":  {Password: "alice-pass"},
	"carol":  {Password: "carol-pass", Labels: map[string][]string{"team": {"red"}}},
	"":       {}, // anonymous: allowed in, the ACL says what it may do
}

const acl = `
- match: {account: "admin"}
  actions: ["*"]
- match: {account: "puller"}
  actions: ["pull"]
- match: {account: "/.+/", name: "${account}/*"}
  actions: [pull, push]
- match: {name: "teams/${labels:team}/*"}
  actions: [pull, push]
- match: {account: "", name: "public/*"}
  actions: [pull]
`

type stack struct {
	env      *authtest.Env
	auth     *proc
	registry *proc
	host     string // host:port clients pull from
	authBase string // https://host:port of the token endpoint
	monitor  string // auth-server monitoring host:port
	tls      *tls.Config
	bundle   string // the registry's rootcertbundle
	issuer   string // the registry's auth.token.issuer
	authArgs []string
	extra    []string // more auth-server flags, set by a mod
	// storage replaces the registry's filesystem storage, with regEnv
	// (e.g. S3 credentials) in its environment; set by a mod (s3gc_test.go).
	storage map[string]any
	regEnv  []string
}

func newStack(t testing.TB, l layout, mods ...func(testing.TB, *stack)) *stack {
	t.Helper()
	return newStackOn(t, l, "127.0.0.1", mods...)
}

// newStackOn serves clients on ip (the registry and the monitoring port stay
// on 127.0.0.1, as inside a pod).
// Each mod may change the stack's files after they are written and before
// any process starts.
func newStackOn(t testing.TB, l layout, ip string, mods ...func(testing.TB, *stack)) *stack {
	t.Helper()
	authPort, monPort, regPort := freePortOn(t, ip), freePort(t), freePort(t)
	front := net.JoinHostPort(ip, itoa(authPort))
	o := authtest.Options{Addr: front, Issuer: issuer, Users: users, ACL: acl, Expiration: 300,
		Hosts: []string{"localhost", "127.0.0.1", ip}}
	env, err := authtest.NewEnv(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{env: env, authBase: "https://" + front, monitor: hostPort(monPort),
		tls: &tls.Config{RootCAs: authtest.Pool(env.ServingCA)}, bundle: env.TokenCABundle(), issuer: issuer}
	for _, m := range mods {
		m(t, s)
	}
	s.authArgs = []string{authBin,
		"--config=" + env.ConfigPath(), "--refresh-key-file=" + env.RefreshKeyPath(),
		"--monitoring-addr=" + s.monitor, "--reload-interval=200ms", "--drain-timeout=10s",
		"--bcrypt-cost=5"} // authtest hashes users at 5
	s.authArgs = append(s.authArgs, s.extra...)

	switch l {
	case frontDoor, registry28:
		s.host = front
		upstream := "http://" + hostPort(regPort)
		s.registry = s.startRegistry(t, l, hostPort(regPort), s.authBase+"/auth/token")
		waitHTTP(t, s.registry, upstream+"/v2/", nil, http.StatusUnauthorized)
		s.authArgs = append(s.authArgs, "--upstream="+upstream)
		s.startAuth(t)
	case direct:
		s.host = hostPort(regPort)
		s.registry = s.startRegistry(t, l, s.host, "")
		waitHTTP(t, s.registry, "https://"+s.host+"/v2/", s.tls, http.StatusOK)
	case staticRealm:
		if ip != "127.0.0.1" {
			t.Fatal("the static-realm layout is served on loopback only")
		}
		s.host = hostPort(regPort)
		s.startAuth(t)
		// The realm names the token server by DNS name: go-containerregistry
		// refuses a realm that is a loopback or private IP literal on another
		// host:port than the registry (a guard against SSRF). The front door
		// never meets this: its realm is always the registry's own host:port.
		s.registry = s.startRegistry(t, l, hostPort(regPort), "https://localhost:"+itoa(authPort)+"/auth")
		waitHTTP(t, s.registry, "https://"+s.host+"/v2/", s.tls, http.StatusUnauthorized)
	}
	return s
}

func (s *stack) startAuth(t testing.TB) {
	t.Helper()
	s.auth = start(t, "auth-server", nil, s.authArgs...)
	waitHTTP(t, s.auth, "http://"+s.monitor+"/readyz", nil, http.StatusOK)
}

// startRegistry writes the registry config the operator would render for
// layout l and starts the matching registry binary.
func (s *stack) startRegistry(t testing.TB, l layout, addr, realm string) *proc {
	t.Helper()
	dir := t.TempDir()
	token := map[string]any{
		"realm": realm, "service": service, "issuer": s.issuer,
		"rootcertbundle": s.bundle,
	}
	httpCfg := map[string]any{"addr": addr, "secret": "dataplane-http-secret", "relativeurls": true}
	if l == frontDoor {
		token["autoredirect"] = true
		token["autoredirectpath"] = "/auth/token"
	}
	if l == staticRealm || l == direct {
		httpCfg["tls"] = map[string]any{"certificate": s.env.Config.Server.Certificate, "key": s.env.Config.Server.Key}
	}
	cfg := map[string]any{
		"version": 0.1,
		"log":     map[string]any{"level": "info", "accesslog": map[string]any{"disabled": true}},
		"storage": map[string]any{"filesystem": map[string]any{"rootdirectory": filepath.Join(dir, "data")}, "delete": map[string]any{"enabled": true}},
		"http":    httpCfg,
	}
	if l != direct {
		cfg["auth"] = map[string]any{"token": token}
	}
	if s.storage != nil {
		cfg["storage"] = s.storage
	}
	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, y, 0o600); err != nil {
		t.Fatal(err)
	}
	if l == registry28 {
		return start(t, "registry-2.8", nil, need(t, "docker-registry"), "serve", path)
	}
	return start(t, "registry-v3", append([]string{"OTEL_TRACES_EXPORTER=none"}, s.regEnv...), registryBin, "serve", path)
}

// ref names a repository:tag on the stack's host.
func (s *stack) ref(repo, tag string) string { return s.host + "/" + repo + ":" + tag }

// metric reads one sample from the auth-server's /metrics.
func (s *stack) metric(t testing.TB, series string) float64 {
	t.Helper()
	return scrape(t, "http://"+s.monitor+"/metrics", series)
}

func itoa(i int) string { return strconv.Itoa(i) }
