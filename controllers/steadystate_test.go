package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// TestSteadyStateReconcileSendsNoWrites: once everything is in place, a
// reconcile reads from the cache and writes nothing (no PATCH, PUT, POST or
// DELETE). It also prints the figures docs/benchmarks.md records.
func TestSteadyStateReconcileSendsNoWrites(t *testing.T) {
	ns := newNamespace(t)
	settle(t)
	mark := counter.mark()
	n0 := reconc.n.Load()
	createClassic(t, ns, "steady")
	waitCondition(t, ns, "steady", v1alpha1.ConditionConfigRendered, metav1.ConditionTrue, "")
	settle(t)
	created := counter.writesIn(mark, ns)
	t.Logf("FIGURE create: %d reconciles, %d mutating requests %v", reconc.n.Load()-n0, len(created), created)
	if len(created) == 0 {
		t.Fatal("counting is broken: creating a registry sent no writes")
	}

	// Trigger reconciles without changing anything the operator renders:
	// an annotation on the RegistryAuth, then a label on a password Secret.
	for _, touch := range []func() error{
		func() error { return annotate(&v1alpha1.RegistryAuth{}, ns, "steady") },
		func() error { return annotate(&corev1.Secret{}, ns, "steady-admin") },
	} {
		mark = counter.mark()
		n1 := reconc.n.Load()
		if err := touch(); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, func() error {
			if reconc.n.Load() == n1 {
				return fmt.Errorf("no reconcile yet")
			}
			return nil
		})
		settle(t)
		writes := counter.writesIn(mark, ns)
		t.Logf("FIGURE no-op: %d reconciles, %d mutating requests", reconc.n.Load()-n1, len(writes))
		if len(writes) != 0 {
			t.Errorf("a steady-state reconcile sent %d mutating requests: %v", len(writes), writes)
		}
	}
}

// annotate adds an annotation with a merge patch (an Update would send back
// the spec as Go re-encodes it, e.g. tokenTTL "5m" as "5m0s": a real change).
func annotate(obj client.Object, ns, name string) error {
	ctx := context.Background()
	if err := k8s.Get(ctx, key(ns, name), obj); err != nil {
		return err
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	obj.SetAnnotations(map[string]string{"example.com/touched": time.Now().String()})
	return k8s.Patch(ctx, obj, patch)
}

// TestGetShowsReadyAndReason reads the printer columns the way kubectl get
// does (a Table from the API server): Ready False with the reason.
func TestGetShowsReadyAndReason(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "table")
	waitCondition(t, ns, "table", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonRolloutInProgress)

	cfg := rest.CopyConfig(testConfig)
	cfg.GroupVersion = &schema.GroupVersion{Group: v1alpha1.GroupVersion.Group, Version: v1alpha1.GroupVersion.Version}
	cfg.APIPath = "/apis"
	cfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	rc, err := rest.RESTClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	table := &metav1.Table{}
	err = rc.Get().Namespace(ns).Resource("registryauths").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").Do(context.Background()).Into(table)
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string]int{}
	for i, c := range table.ColumnDefinitions {
		cols[c.Name] = i
	}
	if len(table.Rows) != 1 {
		t.Fatalf("%d rows", len(table.Rows))
	}
	row := table.Rows[0].Cells
	if row[cols["Ready"]] != "False" || row[cols["Reason"]] != v1alpha1.ReasonRolloutInProgress ||
		row[cols["URL"]] != "https://table."+ns+".svc:5000" {
		t.Errorf("kubectl get ra shows %v (columns %v)", row, cols)
	}
	t.Logf("kubectl get ra: %v", row)
}
