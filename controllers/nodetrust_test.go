package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/nodetrust"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

func trustEntries(t *testing.T) map[string][]byte {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if !exists(t, operatorNamespace, nodeTrustConfigMap, cm) {
		return nil
	}
	m, err := nodetrust.Decode(cm.Data[nodetrust.DataKey])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestNodeTrustPublishesEachRegistrysCA: the document the node-trust agent
// reads maps status.urls.node to the CA clients must trust, and forgets a
// deleted registry.
func TestNodeTrustPublishesEachRegistrysCA(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "trusted")
	ra := waitCondition(t, ns, "trusted", v1alpha1.ConditionCertificatesReady, metav1.ConditionTrue, "")
	host := ra.Status.URLs.Node[len("https://"):]
	ca := get(t, ns, ra.Status.CAConfigMapName, &corev1.ConfigMap{}).Data[render.KeyCACert]
	eventually(t, 10*time.Second, func() error {
		if got := trustEntries(t)[host]; string(got) != string(ca) {
			return fmt.Errorf("trust for %s = %q", host, got)
		}
		return nil
	})
	if err := k8s.Delete(context.Background(), ra); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if _, ok := trustEntries(t)[host]; ok {
			return fmt.Errorf("%s still trusted after its registry was deleted", host)
		}
		return nil
	})
}
