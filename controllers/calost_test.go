package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestDeletedServingCAStartsGracefulRotation: deleting the CA Secret never
// silently swaps the CA. The old CA's certificate stays trusted beside a new
// one, the serving certificate it signed keeps being served for the
// overlap (clients and nodes learn the new CA meanwhile), then moves to the
// new CA; the old CA leaves the bundle last. One Warning says so.
func TestDeletedServingCAStartsGracefulRotation(t *testing.T) {
	ns := newNamespace(t)
	readyRegistry(t, ns, "lost", createClassicT)
	oldCA := caBundle(t, ns, "lost")[0]
	oldLeaf := servingCert(t, ns, "lost")
	ca := get(t, ns, "lost-ca", &corev1.Secret{})

	if err := k8s.Delete(context.Background(), ca); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		s := &corev1.Secret{}
		if !exists(t, ns, "lost-ca", s) || s.UID == ca.UID {
			return fmt.Errorf("CA Secret not recreated")
		}
		if b := caBundle(t, ns, "lost"); len(b) != 2 || !b[0].Equal(oldCA) {
			return fmt.Errorf("ca.crt should hold the old CA and the new one, holds %d", len(b))
		}
		return nil
	})
	newCA := caBundle(t, ns, "lost")[1]
	settle(t)
	if !servingCert(t, ns, "lost").Equal(oldLeaf) {
		t.Fatal("the serving certificate changed at once: clients that trust only the old CA break")
	}
	if b := certs(t, get(t, ns, "lost-tls", &corev1.Secret{}).Data["ca.crt"]); len(b) != 2 {
		t.Errorf("the serving Secret's ca.crt should carry both CAs, has %d", len(b))
	}
	if n, notes := eventCount(t, ns, "lost", corev1.EventTypeWarning, "ServingCADeleted"); n != 1 {
		t.Errorf("want one ServingCADeleted Warning, got %d: %q", n, notes)
	}
	ra := get(t, ns, "lost", &v1alpha1.RegistryAuth{})
	if c := condition(ra, v1alpha1.ConditionCertificatesReady); c == nil || c.Status != "True" {
		t.Errorf("the registry keeps working through the rotation: %+v", c)
	}

	// An operator restart resumes the rotation from the cluster.
	restartOperator(t)
	finishServingCARotation(t, ns, "lost", newCA)
	checkWiring(t, readWired(t, ns, "lost"))
}
