package controllers

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ServiceAccount.imagePullSecrets is an atomic list (no merge key): a
// server-side apply of our entry would claim the whole list and, forced,
// drop the entries of every other writer; a strategic merge patch replaces
// it too. So entries are added and removed with JSON patches, each guarded
// by a "test" of exactly what it relies on.

type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// ensureEntries adds secret to each named ServiceAccount of ns that lacks it.
// A ServiceAccount that does not exist yet is skipped; its creation is
// watched and brings the registry back here.
func (r *PullAccessReconciler) ensureEntries(ctx context.Context, ns, secret string, names []string) error {
	for _, name := range serviceAccountsOr(names) {
		sa := &corev1.ServiceAccount{}
		if err := r.Cache.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, sa); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return err
		}
		if hasEntry(sa, secret) {
			continue
		}
		var ops []jsonPatchOp
		entry := corev1.LocalObjectReference{Name: secret}
		if len(sa.ImagePullSecrets) == 0 {
			// Creating the list: only valid while nobody else created it meanwhile.
			ops = []jsonPatchOp{
				{Op: "test", Path: "/metadata/resourceVersion", Value: sa.ResourceVersion},
				{Op: "add", Path: "/imagePullSecrets", Value: []corev1.LocalObjectReference{entry}},
			}
		} else {
			// Appending never removes anything, whatever the list holds now.
			ops = []jsonPatchOp{{Op: "add", Path: "/imagePullSecrets/-", Value: entry}}
		}
		if err := r.patchSA(ctx, ns, name, ops); err != nil {
			return err
		}
	}
	return nil
}

// removeEntries removes secret from every ServiceAccount of ns that names
// it (keep: names not to touch), and nothing else.
func (r *PullAccessReconciler) removeEntries(ctx context.Context, ns, secret string, keep []string) error {
	var list corev1.ServiceAccountList
	if err := r.Cache.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	for i := range list.Items {
		sa := &list.Items[i]
		if slices.Contains(keep, sa.Name) {
			continue
		}
		// From the end, so earlier indexes stay valid within one patch.
		var ops []jsonPatchOp
		for j := len(sa.ImagePullSecrets) - 1; j >= 0; j-- {
			if sa.ImagePullSecrets[j].Name != secret {
				continue
			}
			path := "/imagePullSecrets/" + strconv.Itoa(j)
			ops = append(ops, jsonPatchOp{Op: "test", Path: path + "/name", Value: secret}, jsonPatchOp{Op: "remove", Path: path})
		}
		if len(ops) == 0 {
			continue
		}
		if err := r.patchSA(ctx, ns, sa.Name, ops); err != nil {
			return err
		}
	}
	return nil
}

func (r *PullAccessReconciler) patchSA(ctx context.Context, ns, name string, ops []jsonPatchOp) error {
	body, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	sa := &corev1.ServiceAccount{}
	sa.Namespace, sa.Name = ns, name
	// A failed "test" (422) means the list moved under us: the error
	// requeues and the next pass works from the newer list.
	return client.IgnoreNotFound(r.record(sa, r.Client.Patch(ctx, sa, client.RawPatch(types.JSONPatchType, body))))
}

func hasEntry(sa *corev1.ServiceAccount, secret string) bool {
	return slices.ContainsFunc(sa.ImagePullSecrets, func(l corev1.LocalObjectReference) bool { return l.Name == secret })
}
