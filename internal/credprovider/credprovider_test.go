package credprovider

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	cpv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"

	"github.com/registry-auth-operator/registry-auth-operator/internal/identity/identitytest"
)

func request(image, token string) string {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderRequest",
		"image": image, "serviceAccountToken": token,
	})
	return string(b)
}

func TestRespondReturnsThePodsToken(t *testing.T) {
	now := time.Now()
	token := identitytest.SignWith(t, identitytest.NewKey(t), "k", map[string]any{"exp": now.Add(10 * time.Minute).Unix(), "aud": "acme.registry"})
	var out bytes.Buffer
	if err := Respond(strings.NewReader(request("10.96.12.34:5000/team-a/app:1", token)), &out, DefaultUsername, now); err != nil {
		t.Fatal(err)
	}
	var resp cpv1.CredentialProviderResponse
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.APIVersion != "credentialprovider.kubelet.k8s.io/v1" || resp.Kind != "CredentialProviderResponse" || resp.CacheKeyType != cpv1.RegistryPluginCacheKeyType {
		t.Fatalf("response header: %+v", resp)
	}
	if a, ok := resp.Auth["10.96.12.34:5000"]; !ok || a.Username != "serviceaccount" || a.Password != token || len(resp.Auth) != 1 {
		t.Fatalf("auth = %+v", resp.Auth)
	}
	// Cached no longer than the token lives, less the margin.
	if d := resp.CacheDuration.Duration; d > 10*time.Minute-expiryMargin || d < 9*time.Minute {
		t.Fatalf("cacheDuration = %v", d)
	}
}

func TestRespondRefuses(t *testing.T) {
	now := time.Now()
	token := identitytest.SignWith(t, identitytest.NewKey(t), "k", map[string]any{"exp": now.Add(time.Minute).Unix()})
	for name, tc := range map[string]struct{ in, want string }{
		"no token":         {request("registry.example:5000/a:1", ""), "no serviceAccountToken"},
		"no registry host": {request("library/busybox:1", token), "names no registry host"},
		"docker hub short": {request("busybox", token), "names no registry host"},
		"old api version":  {strings.Replace(request("r.example/a", token), "/v1", "/v1alpha1", 1), "want credentialprovider.kubelet.k8s.io/v1"},
		"not JSON":         {"hello", "reading the CredentialProviderRequest"},
		"another kind":     {strings.Replace(request("r.example/a", token), "CredentialProviderRequest", "Pod", 1), "want credentialprovider.kubelet.k8s.io/v1 CredentialProviderRequest"},
	} {
		var out bytes.Buffer
		err := Respond(strings.NewReader(tc.in), &out, DefaultUsername, now)
		if err == nil || !strings.Contains(err.Error(), tc.want) || out.Len() != 0 {
			t.Errorf("%s: err = %v, out = %q; want %q", name, err, out.String(), tc.want)
		}
	}
	// A long-lived token: cached an hour at most.
	long := identitytest.SignWith(t, identitytest.NewKey(t), "k", map[string]any{"exp": now.Add(48 * time.Hour).Unix()})
	var lout bytes.Buffer
	if err := Respond(strings.NewReader(request("r.example/a", long)), &lout, "x", now); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lout.String(), `"cacheDuration":"1h0m0s"`) {
		t.Fatalf("long-lived token: %s", lout.String())
	}
	// An expired token: passed on, but never cached.
	old := identitytest.SignWith(t, identitytest.NewKey(t), "k", map[string]any{"exp": now.Add(-time.Minute).Unix()})
	var out bytes.Buffer
	if err := Respond(strings.NewReader(request("r.example/a", old)), &out, "x", now); err != nil {
		t.Fatal(err)
	}
	var resp cpv1.CredentialProviderResponse
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil || resp.CacheDuration == nil || resp.CacheDuration.Duration != 0 {
		t.Fatalf("expired token cached: %+v %v", resp.CacheDuration, err)
	}
}
