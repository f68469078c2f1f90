package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// TestMalformedBcryptHashIsRefused: a value that claims to be a bcrypt hash
// but is garbage is not copied into the auth config: a condition and one
// Warning say which user and why; a valid hash then renders as is.
func TestMalformedBcryptHashIsRefused(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	createClassic(t, ns, "hash")
	waitCondition(t, ns, "hash", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	s := get(t, ns, "hash-reader", &corev1.Secret{})
	s.Data["password"] = []byte("$2a$10$" + strings.Repeat("garbage!", 7))
	if err := k8s.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	ra := waitCondition(t, ns, "hash", v1alpha1.ConditionConfigRendered, metav1.ConditionFalse, v1alpha1.ReasonInvalidPasswordHash)
	if msg := condition(ra, v1alpha1.ConditionConfigRendered).Message; !strings.Contains(msg, `user "reader"`) || !strings.Contains(msg, "malformed bcrypt hash") {
		t.Errorf("message should name the user and the problem: %q", msg)
	}
	if _, ok := authUsers(t, ns, "hash")["reader"]; ok {
		t.Error("the garbled hash was rendered")
	}
	settle(t)
	if n, notes := eventCount(t, ns, "hash", corev1.EventTypeWarning, v1alpha1.ReasonInvalidPasswordHash); n != 1 {
		t.Errorf("want one InvalidPasswordHash Warning, got %d: %q", n, notes)
	}

	// A cost beyond the accepted range is refused too: it would let one
	// login burn seconds of the auth server's CPU.
	good, err := bcrypt.GenerateFromPassword([]byte("reader-pw"), 4)
	if err != nil {
		t.Fatal(err)
	}
	s = get(t, ns, "hash-reader", &corev1.Secret{})
	s.Data["password"] = append([]byte("$2a$20$"), good[7:]...)
	if err := k8s.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		ra := get(t, ns, "hash", &v1alpha1.RegistryAuth{})
		if c := condition(ra, v1alpha1.ConditionConfigRendered); c == nil || !strings.Contains(c.Message, "cost 20 is outside") {
			return fmt.Errorf("cost not refused: %+v", c)
		}
		return nil
	})

	s = get(t, ns, "hash-reader", &corev1.Secret{})
	s.Data["password"] = good
	if err := k8s.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, ns, "hash", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	if u := authUsers(t, ns, "hash")["reader"]; u == nil || u.Password != string(good) {
		t.Error("a valid hash is rendered as it is")
	}
}

// TestCrashLoopReasonReachesAvailable: the reason and last words of a
// crash-looping container are in Available's (and Ready's) message. The
// pod's status is written by the test, a stand-in for the kubelet, which
// envtest does not run.
func TestCrashLoopReasonReachesAvailable(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	ra := createClassic(t, ns, "crash")
	waitCondition(t, ns, "crash", v1alpha1.ConditionAvailable, metav1.ConditionFalse, "")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "crash-7d9f-abcde", Labels: render.SelectorLabels(ra)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "auth", Image: "registry-auth-operator:test"}}},
	}
	if err := k8s.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	pod.Status = corev1.PodStatus{
		Phase: corev1.PodRunning,
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: "auth", RestartCount: 5,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "CrashLoopBackOff", Message: "back-off 2m40s restarting failed container=auth",
			}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 1, Reason: "Error", Message: "auth-server: loading /etc/auth/config.yml: users.admin: bad hash",
			}},
		}},
	}
	if err := k8s.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
	// Pods are not watched; the operator looks again within podRecheck.
	// Touching the RegistryAuth gets the reconcile now.
	ra = get(t, ns, "crash", &v1alpha1.RegistryAuth{})
	ra.Annotations = map[string]string{"touch": "1"}
	if err := updateRA(ctx, ra); err != nil {
		t.Fatal(err)
	}
	ra = waitCondition(t, ns, "crash", v1alpha1.ConditionAvailable, metav1.ConditionFalse, v1alpha1.ReasonPodsFailing)
	msg := condition(ra, v1alpha1.ConditionAvailable).Message
	for _, want := range []string{"container auth", "CrashLoopBackOff", "exit code 1", "users.admin: bad hash"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Available message lacks %q: %q", want, msg)
		}
	}
}
