package dataplane

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
)

// fetchRefreshToken logs in the way docker login does: GET with Basic
// credentials and offline_token=true.
func (s *stack) fetchRefreshToken(t *testing.T, user, password string) string {
	t.Helper()
	q := url.Values{"service": {service}, "offline_token": {"true"}, "client_id": {"dataplane"}}
	req, _ := http.NewRequest(http.MethodGet, s.authBase+"/auth/token?"+q.Encode(), nil)
	req.SetBasicAuth(user, password)
	resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: s.tls.Clone()}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body.RefreshToken == "" {
		t.Fatalf("login for a refresh token: %d %v %+v", resp.StatusCode, err, body)
	}
	return body.RefreshToken
}

// TestRefreshTokenFlow: go-containerregistry given only an identity
// (refresh) token uses the OAuth2 refresh_token grant; the registry accepts
// the result; a password change revokes it.
func TestRefreshTokenFlow(t *testing.T) {
	s := newStack(t, frontDoor)
	rt := s.fetchRefreshToken(t, "alice", "alice-pass")
	withRefresh := &craneClient{s: s, auth: authn.FromConfig(authn.AuthConfig{IdentityToken: rt})}
	want, err := withRefresh.push(t, "alice/app", "v1")
	if err != nil {
		t.Fatalf("push with a refresh token: %v", err)
	}
	if got, err := withRefresh.pull("alice/app", "v1"); err != nil || got != want {
		t.Fatalf("pull with a refresh token: %v %v", got, err)
	}
	_, err = withRefresh.push(t, "carol/app", "v1")
	wantDenied(t, "refresh token used outside the ACL", err)
	if n := s.metric(t, `registry_auth_tokens_issued_total{grant="refresh_token"}`); n < 2 {
		t.Errorf("tokens issued for refresh_token grants: %v", n)
	}

	// The password changes (the operator rewrites the Secret): the refresh
	// token and the old password stop working, the new password works.
	if err := s.env.SetPassword("alice", "new-alice-pass", 5); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new password", func() bool {
		_, err := s.crane("alice", "new-alice-pass").pull("alice/app", "v1")
		return err == nil
	})
	_, err = (&craneClient{s: s, auth: authn.FromConfig(authn.AuthConfig{IdentityToken: rt})}).pull("alice/app", "v1")
	wantDenied(t, "refresh token after a password change", err)
	_, err = s.crane("alice", "alice-pass").pull("alice/app", "v1")
	wantDenied(t, "old password after a change", err)
	if n := s.metric(t, `registry_auth_denied_total{reason="refresh_revoked"}`); n < 1 {
		t.Errorf("denied{refresh_revoked} = %v", n)
	}
}

// waitFor waits up to 20s for cond: a reload takes effect within seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	authtest.Eventually(t, 20*time.Second, what, cond)
}
