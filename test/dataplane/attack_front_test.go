package dataplane

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAttackHostOutsideCertificate: a Host the serving certificate does not
// cover gets 421, so no challenge ever names a realm the client did not
// verify; the allowed names follow a live certificate renewal.
func TestAttackHostOutsideCertificate(t *testing.T) {
	s := newStack(t, frontDoor)
	c := s.from(attackerAddr)
	get := func(host, path string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, "https://"+s.host+path, nil)
		req.Host = host
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	_, port, _ := net.SplitHostPort(s.host)
	for _, path := range []string{"/v2/", "/auth/token?service=" + service} {
		if r := get("evil.example:"+port, path); r.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("Host evil.example on %s: %s (challenge %q), want 421", path, r.Status, r.Header.Get("WWW-Authenticate"))
		}
	}
	r := get("localhost:"+port, "/v2/")
	if want := `realm="https://localhost:` + port + `/auth/token"`; r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), want) {
		t.Errorf("Host localhost: %s %q, want 401 with %s", r.Status, r.Header.Get("WWW-Authenticate"), want)
	}
	if err := s.env.RotateServingFor("localhost", "127.0.0.1", "renamed.example"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a name added by renewal to be served", func() bool {
		return get("renamed.example:"+port, "/v2/").StatusCode == http.StatusUnauthorized
	})
}

// TestAttackTLSNoCBC: TLS 1.2 offers forward-secret AEAD suites only.
func TestAttackTLSNoCBC(t *testing.T) {
	s := newStack(t, frontDoor)
	cbc := []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	}
	dial := func(suites []uint16) error {
		cfg := s.tls.Clone()
		cfg.MaxVersion, cfg.CipherSuites = tls.VersionTLS12, suites
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.host, cfg)
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(cbc); err == nil {
		t.Error("a TLS 1.2 client offering only CBC-SHA1 suites was served")
	}
	if err := dial([]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}); err != nil {
		t.Errorf("TLS 1.2 with AES-GCM: %v", err)
	}
}

// TestAttackMetricLabels: invented HTTP methods do not become metric labels.
func TestAttackMetricLabels(t *testing.T) {
	s := newStack(t, frontDoor)
	c := s.from(attackerAddr)
	method := "INVENTED" + strings.Repeat("X", 200)
	for _, path := range []string{"/auth/token", "/v2/"} {
		for i := range 20 {
			req, _ := http.NewRequest(method+string(rune('A'+i)), "https://"+s.host+path, nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	resp, err := http.Get("http://" + s.monitor + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "INVENTED") {
		t.Errorf("an invented method became a label value; /metrics is %d bytes", len(body))
	}
	for _, series := range []string{`registry_auth_token_request_duration_seconds_count{code="405",method="other"}`, `registry_auth_proxy_request_duration_seconds_count{code="401",method="other"}`} {
		if !strings.Contains(string(body), series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}
