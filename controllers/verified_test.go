package controllers

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
	"github.com/registry-auth-operator/registry-auth-operator/internal/selfcheck"
)

// TestReadyRequiresVerified: the probe identity is rendered first in the
// ACL (its repository only, then nothing), its credential is kept in the
// self-check Secret, and a failing self-check (the stand-in reports what
// internal/selfcheck reports for an unwritable volume) keeps Ready False
// with the check's reason and message.
func TestReadyRequiresVerified(t *testing.T) {
	ns := newNamespace(t)
	standInResults.Store(ns, selfcheck.Result{Reason: selfcheck.ReasonStorageNotWritable,
		Message: `the registry cannot start a blob upload (500): filesystem: mkdir /var/lib/registry/docker: permission denied`})
	defer standInResults.Delete(ns)
	createClassic(t, ns, "truth")
	waitCondition(t, ns, "truth", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	markDeploymentAvailable(t, ns, "truth")
	ra := waitCondition(t, ns, "truth", v1alpha1.ConditionVerified, metav1.ConditionFalse, selfcheck.ReasonStorageNotWritable)
	ra = waitCondition(t, ns, "truth", v1alpha1.ConditionReady, metav1.ConditionFalse, selfcheck.ReasonStorageNotWritable)
	if msg := condition(ra, v1alpha1.ConditionReady).Message; !strings.Contains(msg, "permission denied") {
		t.Errorf("Ready should quote the check: %q", msg)
	}

	settle(t)
	if n, notes := eventCount(t, ns, "truth", corev1.EventTypeWarning, selfcheck.ReasonStorageNotWritable); n != 1 {
		t.Errorf("want one StorageNotWritable Warning over the re-checks, got %d: %q", n, notes)
	}

	cfg := authUsers(t, ns, "truth")
	if u := cfg[probeUser]; u == nil || u.Password == "" {
		t.Fatalf("probe identity not rendered")
	}
	s := get(t, ns, render.SelfCheckSecretName(ra), &corev1.Secret{})
	if len(s.Data[render.KeyProbePassword]) < 32 || metav1.GetControllerOf(s) == nil {
		t.Errorf("self-check Secret: %d-byte password, controller %v", len(s.Data[render.KeyProbePassword]), metav1.GetControllerOf(s))
	}
	acl := authACL(t, ns, "truth")
	if len(acl) < 2 || *acl[0].Match.Account != probeUser || *acl[0].Match.Name != probeRepository ||
		*acl[1].Match.Account != probeUser || acl[1].Match.Name != nil || len(acl[1].Actions) != 0 {
		t.Errorf("the probe's rules must come first: its repository, then nothing: %+v", acl[:2])
	}

	standInResults.Delete(ns)
	poke(t, ns, "truth")
	waitCondition(t, ns, "truth", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
}

func authACL(t *testing.T, ns, name string) []authconfig.ACLEntry {
	t.Helper()
	cfg, _, err := authconfig.Parse(get(t, ns, name+"-auth", &corev1.Secret{}).Data[authconfig.ConfigFile])
	if err != nil {
		t.Fatal(err)
	}
	return cfg.ACL
}
