package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// getSecret reads a Secret; nil when it does not exist. The cache holds only
// owned Secrets (CacheOptions): users' password Secrets and bring-your-own
// certificates are read from the API server, so the operator never caches
// every Secret of the cluster.
func (r *RegistryAuthReconciler) getSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	s := &corev1.Secret{}
	found, err := r.read(ctx, types.NamespacedName{Namespace: namespace, Name: name}, s)
	if !found {
		return nil, err
	}
	return s, nil
}

// read reads key into obj from the cache, then from the API server when the
// cache does not hold it (it selects owned objects by label, and may not
// have seen a fresh one yet). found is false when the object does not exist.
func (r *RegistryAuthReconciler) read(ctx context.Context, key client.ObjectKey, obj client.Object) (found bool, err error) {
	err = r.Client.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) && r.APIReader != nil {
		err = r.APIReader.Get(ctx, key, obj)
	}
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// secretData returns a key of a possibly missing Secret.
func secretData(s *corev1.Secret, key string) []byte {
	if s == nil {
		return nil
	}
	return s.Data[key]
}
