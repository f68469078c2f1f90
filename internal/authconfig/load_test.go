package authconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadDockerAuthExample(t *testing.T) {
	c, unsupported, err := Load("testdata/docker_auth_example.yml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(unsupported) != 0 {
		t.Errorf("unsupported keys in docker_auth's own example: %v", unsupported)
	}
	if c.Server.Addr != ":5001" || c.Token.Issuer != "Acme auth server" || c.Token.Expiration != 900 {
		t.Errorf("server/token parsed wrong: %+v %+v", c.Server, c.Token)
	}
	if c.Token.Certificate != "" {
		t.Errorf("token.certificate = %q, want empty (docker_auth falls back to the server's)", c.Token.Certificate)
	}
	if got := len(c.Users); got != 2 || c.Users["admin"] == nil || !strings.HasPrefix(c.Users["admin"].Password, "$2y$05$") {
		t.Errorf("users parsed wrong: %+v", c.Users)
	}
	if len(c.ACL) != 2 || *c.ACL[0].Match.Account != "admin" || !reflect.DeepEqual(c.ACL[0].Actions, []string{"*"}) ||
		!reflect.DeepEqual(c.ACL[1].Actions, []string{"pull"}) || c.ACL[1].Match.Name != nil {
		t.Errorf("acl parsed wrong: %+v", c.ACL)
	}
}

func TestLoadReportsUnsupportedKeys(t *testing.T) {
	c, unsupported, err := Load("testdata/unsupported.yml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []string{
		"acl[0].match.name: ${account:1}",
		"acl[0].priority",
		"ldap_auth",
		"server.hsts",
		"server.path_prefix",
		"users.admin.email",
	}
	if !reflect.DeepEqual(unsupported, want) {
		t.Errorf("unsupported = %q\nwant        %q", unsupported, want)
	}
	if !c.Token.DisableLegacyKeyID {
		t.Error("token.disable_legacy_key_id is a known key and should be parsed")
	}
}

func TestLoadRejects(t *testing.T) {
	base := func() string {
		b, err := os.ReadFile("testdata/docker_auth_example.yml")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}()
	cases := []struct {
		name, yaml, wantErr string
	}{
		{"empty", "", "config is empty"},
		{"not a mapping", "- a\n- b\n", "mapping at the top level"},
		{"bad yaml", "server: [\n", "not valid YAML"},
		{"wrong type", strings.Replace(base, "expiration: 900", "expiration: soon", 1), "token.expiration: expected int64, got string"},
		{"number password", strings.Replace(base, `"$2y$05$wg386rrYnW7mSNAteMvYkeiKBVeA7R9gOPVYBeE5BHAOEGrfedyPa"`, "918273645", 1), "users.password: expected string, got number"},
		{"no issuer", strings.Replace(base, `issuer: "Acme auth server"`, "", 1), "token.issuer is required"},
		{"zero expiration", strings.Replace(base, "expiration: 900", "expiration: 0", 1), "token.expiration must be a positive"},
		{"no addr", strings.Replace(base, `addr: ":5001"`, "", 1), "server.addr is required"},
		{"plaintext password", strings.Replace(base, "$2y$05$U5UfIUK6NmzOjCb1DbU1se6K55gRX5UEOwluOGaao7TU2zBk8bVaC", "badmin", 1), "users.admin.password is not a bcrypt hash"},
		{"user without password", strings.Replace(base, "users:\n", "users:\n  bob: {}\n", 1), "users.bob.password is required"},
		{"bad regex", strings.Replace(base, `account: "test"`, `account: "/(/"`, 1), "acl[1].match.account"},
		{"bad glob", strings.Replace(base, `account: "test"`, `account: "[a-"`, 1), "invalid glob"},
		{"bad ip", strings.Replace(base, `{account: "test"}`, `{ip: "10.0.0.0/33"}`, 1), "acl[1].match.ip"},
		{"half token pair", strings.Replace(base, "expiration: 900", "expiration: 900\n  key: /k.pem", 1), "token.certificate and token.key must be set together"},
		{"no signing key at all", strings.Replace(strings.Replace(base, `certificate: "/path/to/server.pem"`, "", 1), `key: "/path/to/server.key"`, "", 1), "token.certificate and token.key are required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse accepted it; want error containing %q", tc.wantErr)
			}
			if strings.Contains(err.Error(), "918273645") || strings.Contains(err.Error(), "badmin") {
				t.Errorf("error quotes a password: %q", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %q\nwant it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestAnonymousUserNeedsNoPassword(t *testing.T) {
	b, err := os.ReadFile("testdata/docker_auth_example.yml")
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(b), "users:\n", "users:\n  \"\": {}\n", 1)
	c, _, err := Parse([]byte(y))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if _, ok := c.Users[""]; !ok {
		t.Error("anonymous entry lost")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	c, _, err := Load("testdata/docker_auth_example.yml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	c2, unsupported, err := Parse(out)
	if err != nil || len(unsupported) != 0 {
		t.Fatalf("Parse(Marshal(c)) = %v, %v", unsupported, err)
	}
	if !reflect.DeepEqual(c, c2) {
		t.Errorf("round trip changed the config:\n%+v\n%+v", c, c2)
	}
}

func TestLoadMissingAndOversized(t *testing.T) {
	if _, _, err := Load(filepath.Join(t.TempDir(), "nope.yml")); err == nil || !strings.Contains(err.Error(), "reading config") {
		t.Errorf("missing file: err = %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.yml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxFileSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: err = %v", err)
	}
}
