package nodetrust

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func trustCM(t *testing.T, entries map[string]string) *corev1.ConfigMap {
	doc, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "trust"},
		Data:       map[string]string{DataKey: string(doc)},
	}
}

func waitChanged(t *testing.T, w *Watcher) {
	t.Helper()
	select {
	case <-w.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("no change signalled")
	}
}

func TestWatcherFollowsTheConfigMap(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := fake.NewClientset()
	w := &Watcher{Namespace: "ops", Name: "trust"}
	if err := w.Start(ctx, cs); err != nil {
		t.Fatal(err)
	}
	waitChanged(t, w) // the initial sync signal
	if e, err := w.Entries(); err != nil || len(e) != 0 {
		t.Fatalf("missing ConfigMap: entries=%v err=%v", e, err)
	}

	cms := cs.CoreV1().ConfigMaps("ops")
	if _, err := cms.Create(ctx, trustCM(t, map[string]string{"198.18.4.17:5000": "PEM"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitChanged(t, w)
	e, err := w.Entries()
	if err != nil || string(e["198.18.4.17:5000"]) != "PEM" {
		t.Fatalf("after create: entries=%v err=%v", e, err)
	}

	if err := cms.Delete(ctx, "trust", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitChanged(t, w)
	if e, _ := w.Entries(); len(e) != 0 {
		t.Fatalf("after delete: entries=%v", e)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	if _, err := Decode("{not json"); err == nil {
		t.Fatal("want an error")
	}
	if e, err := Decode(""); err != nil || len(e) != 0 {
		t.Fatalf("empty doc: %v %v", e, err)
	}
}
