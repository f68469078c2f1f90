package main

import (
	"context"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pullaccess"
)

// runPull: one registry whose spec.pullSecrets selects n namespaces
// (docs/pull-access.md). Steps: the n namespaces labelled -> every pull
// Secret and ServiceAccount entry in place; a no-op resync (the registry
// and a namespace touched); a restart with nothing changed. Each step
// prints the operator's memory, CPU and API requests; the resync and the
// restart should write nothing.
func runPull(o options, n int) error {
	ctx := context.Background()
	cl, op, err := bringUp(ctx, o)
	if err != nil {
		return err
	}
	defer cl.stop()
	defer func() { op.stop() }()

	ra, secrets := registry(0)
	ra.Spec.PullSecrets = &v1alpha1.PullSecretsSpec{
		NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"bench-pull": "yes"}},
		Repositories:      []v1alpha1.PullRepository{{Name: "${namespace}/*"}},
	}
	for _, s := range secrets {
		if err := cl.c.Create(ctx, s); err != nil {
			return err
		}
	}
	if err := cl.c.Create(ctx, ra); err != nil {
		return err
	}
	if err := cl.waitSettled(ctx, op, 1, o.settleTimeout); err != nil {
		return err
	}

	ph := cl.beginPhase(ctx, op)
	// Namespaces with their "default" ServiceAccount (envtest runs no
	// controller-manager to create it).
	if err := parallel(0, n, func(i int) error {
		ns := fmt.Sprintf("pull-%04d", i)
		if err := cl.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"bench-pull": "yes"}}}); err != nil {
			return err
		}
		return cl.c.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}})
	}); err != nil {
		return err
	}
	if err := cl.waitPullSecrets(ctx, op, n, o.settleTimeout); err != nil {
		return err
	}
	ph.report(ctx, fmt.Sprintf("pull access: %d namespaces labelled -> every pull Secret and ServiceAccount entry", n), n)

	ph = cl.beginPhase(ctx, op)
	before := op.pullReconciles()
	for _, obj := range []client.Object{ra, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "pull-0000"}}} {
		patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{"bench/touched":"%d"}}}`, time.Now().UnixNano()))
		if err := cl.c.Patch(ctx, obj, client.RawPatch("application/merge-patch+json", patch)); err != nil {
			return err
		}
	}
	if err := op.waitPull(ctx, before+2, o.settleTimeout); err != nil {
		return err
	}
	ph.report(ctx, fmt.Sprintf("pull access, %d namespaces: no-op resync (registry and a namespace touched; %.0f pull reconciles)", n, op.pullReconciles()-before), n)

	op.stop()
	if op, err = startOperator(o, cl); err != nil {
		return err
	}
	ph = cl.beginPhase(ctx, op)
	if err := op.waitUp(ctx); err != nil {
		return err
	}
	if err := op.waitPull(ctx, 1, o.settleTimeout); err != nil {
		return err
	}
	ph.report(ctx, fmt.Sprintf("pull access, %d namespaces: restart, nothing changed", n), n)
	return nil
}

// waitPullSecrets waits until n pull Secrets exist and the operator is idle.
func (cl *cluster) waitPullSecrets(ctx context.Context, op *operator, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := -1
	for time.Now().Before(deadline) {
		var list metav1.PartialObjectMetadataList
		list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
		if err := cl.c.List(ctx, &list, client.MatchingLabels{pullaccess.LabelKind: pullaccess.KindPullSecret}); err != nil {
			return err
		}
		if got := len(list.Items); got != last {
			fmt.Fprintf(os.Stderr, "  %s pull Secrets %d/%d\n", time.Now().Format("15:04:05"), got, n)
			last = got
		}
		if last == n && op.idle() {
			return nil
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("pull Secrets not all there after %s", timeout)
}

// pullReconciles finished by the pull-access controller.
func (op *operator) pullReconciles() float64 {
	m, _ := op.scrape()
	return sum(m, "controller_runtime_reconcile_total", `controller="pullaccess"`)
}

// waitPull waits until the pull-access controller finished at least want
// reconciles and every queue is empty.
func (op *operator) waitPull(ctx context.Context, want float64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if op.pullReconciles() >= want && op.idle() {
			time.Sleep(2 * time.Second) // late events (the operator's own writes) land
			if op.idle() {
				return nil
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("pull access not settled after %s", timeout)
}
