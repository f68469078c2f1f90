package dataplane

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/registry/auth/token"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
)

// tokenHeader fetches a token as admin and returns its JOSE header.
func (s *stack) tokenHeader(t *testing.T) (kid, alg string) {
	t.Helper()
	q := url.Values{"service": {service}, "scope": {"repository:library/app:pull"}}
	req, _ := http.NewRequest(http.MethodGet, s.authBase+"/auth/token?"+q.Encode(), nil)
	req.SetBasicAuth("admin", "badmin")
	resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: s.tls.Clone()}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(body.Token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid, Alg string }
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid, h.Alg
}

// TestLiveReloadWithRegistry swaps the auth container's Secret volumes while
// a real registry keeps running (same process throughout).
func TestLiveReloadWithRegistry(t *testing.T) {
	s := newStack(t, frontDoor)
	admin := s.crane("admin", "badmin")
	want, err := admin.push(t, "library/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	registryPID := s.registry.cmd.Process.Pid

	// New signing leaves from the same token CA (EC, then RSA): new tokens
	// verify at once, with no registry change.
	for _, k := range []authtest.KeyKind{authtest.EC256, authtest.RSA2048} {
		if err := s.env.RotateSigning(k); err != nil {
			t.Fatal(err)
		}
		wantKid := token.GetJWKThumbprint(s.env.Signing.Cert.PublicKey)
		waitFor(t, "the new signing key", func() bool { kid, _ := s.tokenHeader(t); return kid == wantKid })
		if got, err := s.crane("admin", "badmin").pull("library/app", "v1"); err != nil || got != want {
			t.Errorf("pull with a token from the new key (%v): %v %v", k, got, err)
		}
	}
	if _, alg := s.tokenHeader(t); alg != "RS256" {
		t.Errorf("after rotating to RSA, alg = %s", alg)
	}

	// New serving certificate: new connections get it.
	if err := s.env.RotateServing(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new serving certificate", func() bool {
		c, err := tls.Dial("tcp", s.host, &tls.Config{RootCAs: s.tls.RootCAs})
		if err != nil {
			return false
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Equal(s.env.Serving.Cert)
	})

	// A broken config (an ACL regex that does not compile) is rejected and
	// the previous one keeps serving.
	good, _ := os.ReadFile(s.env.ConfigPath())
	key, _ := os.ReadFile(s.env.RefreshKeyPath())
	broken := strings.Replace(string(good), `account: admin`, `account: /admin(/`, 1)
	if broken == string(good) {
		t.Fatal("test setup: the admin rule was not found in the rendered config")
	}
	if err := authtest.WriteSecretDir(s.env.ConfigDir, map[string][]byte{authconfig.ConfigFile: []byte(broken), authconfig.RefreshKeyFile: key}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the broken config to be rejected", func() bool {
		return s.metric(t, `registry_auth_config_reloads_total{result="failure"}`) >= 1
	})
	if s.metric(t, "registry_auth_config_last_reload_successful") != 0 {
		t.Error("config_last_reload_successful should be 0 after a rejected config")
	}
	if got, err := s.crane("admin", "badmin").pull("library/app", "v1"); err != nil || got != want {
		t.Errorf("the last good config stopped serving: %v %v", got, err)
	}
	if !strings.Contains(tail(s.auth.log, 50), "rejected changed config") {
		t.Error("the rejection was not logged")
	}
	if s.registry.cmd.Process.Pid != registryPID || s.registry.exited() {
		t.Error("the registry restarted")
	}
}
