package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// eventsAbout lists the Events regarding the RegistryAuth.
func eventsAbout(t *testing.T, ns, name string) []eventsv1.Event {
	t.Helper()
	var evs eventsv1.EventList
	if err := k8s.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []eventsv1.Event
	for _, e := range evs.Items {
		if e.Regarding.Name == name && e.Regarding.Kind == "RegistryAuth" {
			out = append(out, e)
		}
	}
	return out
}

// eventCount counts the Events with this type and reason (each Event
// object once, however its series grew).
func eventCount(t *testing.T, ns, name, typ, reason string) (int, []string) {
	t.Helper()
	n := 0
	var notes []string
	for _, e := range eventsAbout(t, ns, name) {
		if e.Type == typ && e.Reason == reason {
			n++
			notes = append(notes, e.Note)
		}
	}
	return n, notes
}

// assertNoDuplicateEvents: no two Event objects with the same type, reason
// and note regard the RegistryAuth.
func assertNoDuplicateEvents(t *testing.T, ns, name string) {
	t.Helper()
	seen := map[string]int{}
	for _, e := range eventsAbout(t, ns, name) {
		seen[e.Type+"/"+e.Reason+": "+e.Note]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("event recorded %d times: %s", n, k)
		}
	}
}

// TestRetryableFailureKeepsObservedGeneration: while the API server refuses
// writes for a reason a retry may outlive (here a ResourceQuota forbids new
// Secrets), observedGeneration does not claim the generation, Ready and
// Reconciling say what fails, the steps that need the failed ones are
// skipped, and the Warning is recorded once however often the retry runs.
func TestRetryableFailureKeepsObservedGeneration(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	for _, s := range []*corev1.Secret{passwordSecret(ns, "quota-admin", "badmin"), passwordSecret(ns, "quota-reader", "reader-pw")} {
		if err := k8s.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	// The quota admission plugin reads the quota's status, which the quota
	// controller (not running in envtest) would write: the test writes it.
	q := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-new-secrets"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceSecrets: resource.MustParse("0")}},
	}
	if err := k8s.Create(ctx, q); err != nil {
		t.Fatal(err)
	}
	q.Status = corev1.ResourceQuotaStatus{
		Hard: corev1.ResourceList{corev1.ResourceSecrets: resource.MustParse("0")},
		Used: corev1.ResourceList{corev1.ResourceSecrets: resource.MustParse("0")},
	}
	if err := k8s.Status().Update(ctx, q); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, classicRA(ns, "quota")); err != nil {
		t.Fatal(err)
	}
	ra := waitCondition(t, ns, "quota", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonApplyFailed)
	ready := condition(ra, v1alpha1.ConditionReady)
	if !strings.Contains(ready.Message, "exceeded quota") || !strings.Contains(ready.Message, "skipped: deployment (needs serving certificate)") {
		t.Errorf("Ready should say what fails and what was skipped: %q", ready.Message)
	}
	if c := condition(ra, v1alpha1.ConditionReconciling); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Reconciling should be True while retrying: %+v", c)
	}
	if condition(ra, v1alpha1.ConditionStalled) != nil {
		t.Error("a retryable failure is not Stalled")
	}
	// Retries run with backoff meanwhile.
	time.Sleep(3 * time.Second)
	ra = get(t, ns, "quota", &v1alpha1.RegistryAuth{})
	if ra.Status.ObservedGeneration == ra.Generation {
		t.Errorf("observedGeneration %d claims the generation although steps failed", ra.Status.ObservedGeneration)
	}
	if exists(t, ns, "quota", &appsv1.Deployment{}) {
		t.Error("the Deployment was applied although the steps it needs failed")
	}
	if !exists(t, ns, "quota", &corev1.Service{}) || !exists(t, ns, "quota-registry", &corev1.ConfigMap{}) {
		t.Error("steps that do not need a Secret should have run")
	}
	if n, notes := eventCount(t, ns, "quota", corev1.EventTypeWarning, v1alpha1.ReasonApplyFailed); n != 1 {
		t.Errorf("want exactly 1 ApplyFailed Warning over the retries, got %d: %q", n, notes)
	}

	if err := k8s.Delete(ctx, q); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() error {
		ra = get(t, ns, "quota", &v1alpha1.RegistryAuth{})
		if ra.Status.ObservedGeneration != ra.Generation {
			return fmt.Errorf("observedGeneration %d, generation %d", ra.Status.ObservedGeneration, ra.Generation)
		}
		return nil
	})
	if c := condition(ra, v1alpha1.ConditionReady); c == nil || c.Reason == v1alpha1.ReasonApplyFailed {
		t.Errorf("Ready still reports the failure: %+v", c)
	}
	if !exists(t, ns, "quota", &appsv1.Deployment{}) {
		t.Error("Deployment not applied once the writes pass")
	}
}

// TestStalledStepDoesNotBlockRollouts: a step that stalls (here the auth
// config: a foreign Secret holds its name) stops only itself: the
// Deployment, which does not need it, is still applied and still rolls on a
// change, and the generation counts as observed (a verdict was reached).
func TestStalledStepDoesNotBlockRollouts(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pinned-auth"}}
	if err := k8s.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	createClassic(t, ns, "pinned")
	ra := waitCondition(t, ns, "pinned", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonNameConflict)
	if msg := condition(ra, v1alpha1.ConditionStalled).Message; !strings.Contains(msg, "auth config:") {
		t.Errorf("Stalled should name the step: %q", msg)
	}
	if ra.Status.ObservedGeneration != ra.Generation {
		t.Errorf("a stalled verdict observes the generation: %d vs %d", ra.Status.ObservedGeneration, ra.Generation)
	}
	var before string
	eventually(t, 10*time.Second, func() error {
		d := &appsv1.Deployment{}
		if !exists(t, ns, "pinned", d) {
			return fmt.Errorf("Deployment not applied: the stalled step blocked it")
		}
		before = d.Spec.Template.Annotations[render.AnnotationRestartHash]
		return nil
	})

	// A change that rolls the pods still rolls them.
	ra = get(t, ns, "pinned", &v1alpha1.RegistryAuth{})
	ra.Spec.Auth.Service = "pinned.example.test"
	if err := updateRA(ctx, ra); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		if h := get(t, ns, "pinned", &appsv1.Deployment{}).Spec.Template.Annotations[render.AnnotationRestartHash]; h == before {
			return fmt.Errorf("restart hash unchanged: the Deployment step was blocked")
		}
		return nil
	})
}

// TestInvalidIsStalledOthersRetry: the API server's 422 (an immutable
// field, a value out of range) is classified as needing the input to
// change; other API errors are retried.
func TestInvalidIsStalledOthersRetry(t *testing.T) {
	invalid := apierrors.NewInvalid(schema.GroupKind{Kind: "PersistentVolumeClaim"}, "x-data",
		field.ErrorList{field.Invalid(field.NewPath("spec"), "", "field is immutable")})
	if se, ok := asStalled(fmt.Errorf("applying: %w", invalid)); !ok || se.reason != v1alpha1.ReasonApplyRejected {
		t.Errorf("422 should stall with ApplyRejected: %v %v", se, ok)
	}
	if se, ok := asStalled(stall(v1alpha1.ReasonNameConflict, "in the way")); !ok || se.reason != v1alpha1.ReasonNameConflict {
		t.Errorf("a stalledError keeps its reason: %v", se)
	}
	for _, err := range []error{
		apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "x", errors.New("exceeded quota")),
		apierrors.NewConflict(schema.GroupResource{Resource: "secrets"}, "x", errors.New("changed")),
		apierrors.NewServiceUnavailable("away"),
	} {
		if _, ok := asStalled(err); ok {
			t.Errorf("%v should be retried, not stalled", err)
		}
	}
}

// TestEventsForTransitionsOnly: a healthy registry's life gives Normal
// Events for what an admin cares about, each once, and a problem gives one
// Warning however many reconciles follow.
func TestEventsForTransitionsOnly(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	createClassic(t, ns, "ev")
	waitCondition(t, ns, "ev", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	markDeploymentAvailable(t, ns, "ev")
	waitCondition(t, ns, "ev", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	settle(t)
	for _, reason := range []string{"Created", "ServingCertificateIssued", "Ready"} {
		if n, notes := eventCount(t, ns, "ev", corev1.EventTypeNormal, reason); n != 1 {
			t.Errorf("want one Normal %s Event, got %d: %q", reason, n, notes)
		}
	}

	s := get(t, ns, "ev-admin", &corev1.Secret{})
	s.Data["password"] = []byte("another-one")
	if err := k8s.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		if n, notes := eventCount(t, ns, "ev", corev1.EventTypeNormal, "UsersChanged"); n != 1 || !strings.Contains(notes[0], "new password: admin") {
			return fmt.Errorf("want one UsersChanged Event naming admin, got %d: %q", n, notes)
		}
		return nil
	})

	// A problem: the reader's Secret goes away. Each status patch triggers
	// another reconcile; the Warning is still recorded once.
	if err := k8s.Delete(ctx, get(t, ns, "ev-reader", &corev1.Secret{})); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, ns, "ev", v1alpha1.ConditionConfigRendered, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound)
	settle(t)
	ra := get(t, ns, "ev", &v1alpha1.RegistryAuth{})
	ra.Annotations = map[string]string{"touch": "1"} // one more reconcile, nothing changed
	if err := updateRA(ctx, ra); err != nil {
		t.Fatal(err)
	}
	settle(t)
	if n, notes := eventCount(t, ns, "ev", corev1.EventTypeWarning, v1alpha1.ReasonSecretNotFound); n != 1 {
		t.Errorf("want one SecretNotFound Warning, got %d: %q", n, notes)
	}
	assertNoDuplicateEvents(t, ns, "ev")
}
