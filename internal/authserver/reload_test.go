package authserver

import (
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
)

// TestLiveReload swaps the Secret volumes the way the kubelet does and checks
// that each change takes effect while the server keeps running.
func TestLiveReload(t *testing.T) {
	ts := newTestServer(t, classic)
	base, client, _ := ts.serve(t)
	login := func(user, pass string) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/auth/token?service="+testService, nil)
		req.SetBasicAuth(user, pass)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if login("test", "123") != 200 {
		t.Fatal("initial login failed")
	}

	// Password change: the new one works, the old one (cached!) stops working.
	if err := ts.env.SetPassword("test", "456", 5); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new password accepted", func() bool { return login("test", "456") == 200 })
	if got := login("test", "123"); got != 401 {
		t.Errorf("old password after change: %d", got)
	}

	// Signing key replaced: new tokens carry the new leaf and still verify.
	oldKid := ts.state.Load().signer.kid
	if err := ts.env.RotateSigning(authtest.EC256); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new signing key", func() bool { return ts.state.Load().signer.kid != oldKid })
	tr := decodeToken(t, ts.get(scopeQuery("repository:x:pull"), "admin", "badmin"))
	ts.verify(t, tr.Token)
	x5c0, _ := base64.StdEncoding.DecodeString(strings.SplitN(headerX5C(t, tr.Token), ",", 2)[0])
	if string(x5c0) != string(ts.env.Signing.Cert.Raw) {
		t.Error("token not signed by the new leaf")
	}

	// Serving certificate replaced: new connections see it.
	if err := ts.env.RotateServing(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new serving certificate", func() bool {
		conn, err := tls.Dial("tcp", ts.FrontAddr(), &tls.Config{RootCAs: authtest.Pool(ts.env.ServingCA), ServerName: "localhost"})
		if err != nil {
			return false
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Cmp(ts.env.Serving.Cert.SerialNumber) == 0
	})

	// A broken config is rejected; the last good one keeps serving.
	before := testutil.ToFloat64(ts.metrics.reloads.WithLabelValues("failure"))
	good, err := os.ReadFile(ts.env.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(good), "issuer: test-issuer", "issuer: \"\"", 1)
	key, _ := os.ReadFile(ts.env.RefreshKeyPath())
	if err := authtest.WriteSecretDir(ts.env.ConfigDir, map[string][]byte{authconfig.ConfigFile: []byte(bad), authconfig.RefreshKeyFile: key}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "broken config rejected", func() bool {
		return testutil.ToFloat64(ts.metrics.reloads.WithLabelValues("failure")) > before
	})
	if testutil.ToFloat64(ts.metrics.configOK) != 0 {
		t.Error("config_last_reload_successful should be 0")
	}
	if login("test", "456") != 200 || ts.state.Load().issuer != "test-issuer" {
		t.Error("the last good config stopped serving")
	}
	if !strings.Contains(ts.logs.String(), "token.issuer is required") {
		t.Error("the rejection was not logged with its reason")
	}
	// Fixed again: accepted.
	if err := ts.env.WriteConfig(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "fixed config accepted", func() bool { return testutil.ToFloat64(ts.metrics.configOK) == 1 })
}

func headerX5C(t *testing.T, raw string) string {
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	s := string(h)
	i := strings.Index(s, `"x5c":["`)
	if i < 0 {
		t.Fatalf("no x5c in %s", s)
	}
	s = s[i+len(`"x5c":["`):]
	return strings.ReplaceAll(s[:strings.Index(s, `"]`)], `"`, "")
}
