package controllers

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// A reconcile must see its own writes in the next one: the robot state and
// the pull Secret are checked against each other, and a cache one write
// behind would look like a lost password (and start over), or a missing
// ServiceAccount entry (and append it twice). So each reconcile ends by
// waiting until the cache holds what it wrote.

type cacheWrite struct {
	obj     client.Object
	rv      string // "" for a deletion
	deleted bool
}

// wrote records a write; obj holds the server's answer.
func (r *PullAccessReconciler) wrote(obj client.Object) {
	r.pending = append(r.pending, cacheWrite{obj: obj.DeepCopyObject().(client.Object), rv: obj.GetResourceVersion()})
}

// deleted records a deletion.
func (r *PullAccessReconciler) deleted(obj client.Object) {
	r.pending = append(r.pending, cacheWrite{obj: obj.DeepCopyObject().(client.Object), deleted: true})
}

// awaitCache waits (bounded) until the cache reflects the recorded writes.
// On timeout it returns: the next reconcile starts from whatever it sees,
// which is still correct, only possibly wasteful.
func (r *PullAccessReconciler) awaitCache(ctx context.Context) {
	defer func() { r.pending = nil }()
	deadline := time.Now().Add(10 * time.Second)
	for _, w := range r.pending {
		var reader client.Reader = r.Cache
		if _, ok := w.obj.(*v1alpha1.RegistryAuth); ok {
			reader = r.Client
		}
		for time.Now().Before(deadline) {
			cur := w.obj.DeepCopyObject().(client.Object)
			err := reader.Get(ctx, client.ObjectKeyFromObject(w.obj), cur)
			if w.deleted && apierrors.IsNotFound(err) || !w.deleted && err == nil && cur.GetResourceVersion() == w.rv {
				break
			}
			if !w.deleted && err == nil && newer(cur.GetResourceVersion(), w.rv) {
				break // someone wrote after us: the cache is past our write
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// newer compares resourceVersions the way etcd-backed servers issue them
// (increasing integers); an unparsable one counts as not newer.
func newer(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}
