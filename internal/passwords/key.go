package passwords

import (
	"context"
	"crypto/rand"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// KeySecretData is the key of the fingerprint key in its Secret.
const KeySecretData = "key"

// LoadKey returns the fingerprint key kept in the Secret namespace/name (the
// operator's own namespace, which no registry pod reads), creating it on
// first start. c must read from the API server: the key Secret is read once,
// before any cache runs. Several replicas starting at once agree on the
// Secret that was created first.
func LoadKey(ctx context.Context, c client.Client, namespace, name string) ([]byte, error) {
	for range 2 {
		s := &corev1.Secret{}
		err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, s)
		if err == nil {
			if k := s.Data[KeySecretData]; len(k) >= 32 {
				return k, nil
			}
			return nil, fmt.Errorf("Secret %s/%s: key %q holds fewer than 32 bytes; delete the Secret to have a new key made", namespace, name, KeySecretData)
		}
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("reading the password fingerprint key %s/%s: %w", namespace, name, err)
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		s = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{
				"app.kubernetes.io/managed-by": "registry-auth-operator",
				"app.kubernetes.io/component":  "password-fingerprint-key",
			}},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{KeySecretData: key},
		}
		err = c.Create(ctx, s)
		if err == nil {
			return key, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating the password fingerprint key %s/%s: %w", namespace, name, err)
		}
	}
	return nil, fmt.Errorf("the password fingerprint key %s/%s was created and removed concurrently", namespace, name)
}
