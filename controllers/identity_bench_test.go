package controllers

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
)

// BenchmarkIdentityLoginTokenReview: the token server's handler (no network
// to the client, no TLS) with its TokenReviews answered by envtest's REAL
// kube-apiserver, one login at a time: a password user (credential cache
// hit), a ServiceAccount token from the review cache, and a ServiceAccount
// token seen for the first time (one TokenReview each: a fresh token per
// login, minted outside the measured time). Reports logins/s (sequential)
// and the p50/p99 of one login; docs/benchmarks.md has the figures.
//
//	go test -run XXX -bench BenchmarkIdentityLoginTokenReview -benchtime 1000x ./controllers/
func BenchmarkIdentityLoginTokenReview(b *testing.B) {
	ns := "bench-identity"
	ctx := context.Background()
	_ = k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	_ = k8s.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "puller", Namespace: ns}})
	cs, err := kubernetes.NewForConfig(testConfig)
	if err != nil {
		b.Fatal(err)
	}
	env, err := authtest.NewEnv(b.TempDir(), authtest.Options{
		Issuer: "acme.registry.registryauth.dev", Expiration: 300,
		Users: map[string]authtest.User{"admin": {Password: "badmin"}},
		ACL: `[{match: {account: admin}, actions: ["*"]},
		       {match: {account: "/^cluster:/", name: "${labels:namespace}/*"}, actions: [pull]}]`,
		Identities: []authconfig.Identity{{Name: "cluster", Kubernetes: &authconfig.KubernetesIssuer{Audiences: []string{"acme.registry"}}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := authserver.New(authserver.Options{
		ConfigPath: env.ConfigPath(), RefreshKeyPath: env.RefreshKeyPath(), MonitoringAddr: "127.0.0.1:0",
		ReloadInterval: time.Minute, DrainTimeout: time.Second, IdleTimeout: time.Minute, CacheTTL: time.Minute, RefreshTokenTTL: time.Hour,
		BcryptCost: 5, TokenReviews: cs.AuthenticationV1().TokenReviews(),
		// An audit line per login would be most of the output.
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	login := func(b *testing.B, user, pass string) time.Duration {
		r := httptest.NewRequest(http.MethodGet, "https://localhost/auth/token?service=acme.registry&scope=repository:"+ns+"/app:pull", nil)
		r.SetBasicAuth(user, pass)
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, r)
		d := time.Since(start)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code, w.Body.String())
		}
		return d
	}
	run := func(b *testing.B, user string, pass func() string) {
		_ = login(b, user, pass()) // warm: the first password check is a bcrypt
		var took []time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			p := pass()
			b.StartTimer()
			took = append(took, login(b, user, p))
		}
		b.StopTimer()
		report(b, took)
	}
	token := mintToken(b, cs, ns, "puller", "acme.registry")
	b.Run("password-cached", func(b *testing.B) { run(b, "admin", func() string { return "badmin" }) })
	b.Run("serviceaccount-cached", func(b *testing.B) { run(b, "serviceaccount", func() string { return token }) })
	b.Run("serviceaccount-tokenreview", func(b *testing.B) {
		run(b, "serviceaccount", func() string { return mintToken(b, cs, ns, "puller", "acme.registry") })
	})
}

// report adds logins/s (one at a time) and the p50 and p99 of one login.
func report(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	var sum time.Duration
	for _, d := range took {
		sum += d
	}
	slices.Sort(took)
	q := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))].Microseconds()) }
	b.ReportMetric(float64(len(took))/sum.Seconds(), "logins/s")
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}
