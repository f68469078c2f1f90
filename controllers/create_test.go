package controllers

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"golang.org/x/crypto/bcrypt"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// wired is everything one RegistryAuth renders, read back from the API server.
type wired struct {
	ra          *v1alpha1.RegistryAuth
	svc         *corev1.Service
	deploy      *appsv1.Deployment
	registryCfg *configuration.Configuration
	rawRegistry string
	authCfg     *authconfig.Config
	secrets     map[string]*corev1.Secret // by name
}

func readWired(t *testing.T, ns, name string) *wired {
	t.Helper()
	ra := get(t, ns, name, &v1alpha1.RegistryAuth{})
	n := render.NamesFor(ra)
	w := &wired{ra: ra, secrets: map[string]*corev1.Secret{}}
	w.svc = get(t, ns, n.Service, &corev1.Service{})
	w.deploy = get(t, ns, n.Deployment, &appsv1.Deployment{})
	cm := get(t, ns, n.RegistryConfig, &corev1.ConfigMap{})
	w.rawRegistry = cm.Data[render.RegistryConfigFile]
	cfg, err := configuration.Parse(strings.NewReader(w.rawRegistry))
	if err != nil {
		t.Fatalf("the rendered registry config does not load in distribution's parser: %v\n%s", err, w.rawRegistry)
	}
	w.registryCfg = cfg
	for _, s := range []string{n.ServingTLS, n.TokenCA, n.TokenSigning, n.AuthConfig, n.HTTPSecret} {
		w.secrets[s] = get(t, ns, s, &corev1.Secret{})
	}
	if ra.Spec.TLS.SecretName == "" && ra.Spec.TLS.IssuerRef == nil {
		w.secrets[n.ServingCA] = get(t, ns, n.ServingCA, &corev1.Secret{})
	}
	ac, unknown, err := authconfig.Parse(w.secrets[n.AuthConfig].Data[authconfig.ConfigFile])
	if err != nil || len(unknown) > 0 {
		t.Fatalf("rendered auth config: %v (unsupported keys %v)", err, unknown)
	}
	w.authCfg = ac
	return w
}

func tokenOption(t *testing.T, cfg *configuration.Configuration, key string) any {
	t.Helper()
	tok, ok := cfg.Auth["token"]
	if !ok {
		t.Fatalf("registry config has no token auth: %v", cfg.Auth)
	}
	return tok[key]
}

func certs(t *testing.T, pemData []byte) []*x509.Certificate {
	t.Helper()
	c, err := pki.ParseCertificates(pemData)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkWiring asserts the invariant of DESIGN §3: the registry and the token
// server agree on service, issuer and keys, and the bundle trusts nothing else.
func checkWiring(t *testing.T, w *wired) {
	t.Helper()
	ra, n := w.ra, render.NamesFor(w.ra)
	if got := tokenOption(t, w.registryCfg, "issuer"); got != w.authCfg.Token.Issuer || got != ra.Status.Issuer {
		t.Errorf("issuer: registry %v, auth server %q, status %q", got, w.authCfg.Token.Issuer, ra.Status.Issuer)
	}
	if got := tokenOption(t, w.registryCfg, "service"); got != ra.Status.Service || got == "" {
		t.Errorf("service: registry %v, status %q", got, ra.Status.Service)
	}
	if got := tokenOption(t, w.registryCfg, "rootcertbundle"); got != render.TokenBundleDir+"/"+render.TokenBundleFile {
		t.Errorf("rootcertbundle = %v", got)
	}
	if want := int64(render.DefaultTokenTTL.Seconds()); w.authCfg.Token.Expiration != want {
		t.Errorf("token expiration %d, want %d", w.authCfg.Token.Expiration, want)
	}

	// Every key the auth server may sign with chains to the bundle; the
	// bundle holds no certificate that can sign anything else.
	bundle := certs(t, w.secrets[n.TokenCA].Data[render.TokenBundleFile])
	chain := certs(t, w.secrets[n.TokenSigning].Data[corev1.TLSCertKey])
	signingKey := w.secrets[n.TokenSigning].Data[corev1.TLSPrivateKeyKey]
	if _, err := pki.ParseKeyPair(w.secrets[n.TokenSigning].Data[corev1.TLSCertKey], signingKey); err != nil {
		t.Errorf("signing certificate and key do not match: %v", err)
	}
	if err := pki.VerifyChain(chain[0], chain[1:], bundle, testNow()); err != nil {
		t.Errorf("the signing certificate does not chain to the rootcertbundle: %v", err)
	}
	serving := certs(t, w.secrets[render.ServingSecretName(ra)].Data[corev1.TLSCertKey])[0]
	for _, b := range bundle {
		if pki.SignedBy(serving, b) {
			t.Errorf("the rootcertbundle holds the CA of the serving certificate (%s)", b.Subject)
		}
	}
	if ca, ok := w.secrets[n.ServingCA]; ok {
		servingCA := certs(t, ca.Data[render.KeyCACert])[0]
		if slices.ContainsFunc(bundle, servingCA.Equal) {
			t.Error("the serving CA is in the rootcertbundle")
		}
		for _, host := range []string{ra.Name + "." + ra.Namespace + ".svc", w.svc.Spec.ClusterIP, "localhost"} {
			if err := verifyServing(serving, servingCA, host); err != nil {
				t.Errorf("serving certificate for %q: %v", host, err)
			}
		}
	}

	// The auth server reads its files where the pod mounts them.
	mounts := mountedSecrets(w.deploy, render.ContainerAuth)
	for file, secret := range map[string]string{
		w.authCfg.Token.Certificate:  n.TokenSigning,
		w.authCfg.Token.Key:          n.TokenSigning,
		w.authCfg.Server.Certificate: render.ServingSecretName(ra),
	} {
		dir := file[:strings.LastIndex(file, "/")]
		if mounts[dir] != secret {
			t.Errorf("auth container reads %s, but %s mounts %q (want Secret %q)", file, dir, mounts[dir], secret)
		}
	}
	if got := mountedSecrets(w.deploy, render.ContainerRegistry)[render.TokenBundleDir]; got != n.TokenCA {
		t.Errorf("registry mounts %q at %s, want %q", got, render.TokenBundleDir, n.TokenCA)
	}
}

func verifyServing(leaf, ca *x509.Certificate, host string) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, CurrentTime: testNow()})
	return err
}

// mountedSecrets maps the mount paths of a container to the Secret names
// mounted there.
func mountedSecrets(d *appsv1.Deployment, container string) map[string]string {
	vols := map[string]string{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			vols[v.Name] = v.Secret.SecretName
		}
	}
	out := map[string]string{}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name != container {
			continue
		}
		for _, m := range c.VolumeMounts {
			if s, ok := vols[m.Name]; ok {
				out[m.MountPath] = s
			}
		}
	}
	return out
}

func TestCreateRendersEveryObjectWired(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "acme")
	ra := waitCondition(t, ns, "acme", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	waitCondition(t, ns, "acme", v1alpha1.ConditionCertificatesReady, metav1.ConditionTrue, "")
	// No kubelet runs in envtest: the registry cannot be Ready, and says why.
	ra = waitCondition(t, ns, "acme", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonRolloutInProgress)
	if c := condition(ra, v1alpha1.ConditionReconciling); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Reconciling should be True while not Ready: %+v", c)
	}
	if c := condition(ra, v1alpha1.ConditionStorageEphemeral); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("StorageEphemeral should warn about emptyDir: %+v", c)
	}

	w := readWired(t, ns, "acme")
	checkWiring(t, w)

	// builtin: the realm follows the host the client used.
	if got := tokenOption(t, w.registryCfg, "autoredirect"); got != true {
		t.Errorf("autoredirect = %v, want true", got)
	}
	if got := tokenOption(t, w.registryCfg, "autoredirectpath"); got != render.TokenPath {
		t.Errorf("autoredirectpath = %v", got)
	}
	if !w.registryCfg.HTTP.RelativeURLs || w.registryCfg.HTTP.Addr != "127.0.0.1:5001" || w.registryCfg.HTTP.TLS.Certificate != "" {
		t.Errorf("builtin registry must serve plain HTTP on :5001 with relative URLs: %+v", w.registryCfg.HTTP)
	}
	if w.authCfg.Server.Addr != ":5000" {
		t.Errorf("front door listens on %q, want :5000", w.authCfg.Server.Addr)
	}

	// Status tells users how to connect.
	want := v1alpha1.RegistryURLs{
		InCluster: "https://acme." + ns + ".svc:5000",
		Node:      "https://" + w.svc.Spec.ClusterIP + ":5000",
	}
	if ra.Status.URLs != want {
		t.Errorf("status.urls = %+v, want %+v", ra.Status.URLs, want)
	}
	if ra.Status.CAConfigMapName != "acme-ca-bundle" || ra.Status.ServingCertificateNotAfter == nil {
		t.Errorf("status: caConfigMapName %q, servingCertificateNotAfter %v", ra.Status.CAConfigMapName, ra.Status.ServingCertificateNotAfter)
	}

	// Users: bcrypt only; no plaintext anywhere the operator writes.
	for user, pw := range map[string]string{"admin": "badmin", "reader": "reader-pw"} {
		u := w.authCfg.Users[user]
		if u == nil || bcrypt.CompareHashAndPassword([]byte(u.Password), []byte(pw)) != nil {
			t.Errorf("user %s: rendered hash does not verify its password", user)
		}
	}
	if _, anon := w.authCfg.Users[""]; anon {
		t.Error("no rule grants anonymous access, yet the anonymous user is rendered")
	}
	assertNoPlaintext(t, w, "badmin", "reader-pw")
	assertOwned(t, w)
}

// assertNoPlaintext looks for passwords in every object the operator wrote,
// and in the RegistryAuth's status.
func assertNoPlaintext(t *testing.T, w *wired, passwords ...string) {
	t.Helper()
	var blobs [][]byte
	for _, s := range w.secrets {
		for _, v := range s.Data {
			blobs = append(blobs, v)
		}
		blobs = append(blobs, []byte(fmt.Sprint(s.Annotations)))
	}
	blobs = append(blobs, []byte(w.rawRegistry), []byte(fmt.Sprint(w.deploy.Spec, w.deploy.Annotations)), []byte(fmt.Sprint(w.ra.Status)))
	for _, pw := range passwords {
		for _, b := range blobs {
			if bytes.Contains(b, []byte(pw)) {
				t.Errorf("plaintext password %q found in a rendered object", pw)
			}
		}
	}
}

// assertOwned: every object carries a controller owner reference to the
// RegistryAuth, so the garbage collector removes it with it.
func assertOwned(t *testing.T, w *wired) {
	t.Helper()
	objs := []client.Object{w.svc, w.deploy}
	for _, s := range w.secrets {
		objs = append(objs, s)
	}
	objs = append(objs, get(t, w.ra.Namespace, render.NamesFor(w.ra).RegistryConfig, &corev1.ConfigMap{}))
	for _, o := range objs {
		ref := metav1.GetControllerOf(o)
		if ref == nil || ref.UID != w.ra.UID || ref.Kind != "RegistryAuth" || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			t.Errorf("%T %s: controller owner reference %+v, want the RegistryAuth %s", o, o.GetName(), ref, w.ra.UID)
		}
	}
}

func TestDeploymentAvailableMakesReady(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "ready")
	waitCondition(t, ns, "ready", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	markDeploymentAvailable(t, ns, "ready")
	ra := waitCondition(t, ns, "ready", v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
	for _, c := range []string{v1alpha1.ConditionReconciling, v1alpha1.ConditionStalled} {
		if condition(ra, c) != nil {
			t.Errorf("%s should be absent once Ready", c)
		}
	}
	if ra.Status.ObservedGeneration != ra.Generation {
		t.Errorf("observedGeneration %d, generation %d", ra.Status.ObservedGeneration, ra.Generation)
	}
}

// markDeploymentAvailable is a stand-in for the Deployment controller, which
// envtest does not run: it writes the status a finished rollout has.
func markDeploymentAvailable(t *testing.T, ns, name string) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		d := &appsv1.Deployment{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
			return err
		}
		n := *d.Spec.Replicas
		d.Status = appsv1.DeploymentStatus{
			ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
		}
		return k8s.Status().Update(context.Background(), d)
	})
}
