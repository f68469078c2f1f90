package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

func authUsers(t *testing.T, ns, name string) map[string]*authconfig.User {
	t.Helper()
	s := get(t, ns, name+"-auth", &corev1.Secret{})
	cfg, _, err := authconfig.Parse(s.Data[authconfig.ConfigFile])
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Users
}

func TestPasswordChangeReRendersWithoutRollingPods(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "pw")
	waitCondition(t, ns, "pw", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	settle(t)
	before := get(t, ns, "pw", &appsv1.Deployment{})
	oldHash := authUsers(t, ns, "pw")["admin"].Password

	s := get(t, ns, "pw-admin", &corev1.Secret{})
	s.Data["password"] = []byte("n3w-secret")
	if err := k8s.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		h := authUsers(t, ns, "pw")["admin"].Password
		if bcrypt.CompareHashAndPassword([]byte(h), []byte("n3w-secret")) != nil {
			return fmt.Errorf("admin's hash %q does not verify the new password yet", h)
		}
		return nil
	})
	if h := authUsers(t, ns, "pw")["admin"].Password; bcrypt.CompareHashAndPassword([]byte(h), []byte("badmin")) == nil || h == oldHash {
		t.Error("the old password still verifies")
	}
	settle(t)
	after := get(t, ns, "pw", &appsv1.Deployment{})
	if after.Generation != before.Generation ||
		after.Spec.Template.Annotations[render.AnnotationRestartHash] != before.Spec.Template.Annotations[render.AnnotationRestartHash] {
		t.Errorf("a password change rolled the pods: generation %d -> %d, restart hash %q -> %q", before.Generation, after.Generation,
			before.Spec.Template.Annotations[render.AnnotationRestartHash], after.Spec.Template.Annotations[render.AnnotationRestartHash])
	}
	// The other user's hash is kept byte for byte (no re-hash churn).
	if authUsers(t, ns, "pw")["reader"].Password == "" {
		t.Error("reader lost")
	}
}

func TestRegistryConfigChangeRollsPods(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "roll")
	waitCondition(t, ns, "roll", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	settle(t)
	before := get(t, ns, "roll", &appsv1.Deployment{}).Spec.Template.Annotations[render.AnnotationRestartHash]
	readerHash := authUsers(t, ns, "roll")["reader"].Password

	ra := get(t, ns, "roll", &v1alpha1.RegistryAuth{})
	ra.Spec.Auth.Service = "registry.example.test"
	if err := updateRA(context.Background(), ra); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		d := get(t, ns, "roll", &appsv1.Deployment{})
		if h := d.Spec.Template.Annotations[render.AnnotationRestartHash]; h == before {
			return fmt.Errorf("restart hash unchanged (%s)", h)
		}
		return nil
	})
	waitCondition(t, ns, "roll", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	w := readWired(t, ns, "roll")
	if got := tokenOption(t, w.registryCfg, "service"); got != "registry.example.test" || w.ra.Status.Service != "registry.example.test" {
		t.Errorf("service: registry %v, status %q", got, w.ra.Status.Service)
	}
	checkWiring(t, w)
	if w.authCfg.Users["reader"].Password != readerHash {
		t.Error("an unrelated change re-hashed a password")
	}
}

func TestOwnedObjectsAreRecreated(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "heal")
	waitCondition(t, ns, "heal", v1alpha1.ConditionCertificatesReady, metav1.ConditionTrue, "")
	settle(t)
	first := readWired(t, ns, "heal")
	ctx := context.Background()
	victims := []client.Object{
		get(t, ns, "heal", &appsv1.Deployment{}),
		get(t, ns, "heal", &corev1.Service{}),
		get(t, ns, "heal-token", &corev1.Secret{}),
		get(t, ns, "heal-registry", &corev1.ConfigMap{}),
	}
	for _, v := range victims {
		if err := k8s.Delete(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range victims {
		eventually(t, 15*time.Second, func() error {
			fresh := v.DeepCopyObject().(client.Object)
			if !exists(t, ns, v.GetName(), fresh) {
				return fmt.Errorf("%T %s not recreated", v, v.GetName())
			}
			if fresh.GetUID() == v.GetUID() {
				return fmt.Errorf("%T %s still the deleted object", v, v.GetName())
			}
			return nil
		})
	}
	settle(t)
	w := readWired(t, ns, "heal")
	checkWiring(t, w)
	// A new Service has a new ClusterIP: the serving certificate follows it.
	if w.svc.Spec.ClusterIP != first.svc.Spec.ClusterIP {
		serving := certs(t, w.secrets["heal-tls"].Data[corev1.TLSCertKey])[0]
		if err := serving.VerifyHostname(w.svc.Spec.ClusterIP); err != nil {
			t.Errorf("serving certificate not re-issued for the new ClusterIP: %v", err)
		}
		if w.ra.Status.URLs.Node != "https://"+w.svc.Spec.ClusterIP+":5000" {
			t.Errorf("status.urls.node %q does not follow the new ClusterIP", w.ra.Status.URLs.Node)
		}
	}
}

func TestMissingUserSecretIsReportedThenClears(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	if err := k8s.Create(ctx, passwordSecret(ns, "late-reader", "reader-pw")); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, classicRA(ns, "late")); err != nil {
		t.Fatal(err)
	}
	ra := waitCondition(t, ns, "late", v1alpha1.ConditionConfigRendered, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound)
	msg := condition(ra, v1alpha1.ConditionConfigRendered).Message
	if want := `user "admin": Secret "late-admin" not found`; !strings.Contains(msg, want) {
		t.Errorf("message %q does not say %q", msg, want)
	}
	if c := condition(ra, v1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Stalled should be True while the input is broken: %+v", c)
	}
	if c := condition(ra, v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonSecretNotFound {
		t.Errorf("Ready should carry the reason: %+v", c)
	}
	// The other user keeps working meanwhile.
	if _, ok := authUsers(t, ns, "late")["reader"]; !ok {
		t.Error("reader not rendered while admin's Secret is missing")
	}
	eventually(t, 10*time.Second, func() error {
		var evs eventsv1.EventList
		if err := k8s.List(ctx, &evs, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Reason == v1alpha1.ReasonSecretNotFound && e.Type == corev1.EventTypeWarning && e.Regarding.Name == "late" && strings.Contains(e.Note, "late-admin") {
				return nil
			}
		}
		return fmt.Errorf("no Warning event for the missing Secret among %d events", len(evs.Items))
	})

	// The watch on referenced Secrets (no polling) picks up the new Secret.
	if err := k8s.Create(ctx, passwordSecret(ns, "late-admin", "badmin")); err != nil {
		t.Fatal(err)
	}
	ra = waitCondition(t, ns, "late", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	if condition(ra, v1alpha1.ConditionStalled) != nil {
		t.Error("Stalled not cleared")
	}
	if u := authUsers(t, ns, "late")["admin"]; u == nil || bcrypt.CompareHashAndPassword([]byte(u.Password), []byte("badmin")) != nil {
		t.Error("admin not rendered after its Secret appeared")
	}
}

func TestInvalidACLIsAConditionAndKeepsLastGoodConfig(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "acl")
	waitCondition(t, ns, "acl", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	settle(t)
	good := get(t, ns, "acl-auth", &corev1.Secret{}).Data[authconfig.ConfigFile]

	ra := get(t, ns, "acl", &v1alpha1.RegistryAuth{})
	bad := "/team-(unclosed/"
	ra.Spec.Auth.ACL = append(ra.Spec.Auth.ACL, v1alpha1.ACLRule{Match: v1alpha1.ACLMatch{Name: &bad}, Actions: []string{"pull"}})
	if err := updateRA(context.Background(), ra); err != nil {
		t.Fatalf("CEL cannot check regex syntax, so admission accepts it: %v", err)
	}
	ra = waitCondition(t, ns, "acl", v1alpha1.ConditionConfigRendered, metav1.ConditionFalse, v1alpha1.ReasonInvalidACL)
	if msg := condition(ra, v1alpha1.ConditionConfigRendered).Message; !strings.Contains(msg, "acl[3]") || !strings.Contains(msg, "regular expression") {
		t.Errorf("message does not locate the bad rule: %q", msg)
	}
	if now := get(t, ns, "acl-auth", &corev1.Secret{}).Data[authconfig.ConfigFile]; string(now) != string(good) {
		t.Error("an invalid ACL replaced the last good auth config")
	}
}
