package authserver

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/registry-auth-operator/registry-auth-operator/internal/identity/identitytest"
)

// BenchmarkIdentityLogin is the token handler alone (no network, no TLS)
// for one scope, by kind of credential: a cached password; an OIDC token
// (JWKS cached, so each login is one ES256 signature check); a cluster
// token answered from the review cache; a cluster token reviewed every time
// by the STAND-IN (client-go fake: our side of a TokenReview only, not the
// API server's).
func BenchmarkIdentityLogin(b *testing.B) {
	ts, is, reviews := identityServer(b)
	h := ts.Handler()
	now := time.Now()
	ci := is.Sign(b, is.Claims(testService, "org/app", "refs/heads/main", now, time.Hour))
	sa := identitytest.SignWith(b, identitytest.NewKey(b), "sa", map[string]any{"iss": "https://kubernetes.default.svc", "exp": now.Add(time.Hour).Unix()})
	reviews.Admit(sa, identitytest.ServiceAccountUser("team-a", "default", "web-1"))
	run := func(b *testing.B, user, pass string, each func()) {
		req := httptest.NewRequest(http.MethodGet, "https://localhost/auth/token?service="+testService+"&scope=repository:org/app:pull", nil)
		req.SetBasicAuth(user, pass)
		b.ReportAllocs()
		for b.Loop() {
			if each != nil {
				each()
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatal(w.Code, w.Body.String())
			}
		}
	}
	b.Run("password-cached", func(b *testing.B) { run(b, "admin", "badmin", nil) })
	b.Run("oidc", func(b *testing.B) { run(b, "oidc", ci, nil) })
	b.Run("kubernetes-cached", func(b *testing.B) { run(b, "serviceaccount", sa, nil) })
	set, err := ts.identitySet(ts.state.Load())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("kubernetes-uncached-standin", func(b *testing.B) {
		run(b, "serviceaccount", sa, func() { set.ForgetCached() })
	})
}
