// Package apply is the operator's one write path for owned objects:
// server-side apply of the full desired object under one field owner, and no
// request at all when that apply would change nothing.
//
// What was applied is remembered in the cluster, not in memory: each applied
// object carries the hash of the desired object it was applied from
// (AnnotationAppliedHash). An apply is skipped when that hash equals the hash
// of the desired object now and the live object still holds every field the
// desired object sets (nobody changed the operator's fields since). A
// restarted operator therefore sends no write for objects that are in place,
// and there is no per-object memory to forget.
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldOwner is the field manager of every field the operator sets.
const FieldOwner = "registry-auth-operator"

// AnnotationAppliedHash holds the hash of the desired object last applied.
const AnnotationAppliedHash = "registryauth.dev/applied-hash"

// Applier applies desired objects. A change made by anyone else to a field
// the operator sets is seen (the live object no longer holds the desired
// value), so the next reconcile applies again and puts the field back.
type Applier struct {
	// Client writes; Reader reads the current object (the manager's cache).
	// The cache holds owned objects only (selected by label): an object it
	// does not hold is applied without a look, which is right for a new
	// object and for one that lost the label (the apply puts it back).
	Client client.Client
	Reader client.Reader
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
	found, err := a.get(ctx, client.ObjectKeyFromObject(desired), current)
	if err != nil {
		return false, fmt.Errorf("reading %s %s: %w", gvk.Kind, desired.GetName(), err)
	}
	if found && current.GetAnnotations()[AnnotationAppliedHash] == hash {
		if held, err := holds(current, u.Object); err != nil {
			return false, err
		} else if held {
			current.GetObjectKind().SetGroupVersionKind(gvk)
			reflect.ValueOf(desired).Elem().Set(reflect.ValueOf(current).Elem())
			return false, nil
		}
	}
	ac := client.ApplyConfigurationFromUnstructured(u)
	if err := a.Client.Apply(ctx, ac, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return false, fmt.Errorf("applying %s %s: %w", gvk.Kind, desired.GetName(), err)
	}
	reset(desired)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, desired); err != nil {
		return true, err
	}
	desired.GetObjectKind().SetGroupVersionKind(gvk)
	return true, nil
}

// get reads key into obj; found is false when the reader does not hold it.
func (a *Applier) get(ctx context.Context, key client.ObjectKey, obj client.Object) (found bool, err error) {
	err = a.Reader.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// toApplyObject converts a typed desired object into an apply request body,
// dropping what a typed object always carries but the operator does not set,
// and stamps it with the hash of that body.
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
	unstructured.RemoveNestedField(u.Object, "metadata", "annotations", AnnotationAppliedHash)
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
	hash := hex.EncodeToString(sum[:])
	ann := u.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AnnotationAppliedHash] = hash
	u.SetAnnotations(ann)
	return u, hash, nil
}

// reset zeroes obj, so decoding the live object leaves nothing of desired behind.
func reset(obj client.Object) {
	v := reflect.ValueOf(obj).Elem()
	v.Set(reflect.Zero(v.Type()))
}
