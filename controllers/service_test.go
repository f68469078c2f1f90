package controllers

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestDeletedServiceComesBackAtItsAddress: the address clients, pull Secrets
// and nodes know (status.urls.node) survives the Service's deletion, and the
// serving certificate already covers it.
func TestDeletedServiceComesBackAtItsAddress(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "stable")
	ra := waitCondition(t, ns, "stable", v1alpha1.ConditionServiceAddress, metav1.ConditionTrue, v1alpha1.ReasonClusterIPAllocated)
	svc := get(t, ns, "stable", &corev1.Service{})
	ip, node := svc.Spec.ClusterIP, ra.Status.URLs.Node
	if ra.Status.ClusterIP != ip || node != "https://"+ip+":5000" {
		t.Fatalf("status.clusterIP %q, urls.node %q; Service has %s", ra.Status.ClusterIP, node, ip)
	}
	if err := k8s.Delete(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		again := &corev1.Service{}
		if !exists(t, ns, "stable", again) || again.UID == svc.UID {
			return fmt.Errorf("the Service is not recreated yet")
		}
		if again.Spec.ClusterIP != ip {
			return fmt.Errorf("recreated at %s, was %s", again.Spec.ClusterIP, ip)
		}
		return nil
	})
	settle(t)
	ra = get(t, ns, "stable", &v1alpha1.RegistryAuth{})
	if ra.Status.URLs.Node != node {
		t.Errorf("status.urls.node moved from %s to %s", node, ra.Status.URLs.Node)
	}
	if !slices.Contains(certSANs(servingCert(t, ns, "stable")), ip) {
		t.Errorf("the serving certificate does not cover %s", ip)
	}
	assertEvents(t, ns, "stable", "ServiceRecreated")
}

// TestPinnedClusterIP: spec.expose.service.clusterIP gives the Service that
// address, covered by the serving certificate; an address the API server
// refuses becomes a condition naming it, not an endless retry; a live
// Service at another address is reported, not silently kept.
func TestPinnedClusterIP(t *testing.T) {
	ns := newNamespace(t)
	free := freeClusterIP(t)
	ra := classicRA(ns, "pinned")
	ra.Spec.Expose.Service.ClusterIP = free
	createWithUsers(t, ra)
	ra = waitCondition(t, ns, "pinned", v1alpha1.ConditionServiceAddress, metav1.ConditionTrue, v1alpha1.ReasonClusterIPPinned)
	if got := get(t, ns, "pinned", &corev1.Service{}).Spec.ClusterIP; got != free || ra.Status.URLs.Node != "https://"+free+":5000" {
		t.Fatalf("Service at %s, urls.node %s; pinned %s", got, ra.Status.URLs.Node, free)
	}
	waitCondition(t, ns, "pinned", v1alpha1.ConditionCertificatesReady, metav1.ConditionTrue, "")
	if !slices.Contains(certSANs(servingCert(t, ns, "pinned")), free) {
		t.Errorf("the serving certificate does not cover the pinned %s", free)
	}

	// Moving the pin cannot move a live Service: the condition says what to do.
	other := freeClusterIP(t)
	ra.Spec.Expose.Service.ClusterIP = other
	if err := updateRA(context.Background(), ra); err != nil {
		t.Fatal(err)
	}
	ra = waitCondition(t, ns, "pinned", v1alpha1.ConditionServiceAddress, metav1.ConditionFalse, v1alpha1.ReasonClusterIPMismatch)
	if msg := condition(ra, v1alpha1.ConditionServiceAddress).Message; !strings.Contains(msg, "delete the Service") {
		t.Errorf("the mismatch does not say how to move: %q", msg)
	}

	// An address outside the Service range is refused by the API server.
	ns2 := newNamespace(t)
	bad := classicRA(ns2, "outside")
	bad.Spec.Expose.Service.ClusterIP = "192.0.2.10"
	createWithUsers(t, bad)
	bad = waitCondition(t, ns2, "outside", v1alpha1.ConditionServiceAddress, metav1.ConditionFalse, v1alpha1.ReasonClusterIPUnavailable)
	if msg := condition(bad, v1alpha1.ConditionServiceAddress).Message; !strings.Contains(msg, "192.0.2.10") {
		t.Errorf("the condition does not name the address: %q", msg)
	}
	if c := condition(bad, v1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue {
		t.Error("an unusable pinned address does not stall the RegistryAuth")
	}
	if c := condition(bad, v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonClusterIPUnavailable {
		t.Errorf("Ready with no Service: %+v", c)
	}
}

// freeClusterIP picks an address in the Service range that no Service holds,
// from the top of the range the allocator fills last.
func freeClusterIP(t *testing.T) string {
	t.Helper()
	var list corev1.ServiceList
	if err := k8s.List(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	var sample netip.Addr
	for _, s := range list.Items {
		if a, err := netip.ParseAddr(s.Spec.ClusterIP); err == nil && a.Is4() {
			used[a.String()], sample = true, a
		}
	}
	if !sample.IsValid() {
		t.Fatal("no Service to learn the Service range from")
	}
	b := sample.As4()
	for last := 250; last > 100; last-- {
		b[3] = byte(last)
		if a := netip.AddrFrom4(b).String(); !used[a] {
			return a
		}
	}
	t.Fatal("no free address")
	return ""
}
