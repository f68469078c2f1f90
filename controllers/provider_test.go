package controllers

import (
	"context"
	"crypto/rsa"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

func createDockerAuth(t *testing.T, ns, name, host string) {
	t.Helper()
	ra := classicRA(ns, name)
	ra.Spec.Auth.Provider = v1alpha1.ProviderDockerAuth
	ra.Spec.Expose.Host = host
	ra.Spec.Auth.ACL = append(ra.Spec.Auth.ACL, v1alpha1.ACLRule{Match: v1alpha1.ACLMatch{Account: ptr.To("")}, Actions: []string{"pull"}})
	createWithUsers(t, ra)
}

// TestDockerAuthRendersTheClassicLayout: the registry serves TLS on 5000,
// docker_auth tokens on 5001, the realm is static, the key is RSA and the
// bundle holds the signing certificate itself (docker_auth sends no x5c).
func TestDockerAuthRendersTheClassicLayout(t *testing.T) {
	ns := newNamespace(t)
	createDockerAuth(t, ns, "classic", "registry.example.test")
	waitCondition(t, ns, "classic", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	ra := waitCondition(t, ns, "classic", v1alpha1.ConditionRealmReachable, metav1.ConditionTrue, v1alpha1.ReasonHostReachable)
	w := readWired(t, ns, "classic")
	checkWiring(t, w)

	if got := tokenOption(t, w.registryCfg, "realm"); got != "https://registry.example.test:5001/auth" || ra.Status.Realm != got {
		t.Errorf("realm: registry %v, status %q", got, ra.Status.Realm)
	}
	if got := tokenOption(t, w.registryCfg, "autoredirect"); got != nil {
		t.Errorf("docker_auth layout must not autoredirect: %v", got)
	}
	if w.registryCfg.HTTP.Addr != ":5000" || w.registryCfg.HTTP.TLS.Certificate == "" {
		t.Errorf("the registry itself serves TLS on :5000: %+v", w.registryCfg.HTTP)
	}
	if w.authCfg.Server.Addr != ":5001" || !w.authCfg.Token.DisableLegacyKeyID {
		t.Errorf("docker_auth: addr %q, disable_legacy_key_id %v", w.authCfg.Server.Addr, w.authCfg.Token.DisableLegacyKeyID)
	}
	if u, ok := w.authCfg.Users[""]; !ok || u.Password != "" {
		t.Errorf("anonymous pull is granted: the \"\" user must be rendered without a password, got %+v", w.authCfg.Users)
	}
	leaf := certs(t, w.secrets["classic-token"].Data[corev1.TLSCertKey])[0]
	if _, ok := leaf.PublicKey.(*rsa.PublicKey); !ok {
		t.Errorf("docker_auth signs with RSA, got %T", leaf.PublicKey)
	}
	bundle := certs(t, w.secrets["classic-token-ca"].Data[render.TokenBundleFile])
	if len(bundle) != 1 || !bundle[0].Equal(leaf) {
		t.Error("the bundle must hold the signing certificate itself")
	}
	ports := map[string]int32{}
	for _, p := range w.svc.Spec.Ports {
		ports[p.Name] = p.Port
	}
	if ports["https"] != 5000 || ports["auth"] != 5001 {
		t.Errorf("Service ports %v, want https:5000 and auth:5001", ports)
	}
	var image string
	for _, c := range w.deploy.Spec.Template.Spec.Containers {
		if c.Name == render.ContainerAuth {
			image = c.Image
		}
	}
	if image != "cesanta/docker_auth:1.14.0" {
		t.Errorf("auth image %q", image)
	}
	if ra.Status.URLs.External != "https://registry.example.test:5000" {
		t.Errorf("status.urls.external = %q", ra.Status.URLs.External)
	}
}

// TestDockerAuthWithoutHostRealmIsTheClusterIP: nodes cannot resolve
// cluster DNS names, so without expose.host the realm is the Service's
// ClusterIP, which Pods, nodes and a node's shell reach and the serving
// certificate covers.
func TestDockerAuthWithoutHostRealmIsTheClusterIP(t *testing.T) {
	ns := newNamespace(t)
	createDockerAuth(t, ns, "inner", "")
	waitCondition(t, ns, "inner", v1alpha1.ConditionRealmReachable, metav1.ConditionTrue, v1alpha1.ReasonHostReachable)
	waitCondition(t, ns, "inner", v1alpha1.ConditionCertificatesReady, metav1.ConditionTrue, "")
	w := readWired(t, ns, "inner")
	ip := w.svc.Spec.ClusterIP
	want := "https://" + ip + ":5001/auth"
	if w.ra.Status.Realm != want || tokenOption(t, w.registryCfg, "realm") != want {
		t.Errorf("realm: status %q, registry config %v, want %q", w.ra.Status.Realm, tokenOption(t, w.registryCfg, "realm"), want)
	}
	serving := certs(t, w.secrets[render.NamesFor(w.ra).ServingTLS].Data["tls.crt"])[0]
	if err := serving.VerifyHostname(ip); err != nil {
		t.Errorf("the serving certificate does not cover the realm's ClusterIP: %v", err)
	}
}

// TestProvidersAgreeOnTheContract: switching the provider keeps service,
// issuer and users; only the layout changes.
func TestProvidersAgreeOnTheContract(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "both")
	waitCondition(t, ns, "both", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	settle(t)
	builtin := readWired(t, ns, "both")

	ra := get(t, ns, "both", &v1alpha1.RegistryAuth{})
	ra.Spec.Auth.Provider = v1alpha1.ProviderDockerAuth
	ra.Spec.Expose.Host = "both.example.test"
	if err := updateRA(context.Background(), ra); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, ns, "both", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	settle(t)
	da := readWired(t, ns, "both")
	checkWiring(t, da)
	if tokenOption(t, builtin.registryCfg, "service") != tokenOption(t, da.registryCfg, "service") ||
		builtin.authCfg.Token.Issuer != da.authCfg.Token.Issuer {
		t.Error("service or issuer changed with the provider")
	}
	for name, u := range builtin.authCfg.Users {
		if da.authCfg.Users[name] == nil || da.authCfg.Users[name].Password != u.Password {
			t.Errorf("user %q not carried over unchanged", name)
		}
	}
	if len(builtin.authCfg.ACL) != len(da.authCfg.ACL) {
		t.Error("ACL differs between providers")
	}
}
