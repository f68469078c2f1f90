package controllers

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
	"github.com/registry-auth-operator/registry-auth-operator/internal/identity"
)

func githubIdentity() v1alpha1.Identity {
	return v1alpha1.Identity{
		Name: "github", Account: "${claim:repository}", Labels: map[string]string{"repository": "repository"},
		OIDC: &v1alpha1.OIDCIdentity{Issuer: "https://token.actions.githubusercontent.com", Audiences: []string{"https://github.com/org"}},
	}
}

// TestIdentityAdmission: the API server refuses bad identities with a
// message naming the problem, and accepts the documented shapes.
func TestIdentityAdmission(t *testing.T) {
	ns := newNamespace(t)
	kube := func(name string, auds ...string) v1alpha1.Identity {
		return v1alpha1.Identity{Name: name, Kubernetes: &v1alpha1.KubernetesIdentity{Audiences: auds}}
	}
	cases := []struct {
		name   string
		mutate func(*v1alpha1.Identity, *v1alpha1.RegistryAuth)
		want   string
	}{
		{"http issuer", func(id *v1alpha1.Identity, _ *v1alpha1.RegistryAuth) { id.OIDC.Issuer = "http://token.example" }, "issuer must be an https URL"},
		{"issuer with query", func(id *v1alpha1.Identity, _ *v1alpha1.RegistryAuth) { id.OIDC.Issuer = "https://i.example/?a=b" }, "issuer must be an https URL"},
		{"not a URL", func(id *v1alpha1.Identity, _ *v1alpha1.RegistryAuth) { id.OIDC.Issuer = "token.example" }, "issuer must be an https URL"},
		{"no audience", func(id *v1alpha1.Identity, _ *v1alpha1.RegistryAuth) { id.OIDC.Audiences = nil }, "spec.auth.identities[0].oidc.audiences"},
		{"both kinds", func(id *v1alpha1.Identity, _ *v1alpha1.RegistryAuth) { id.Kubernetes = &v1alpha1.KubernetesIdentity{} }, "exactly one of oidc and kubernetes"},
		{"no kind", func(id *v1alpha1.Identity, _ *v1alpha1.RegistryAuth) { id.OIDC = nil }, "exactly one of oidc and kubernetes"},
		{"alg none", func(id *v1alpha1.Identity, _ *v1alpha1.RegistryAuth) {
			id.OIDC.Algorithms = []v1alpha1.TokenAlgorithm{"none"}
		}, `Unsupported value: "none"`},
		{"HS256", func(id *v1alpha1.Identity, _ *v1alpha1.RegistryAuth) {
			id.OIDC.Algorithms = []v1alpha1.TokenAlgorithm{"HS256"}
		}, `Unsupported value: "HS256"`},
		{"unknown placeholder", func(id *v1alpha1.Identity, _ *v1alpha1.RegistryAuth) { id.Account = "${account}" }, "only ${claim:PATH} placeholders"},
		{"name with a colon", func(id *v1alpha1.Identity, _ *v1alpha1.RegistryAuth) { id.Name = "git:hub" }, "spec.auth.identities[0].name"},
		{"two kubernetes identities", func(_ *v1alpha1.Identity, ra *v1alpha1.RegistryAuth) {
			ra.Spec.Auth.Identities = append(ra.Spec.Auth.Identities, kube("a"), kube("b"))
		}, "at most one kubernetes identity"},
		{"duplicate names", func(_ *v1alpha1.Identity, ra *v1alpha1.RegistryAuth) {
			ra.Spec.Auth.Identities = append(ra.Spec.Auth.Identities, kube("github"))
		}, "Duplicate value"},
		{"the API server's audience", func(_ *v1alpha1.Identity, ra *v1alpha1.RegistryAuth) {
			ra.Spec.Auth.Identities = append(ra.Spec.Auth.Identities, kube("cluster", "https://kubernetes.default.svc"))
		}, "the API server's audience"},
		{"docker_auth provider", func(_ *v1alpha1.Identity, ra *v1alpha1.RegistryAuth) {
			ra.Spec.Auth.Provider = v1alpha1.ProviderDockerAuth
		},
			"identities need the builtin provider"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ra := classicRA(ns, "id-invalid-"+string(rune('a'+i)))
			ra.Spec.Auth.Identities = []v1alpha1.Identity{githubIdentity()}
			tc.mutate(&ra.Spec.Auth.Identities[0], ra)
			err := k8s.Create(context.Background(), ra)
			if err == nil {
				t.Fatal("accepted")
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want Invalid saying %q, got %v", tc.want, err)
			}
		})
	}
	ra := classicRA(ns, "id-valid")
	gh := githubIdentity()
	gh.OIDC.Algorithms = []v1alpha1.TokenAlgorithm{"RS256", "ES256"}
	ra.Spec.Auth.Identities = []v1alpha1.Identity{gh, {Name: "cluster", Kubernetes: &v1alpha1.KubernetesIdentity{}}}
	ra.Spec.Auth.ACL = append([]v1alpha1.ACLRule{{Match: v1alpha1.ACLMatch{Account: ptr.To("/^cluster:/"), Name: ptr.To("${labels:namespace}/*")}, Actions: []string{"pull"}}}, ra.Spec.Auth.ACL...)
	if err := k8s.Create(context.Background(), ra); err != nil {
		t.Fatalf("valid identities refused: %v", err)
	}
}

// TestIdentityTokenReview runs the kubernetes identity against envtest's
// real kube-apiserver: a ServiceAccount token minted by TokenRequest for the
// registry's audience is admitted and mapped; one minted for another
// audience is refused; deleting the ServiceAccount ends access at the next
// review the API server makes after its informer saw it (the cache here is
// off: TTL 1ns).
func TestIdentityTokenReview(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(testConfig)
	if err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "builder", Namespace: ns}}
	if err := k8s.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	mint := func(aud string) string { return mintToken(t, cs, ns, "builder", aud) }
	set, err := identity.NewSet([]authconfig.Identity{{Name: "cluster", Kubernetes: &authconfig.KubernetesIssuer{Audiences: []string{"acme.registry"}}}},
		identity.Options{TokenReviews: cs.AuthenticationV1().TokenReviews(), CacheTTL: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	ours := mint("acme.registry")
	p, err := set.Validate(ctx, ours)
	if err != nil {
		t.Fatalf("a token for our audience: %v", err)
	}
	if p.Account != "cluster:"+ns+"/builder" || p.Labels["namespace"][0] != ns || p.Labels["serviceaccount"][0] != "builder" {
		t.Fatalf("principal = %+v", p)
	}
	if time.Until(p.Expiry) > 11*time.Minute || time.Until(p.Expiry) < 9*time.Minute {
		t.Fatalf("expiry %v is not the token's", p.Expiry)
	}
	if _, err := set.Validate(ctx, mint("some-other-service")); err == nil {
		t.Fatal("a token for another audience was admitted")
	}
	if err := k8s.Delete(ctx, sa); err != nil {
		t.Fatal(err)
	}
	// The API server looks the ServiceAccount up through its informer, so
	// the deletion takes effect within moments, not at once.
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := set.Validate(ctx, ours)
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the token of a deleted ServiceAccount was still admitted after 15s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestIdentityTokenServerWithTokenReview: the token server itself, its
// TokenReviews answered by envtest's real kube-apiserver. A Pod-less
// ServiceAccount token of the registry's audience logs in with Basic; the
// ACL's ${labels:namespace}/* grants its own namespace only; a token of
// another audience gets 401.
func TestIdentityTokenServerWithTokenReview(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(testConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "puller", Namespace: ns}}); err != nil {
		t.Fatal(err)
	}
	env, err := authtest.NewEnv(t.TempDir(), authtest.Options{
		Issuer: "acme.registry.registryauth.dev", Expiration: 300,
		ACL:        `[{match: {account: "/^cluster:/", name: "${labels:namespace}/*"}, actions: [pull]}]`,
		Identities: []authconfig.Identity{{Name: "cluster", Kubernetes: &authconfig.KubernetesIssuer{Audiences: []string{"acme.registry"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := authserver.New(authserver.Options{
		ConfigPath: env.ConfigPath(), RefreshKeyPath: env.RefreshKeyPath(), MonitoringAddr: "127.0.0.1:0",
		ReloadInterval: time.Minute, DrainTimeout: time.Second, IdleTimeout: time.Minute, CacheTTL: time.Minute, RefreshTokenTTL: time.Hour,
		BcryptCost: 5, TokenReviews: cs.AuthenticationV1().TokenReviews(),
	})
	if err != nil {
		t.Fatal(err)
	}
	login := func(token string, scopes ...string) (int, []string) {
		q := url.Values{"service": {"acme.registry"}, "scope": scopes}
		r := httptest.NewRequest(http.MethodGet, "https://localhost/auth/token?"+q.Encode(), nil)
		r.SetBasicAuth("serviceaccount", token)
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			return w.Code, nil
		}
		var resp struct{ Token string }
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		// The access claim, read without verifying (authserver's own tests verify signatures).
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(resp.Token, ".")[1])
		var claims struct {
			Sub    string `json:"sub"`
			Access []struct {
				Name    string   `json:"name"`
				Actions []string `json:"actions"`
			} `json:"access"`
		}
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		out := []string{claims.Sub}
		for _, a := range claims.Access {
			out = append(out, a.Name+":"+strings.Join(a.Actions, ","))
		}
		return w.Code, out
	}
	mint := func(aud string) string { return mintToken(t, cs, ns, "puller", aud) }
	code, got := login(mint("acme.registry"), "repository:"+ns+"/app:pull", "repository:other/app:pull")
	if code != http.StatusOK || len(got) != 2 || got[0] != "cluster:"+ns+"/puller" || got[1] != ns+"/app:pull" {
		t.Fatalf("login with our audience: %d %v", code, got)
	}
	if code, _ := login(mint("https://kubernetes.default.svc")); code != http.StatusUnauthorized {
		t.Fatalf("login with the API server's audience: %d, want 401", code)
	}
}

// mintToken asks the API server (TokenRequest) for a 10-minute token of
// ServiceAccount ns/name bound to aud.
func mintToken(t testing.TB, cs kubernetes.Interface, ns, name, aud string) string {
	t.Helper()
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), name, &authnv1.TokenRequest{
		Spec: authnv1.TokenRequestSpec{Audiences: []string{aud}, ExpirationSeconds: ptr.To[int64](600)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}
