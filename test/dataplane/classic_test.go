package dataplane

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
)

// TestDockerAuthClassicConfig runs docker_auth's classic example config as
// it is (admin/badmin with "*", test/123 with pull; no token key, so the
// serving key signs, as docker_auth does), changing only the address and the
// certificate paths; the registry trusts the serving CA as its bundle.
func TestDockerAuthClassicConfig(t *testing.T) {
	classic, err := os.ReadFile(filepath.Join(repoRoot, "internal/authconfig/testdata/docker_auth_example.yml"))
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, frontDoor, func(t testing.TB, s *stack) {
		y := strings.NewReplacer(
			`":5001"`, `"`+s.env.Config.Server.Addr+`"`,
			"/path/to/server.pem", s.env.Config.Server.Certificate,
			"/path/to/server.key", s.env.Config.Server.Key,
		).Replace(string(classic))
		key, err := os.ReadFile(s.env.RefreshKeyPath())
		if err != nil {
			t.Fatal(err)
		}
		if err := authtest.WriteSecretDir(s.env.ConfigDir, map[string][]byte{authconfig.ConfigFile: []byte(y), authconfig.RefreshKeyFile: key}); err != nil {
			t.Fatal(err)
		}
		s.bundle, s.issuer = s.env.ServingCAFile(), "Acme auth server"
	})
	admin := s.crane("admin", "badmin")
	want, err := admin.push(t, "library/app", "v1")
	if err != nil {
		t.Fatalf("admin push: %v", err)
	}
	if got, err := s.crane("test", "123").pull("library/app", "v1"); err != nil || got != want {
		t.Errorf("test pull: %v %v", got, err)
	}
	_, err = s.crane("test", "123").push(t, "library/app", "v2")
	wantDenied(t, "test push", err)
	_, err = s.crane("", "").pull("library/app", "v1")
	wantDenied(t, "anonymous pull (no \"\" user in the classic config)", err)
	if n := s.metric(t, "registry_auth_config_unsupported_keys"); n != 0 {
		t.Errorf("the classic config reported %v unsupported keys", n)
	}
}
