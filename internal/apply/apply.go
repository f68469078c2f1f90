// Package apply is the operator's one write path for owned objects:
// server-side apply of the full desired object under one field owner, and no
// request at all when that same desired object was already applied to the
// object's current version.
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldOwner is the field manager of every field the operator sets.
const FieldOwner = "registry-auth-operator"

// Applier applies desired objects. A change made by anyone else bumps the
// object's resourceVersion, so the next reconcile applies again and puts the
// operator's fields back; an unchanged object costs only a cache read.
type Applier struct {
	// Client writes; Reader reads the current object (the manager's cache).
	Client client.Client
	Reader client.Reader

	mu sync.Mutex
	// applied maps an object to "<resourceVersion after apply>/<desired hash>".
	applied map[types.UID]string
}

// Apply makes the live object match desired. On return desired holds the
// live object. changed reports whether a request was sent.
func (a *Applier) Apply(ctx context.Context, desired client.Object) (changed bool, err error) {
	gvk := desired.GetObjectKind().GroupVersionKind()
	if gvk.Kind == "" {
		return false, fmt.Errorf("apply %s: desired object has no kind", desired.GetName())
	}
	u, hash, err := toApplyObject(desired)
	if err != nil {
		return false, err
	}
	current := desired.DeepCopyObject().(client.Object)
	switch err := a.Reader.Get(ctx, client.ObjectKeyFromObject(desired), current); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return false, fmt.Errorf("reading %s %s: %w", gvk.Kind, desired.GetName(), err)
	default:
		if a.seen(current.GetUID()) == current.GetResourceVersion()+"/"+hash {
			current.GetObjectKind().SetGroupVersionKind(gvk)
			reflect.ValueOf(desired).Elem().Set(reflect.ValueOf(current).Elem())
			return false, nil
		}
	}
	ac := client.ApplyConfigurationFromUnstructured(u)
	if err := a.Client.Apply(ctx, ac, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return false, fmt.Errorf("applying %s %s: %w", gvk.Kind, desired.GetName(), err)
	}
	a.remember(u.GetUID(), u.GetResourceVersion()+"/"+hash)
	reset(desired)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, desired); err != nil {
		return true, err
	}
	desired.GetObjectKind().SetGroupVersionKind(gvk)
	return true, nil
}

// Forget drops what is known about an object (after it was deleted).
func (a *Applier) Forget(uid types.UID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.applied, uid)
}

func (a *Applier) seen(uid types.UID) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.applied[uid]
}

func (a *Applier) remember(uid types.UID, v string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.applied == nil {
		a.applied = map[types.UID]string{}
	}
	a.applied[uid] = v
}

// toApplyObject converts a typed desired object into an apply request body,
// dropping what a typed object always carries but the operator does not set.
func toApplyObject(obj client.Object) (*unstructured.Unstructured, string, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, "", err
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "metadata", "resourceVersion")
	unstructured.RemoveNestedField(u.Object, "metadata", "uid")
	unstructured.RemoveNestedField(u.Object, "metadata", "managedFields")
	unstructured.RemoveNestedField(u.Object, "status")
	if tmpl, ok, _ := unstructured.NestedMap(u.Object, "spec", "template", "metadata"); ok {
		delete(tmpl, "creationTimestamp")
		_ = unstructured.SetNestedMap(u.Object, tmpl, "spec", "template", "metadata")
	}
	body, err := json.Marshal(u.Object)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(body)
	return u, hex.EncodeToString(sum[:]), nil
}

// reset zeroes obj, so decoding the live object leaves nothing of desired behind.
func reset(obj client.Object) {
	v := reflect.ValueOf(obj).Elem()
	v.Set(reflect.Zero(v.Type()))
}
