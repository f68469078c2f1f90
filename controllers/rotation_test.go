package controllers

import (
	"context"
	"crypto/x509"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pki"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
	"github.com/registry-auth-operator/registry-auth-operator/internal/rotation"
)

// setAnnotation sets one annotation on the RegistryAuth with a merge patch.
func setAnnotation(t *testing.T, ns, name, key, value string) {
	t.Helper()
	ra := get(t, ns, name, &v1alpha1.RegistryAuth{})
	patch := client.MergeFrom(ra.DeepCopy())
	if ra.Annotations == nil {
		ra.Annotations = map[string]string{}
	}
	ra.Annotations[key] = value
	if err := k8s.Patch(context.Background(), ra, patch); err != nil {
		t.Fatal(err)
	}
}

// poke makes the operator reconcile (after the clock moved) without
// changing anything it renders.
func poke(t *testing.T, ns, name string) {
	t.Helper()
	setAnnotation(t, ns, name, "example.com/poke", time.Now().String())
}

// deleteOnCleanup removes the RegistryAuth when the test ends, so that a
// moved clock does not make it renew during later tests.
func deleteOnCleanup(t *testing.T, ns, name string) {
	t.Cleanup(func() {
		_ = k8s.Delete(context.Background(), &v1alpha1.RegistryAuth{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})
	})
}

func tokenBundle(t *testing.T, ns, name string) []*x509.Certificate {
	t.Helper()
	return certs(t, get(t, ns, name+"-token-ca", &corev1.Secret{}).Data[render.TokenBundleFile])
}

func signingLeaf(t *testing.T, ns, name string) *x509.Certificate {
	t.Helper()
	return certs(t, get(t, ns, name+"-token", &corev1.Secret{}).Data[corev1.TLSCertKey])[0]
}

func tokenPhase(t *testing.T, ns, name string) rotation.State {
	t.Helper()
	return rotation.Parse(get(t, ns, name+"-token-ca", &corev1.Secret{}).Annotations, tokenPrefix)
}

func restartHash(t *testing.T, ns, name string) string {
	t.Helper()
	return get(t, ns, name, &appsv1.Deployment{}).Spec.Template.Annotations[render.AnnotationRestartHash]
}

// readyRegistry creates a registry and completes its first rollout.
func readyRegistry(t *testing.T, ns, name string, create func(*testing.T, string, string)) {
	t.Helper()
	create(t, ns, name)
	deleteOnCleanup(t, ns, name)
	waitCondition(t, ns, name, v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	settle(t)
	markDeploymentAvailable(t, ns, name)
	waitCondition(t, ns, name, v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	settle(t)
}

func createClassicT(t *testing.T, ns, name string) { createClassic(t, ns, name) }
func createDockerAuthT(t *testing.T, ns, name string) {
	createDockerAuth(t, ns, name, "registry.example.test")
}

// TestTokenCARotationWaitsForEachRollout drives a token-CA rotation of the
// builtin layout step by step; each step waits for what must come first.
func TestTokenCARotationWaitsForEachRollout(t *testing.T) {
	ns := newNamespace(t)
	readyRegistry(t, ns, "rot", createClassicT)
	oldCA := tokenBundle(t, ns, "rot")[0]
	hash0 := restartHash(t, ns, "rot")

	// Step 1: the new CA joins the bundle; the pods roll to trust it; the
	// signer stays on the old CA meanwhile.
	setAnnotation(t, ns, "rot", v1alpha1.AnnotationRotateTokenCA, "2026-11-28")
	eventually(t, 15*time.Second, func() error {
		if b := tokenBundle(t, ns, "rot"); len(b) != 2 {
			return fmt.Errorf("bundle holds %d certificates", len(b))
		}
		return nil
	})
	bundle := tokenBundle(t, ns, "rot")
	newCA := bundle[1]
	if !bundle[0].Equal(oldCA) || newCA.Equal(oldCA) || !newCA.IsCA {
		t.Fatal("the bundle must be [old CA, new CA]")
	}
	// The Deployment is applied after the bundle, in the same reconcile.
	eventually(t, 15*time.Second, func() error {
		if restartHash(t, ns, "rot") == hash0 {
			return fmt.Errorf("a new bundle must roll the registry pods (the registry never reloads)")
		}
		return nil
	})
	hash1 := restartHash(t, ns, "rot")
	settle(t)
	if !pki.SignedBy(signingLeaf(t, ns, "rot"), oldCA) || tokenPhase(t, ns, "rot").Phase != rotation.Adding {
		t.Fatal("the signer switched before the rollout that trusts the new CA completed")
	}
	ra := get(t, ns, "rot", &v1alpha1.RegistryAuth{})
	if c := condition(ra, v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("Ready during the roll: %+v", c)
	}

	// Step 2: the rollout completes (stand-in); the signer moves live, with
	// no further roll and the bundle unchanged.
	markDeploymentAvailable(t, ns, "rot")
	eventually(t, 15*time.Second, func() error {
		if !pki.SignedBy(signingLeaf(t, ns, "rot"), newCA) {
			return fmt.Errorf("signer not switched yet")
		}
		return nil
	})
	eventually(t, 15*time.Second, func() error {
		if s := tokenPhase(t, ns, "rot"); s.Phase != rotation.Switched || s.SignedAt.IsZero() {
			return fmt.Errorf("state %+v", s)
		}
		return nil
	})
	if h := restartHash(t, ns, "rot"); h != hash1 {
		t.Error("switching the signer rolled the pods")
	}
	if b := tokenBundle(t, ns, "rot"); len(b) != 2 {
		t.Error("the old CA left the bundle at the switch: tokens it signed would fail")
	}
	checkWiring(t, readWired(t, ns, "rot"))

	// Step 3: after the longest token lifetime (plus propagation) the old CA
	// goes, and the pods roll once more.
	hold := tokenPhase(t, ns, "rot").Hold
	if hold < render.DefaultTokenTTL {
		t.Fatalf("hold %s shorter than the token TTL", hold)
	}
	poke(t, ns, "rot")
	settle(t)
	if len(tokenBundle(t, ns, "rot")) != 2 {
		t.Fatal("the old CA was dropped before its tokens expired")
	}
	advanceClock(hold + time.Second)
	poke(t, ns, "rot")
	eventually(t, 15*time.Second, func() error {
		if b := tokenBundle(t, ns, "rot"); len(b) != 1 || !b[0].Equal(newCA) {
			return fmt.Errorf("bundle holds %d certificates", len(b))
		}
		return nil
	})
	eventually(t, 15*time.Second, func() error {
		if tokenPhase(t, ns, "rot").Phase != rotation.Stable || restartHash(t, ns, "rot") == hash1 {
			return fmt.Errorf("after the drop: stable state and a roll expected")
		}
		return nil
	})
	checkWiring(t, readWired(t, ns, "rot"))
	assertEvents(t, ns, "rot", "RotationStarted", "RotationSwitched", "RotationCompleted")

	// The same request value again starts nothing.
	markDeploymentAvailable(t, ns, "rot")
	poke(t, ns, "rot")
	settle(t)
	if len(tokenBundle(t, ns, "rot")) != 1 {
		t.Error("a request already served started another rotation")
	}
}

// TestRotationResumesAfterOperatorRestart: the state is in the cluster, so
// a new operator process continues the rotation it finds.
func TestRotationResumesAfterOperatorRestart(t *testing.T) {
	ns := newNamespace(t)
	readyRegistry(t, ns, "resume", createClassicT)
	setAnnotation(t, ns, "resume", v1alpha1.AnnotationRotateTokenCA, "one")
	eventually(t, 15*time.Second, func() error {
		if len(tokenBundle(t, ns, "resume")) != 2 {
			return fmt.Errorf("not adding yet")
		}
		return nil
	})
	settle(t)
	before := get(t, ns, "resume-token-ca", &corev1.Secret{}).Data[render.TokenBundleFile]

	restartOperator(t)
	poke(t, ns, "resume")
	settle(t)
	after := get(t, ns, "resume-token-ca", &corev1.Secret{}).Data[render.TokenBundleFile]
	if string(before) != string(after) || tokenPhase(t, ns, "resume").Phase != rotation.Adding {
		t.Fatal("the restarted operator did not keep the rotation in flight")
	}
	newCA := tokenBundle(t, ns, "resume")[1]
	markDeploymentAvailable(t, ns, "resume")
	eventually(t, 15*time.Second, func() error {
		if !pki.SignedBy(signingLeaf(t, ns, "resume"), newCA) {
			return fmt.Errorf("signer not switched to the CA added before the restart")
		}
		return nil
	})
}

// TestDockerAuthPinnedSigningCertificateRotates: docker_auth's leaf is
// itself in the bundle, so a new signing key takes the three steps, and the
// switch rolls the pods (docker_auth does not reload certificates).
func TestDockerAuthPinnedSigningCertificateRotates(t *testing.T) {
	ns := newNamespace(t)
	readyRegistry(t, ns, "pin", createDockerAuthT)
	oldLeaf := signingLeaf(t, ns, "pin")

	setAnnotation(t, ns, "pin", v1alpha1.AnnotationRotateSigningKey, "k2")
	eventually(t, 15*time.Second, func() error {
		if len(tokenBundle(t, ns, "pin")) != 2 {
			return fmt.Errorf("new leaf not added")
		}
		return nil
	})
	b := tokenBundle(t, ns, "pin")
	newLeaf := b[1]
	if !b[0].Equal(oldLeaf) {
		t.Fatal("bundle must be [old leaf, new leaf]")
	}
	settle(t)
	if !signingLeaf(t, ns, "pin").Equal(oldLeaf) {
		t.Fatal("docker_auth switched to a key the registry does not trust yet")
	}
	hashAdding := restartHash(t, ns, "pin")

	markDeploymentAvailable(t, ns, "pin")
	eventually(t, 15*time.Second, func() error {
		if !signingLeaf(t, ns, "pin").Equal(newLeaf) {
			return fmt.Errorf("not switched")
		}
		return nil
	})
	eventually(t, 15*time.Second, func() error {
		if restartHash(t, ns, "pin") == hashAdding {
			return fmt.Errorf("docker_auth must restart to sign with the new key")
		}
		return nil
	})
	settle(t)
	if s := tokenPhase(t, ns, "pin"); !s.SignedAt.IsZero() {
		t.Fatal("the hold started before the pods signing with the new key were rolled out")
	}
	markDeploymentAvailable(t, ns, "pin")
	eventually(t, 15*time.Second, func() error {
		if s := tokenPhase(t, ns, "pin"); s.SignedAt.IsZero() {
			return fmt.Errorf("signed-at not recorded: %+v", s)
		}
		return nil
	})
	advanceClock(tokenPhase(t, ns, "pin").Hold + time.Second)
	poke(t, ns, "pin")
	eventually(t, 15*time.Second, func() error {
		if b := tokenBundle(t, ns, "pin"); len(b) != 1 || !b[0].Equal(newLeaf) {
			return fmt.Errorf("bundle holds %d certificates", len(b))
		}
		return nil
	})
	checkWiring(t, readWired(t, ns, "pin"))
}

// TestServingRenewalReloadsWithoutRoll (builtin): at two thirds of its
// lifetime the operator re-issues the serving certificate; the front door
// reloads it, nothing rolls.
func TestServingRenewalReloadsWithoutRoll(t *testing.T) {
	ns := newNamespace(t)
	readyRegistry(t, ns, "renew", createClassicT)
	old := servingCert(t, ns, "renew")
	hash := restartHash(t, ns, "renew")
	advanceClock(testOpts.ServingLifetime*2/3 + time.Minute)
	poke(t, ns, "renew")
	eventually(t, 15*time.Second, func() error {
		if servingCert(t, ns, "renew").Equal(old) {
			return fmt.Errorf("not renewed")
		}
		return nil
	})
	settle(t)
	if restartHash(t, ns, "renew") != hash {
		t.Error("a serving renewal rolled builtin pods")
	}
	ra := get(t, ns, "renew", &v1alpha1.RegistryAuth{})
	if ra.Status.ServingCertificateNotAfter == nil || !ra.Status.ServingCertificateNotAfter.Time.Equal(servingCert(t, ns, "renew").NotAfter) {
		t.Errorf("status shows expiry %v", ra.Status.ServingCertificateNotAfter)
	}
	checkWiring(t, readWired(t, ns, "renew"))
}

// TestDockerAuthServingRenewalRollsGracefully: the registry serves TLS
// itself and never reloads, so a renewal rolls — with a preStop pause and
// the registry's drain timeout, so no request is cut.
func TestDockerAuthServingRenewalRollsGracefully(t *testing.T) {
	ns := newNamespace(t)
	readyRegistry(t, ns, "darenew", createDockerAuthT)
	old := servingCert(t, ns, "darenew")
	hash := restartHash(t, ns, "darenew")
	setAnnotation(t, ns, "darenew", v1alpha1.AnnotationRenewServingCertificate, "now")
	eventually(t, 15*time.Second, func() error {
		if servingCert(t, ns, "darenew").Equal(old) {
			return fmt.Errorf("not renewed")
		}
		return nil
	})
	eventually(t, 15*time.Second, func() error {
		if restartHash(t, ns, "darenew") == hash {
			return fmt.Errorf("no roll")
		}
		return nil
	})
	w := readWired(t, ns, "darenew")
	if w.registryCfg.HTTP.DrainTimeout <= 0 {
		t.Error("the registry needs a drain timeout")
	}
	for _, c := range w.deploy.Spec.Template.Spec.Containers {
		if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
			t.Errorf("container %s has no preStop pause", c.Name)
		}
	}
	if w.deploy.Spec.Strategy.RollingUpdate == nil || w.deploy.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Error("the roll must keep every pod until its replacement is ready")
	}
}

// TestServingCARotationOverlapsForClients: the new CA is published beside
// the old (ca.crt and node trust) for the overlap, then the certificate
// moves, then the old CA goes. Builtin pods never roll.
func TestServingCARotationOverlapsForClients(t *testing.T) {
	ns := newNamespace(t)
	readyRegistry(t, ns, "sca", createClassicT)
	hash := restartHash(t, ns, "sca")
	oldCA := caBundle(t, ns, "sca")[0]

	setAnnotation(t, ns, "sca", v1alpha1.AnnotationRotateServingCA, "r1")
	eventually(t, 15*time.Second, func() error {
		if len(caBundle(t, ns, "sca")) != 2 {
			return fmt.Errorf("new CA not published")
		}
		return nil
	})
	newCA := caBundle(t, ns, "sca")[1]
	ra := get(t, ns, "sca", &v1alpha1.RegistryAuth{})
	eventually(t, 10*time.Second, func() error {
		if got := certs(t, trustEntries(t)[ra.Status.URLs.Node[len("https://"):]]); len(got) != 2 {
			return fmt.Errorf("nodes trust %d CAs", len(got))
		}
		return nil
	})
	settle(t)
	if !pki.SignedBy(servingCert(t, ns, "sca"), oldCA) {
		t.Fatal("the serving certificate moved before clients had the overlap")
	}
	finishServingCARotation(t, ns, "sca", newCA)
	if restartHash(t, ns, "sca") != hash {
		t.Error("a serving CA rotation rolled builtin pods")
	}
	checkWiring(t, readWired(t, ns, "sca"))
}

func servingCert(t *testing.T, ns, name string) *x509.Certificate {
	t.Helper()
	return certs(t, get(t, ns, name+"-tls", &corev1.Secret{}).Data[corev1.TLSCertKey])[0]
}

func caBundle(t *testing.T, ns, name string) []*x509.Certificate {
	t.Helper()
	return certs(t, get(t, ns, name+"-ca", &corev1.Secret{}).Data[render.KeyCACert])
}

// assertEvents checks that Events with these reasons were recorded.
func assertEvents(t *testing.T, ns, name string, reasons ...string) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		var evs eventsv1.EventList
		if err := k8s.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, e := range evs.Items {
			if e.Regarding.Name == name {
				seen[e.Reason] = true
			}
		}
		for _, r := range reasons {
			if !seen[r] {
				return fmt.Errorf("no %s event (seen %v)", r, seen)
			}
		}
		return nil
	})
}

// finishServingCARotation moves the clock past the overlap, checks that the
// serving certificate moves to newCA while the old CA stays in ca.crt, then
// past the grace, and checks that only newCA is left.
func finishServingCARotation(t *testing.T, ns, name string, newCA *x509.Certificate) {
	t.Helper()
	advanceClock(testOpts.ServingCAOverlap + time.Second)
	poke(t, ns, name)
	eventually(t, 15*time.Second, func() error {
		if !pki.SignedBy(servingCert(t, ns, name), newCA) {
			return fmt.Errorf("serving certificate not moved to the new CA")
		}
		return nil
	})
	settle(t)
	if len(caBundle(t, ns, name)) != 2 {
		t.Fatal("the old CA left ca.crt before the front door reloaded")
	}
	advanceClock(propagationGrace + time.Second)
	poke(t, ns, name)
	eventually(t, 15*time.Second, func() error {
		if b := caBundle(t, ns, name); len(b) != 1 || !b[0].Equal(newCA) {
			return fmt.Errorf("ca.crt holds %d CAs", len(b))
		}
		return nil
	})
}
