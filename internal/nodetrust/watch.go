package nodetrust

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// DataKey is the ConfigMap key holding the JSON map "host:port" -> PEM bundle.
const DataKey = "trust.json"

// Watcher keeps one ConfigMap in an informer cache and signals each change.
// It lists and watches with a metadata.name field selector, so RBAC can be
// limited to that one object (resourceNames).
type Watcher struct {
	Namespace, Name string
	store           cache.Store
	changed         chan struct{}
}

// Start runs the informer until ctx ends and waits for its first list.
func (w *Watcher) Start(ctx context.Context, cs kubernetes.Interface) error {
	sel := fields.OneTermEqualSelector("metadata.name", w.Name).String()
	cms := cs.CoreV1().ConfigMaps(w.Namespace)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return cms.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return cms.Watch(ctx, o)
		},
	}
	w.changed = make(chan struct{}, 1)
	notify := func() {
		select {
		case w.changed <- struct{}{}:
		default: // a sync is already pending; it will read the latest state
		}
	}
	store, ctrl := cache.NewInformerWithOptions(cache.InformerOptions{
		// The wrapper lets the reflector fall back to list+watch with clients
		// that cannot stream lists (client-go's fake clientset).
		ListerWatcher: cache.ToListWatcherWithWatchListSemantics(lw, cs),
		ObjectType:    &corev1.ConfigMap{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { notify() },
			UpdateFunc: func(any, any) { notify() },
			DeleteFunc: func(any) { notify() },
		},
	})
	w.store = store
	go ctrl.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), ctrl.HasSynced) {
		return fmt.Errorf("configmap %s/%s: cache did not sync", w.Namespace, w.Name)
	}
	notify()
	return nil
}

// Changed signals that the ConfigMap may have changed.
func (w *Watcher) Changed() <-chan struct{} { return w.changed }

// Entries decodes the current ConfigMap; a missing ConfigMap or key means no
// registry is to be trusted.
func (w *Watcher) Entries() (map[string][]byte, error) {
	obj, ok, err := w.store.GetByKey(w.Namespace + "/" + w.Name)
	if err != nil || !ok {
		return map[string][]byte{}, err
	}
	return Decode(obj.(*corev1.ConfigMap).Data[DataKey])
}

// Decode parses the trust.json document.
func Decode(doc string) (map[string][]byte, error) {
	out := map[string][]byte{}
	if doc == "" {
		return out, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return nil, fmt.Errorf("%s: %w", DataKey, err)
	}
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out, nil
}

// resyncEvery repairs drift on disk (a deleted ca.crt) without an API event.
const resyncEvery = 5 * time.Minute
