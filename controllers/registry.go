package controllers

import (
	"context"

	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// reconcileRegistryConfig renders config.yml and keeps the HTTP secret that
// all replicas share. Both are restart inputs: the registry never reloads.
func (r *RegistryAuthReconciler) reconcileRegistryConfig(ctx context.Context, st *state) error {
	cfg, err := render.RegistryConfig(st.ra, st.wiring)
	if err != nil {
		return err
	}
	if _, err := r.apply(ctx, st, render.RegistryConfigMap(st.ra, cfg)); err != nil {
		return err
	}
	current, err := r.getSecret(ctx, st.ra.Namespace, st.names.HTTPSecret)
	if err != nil {
		return err
	}
	secret := secretData(current, render.KeyHTTPSecret)
	if len(secret) == 0 {
		secret = randomSecret()
	}
	if _, err := r.apply(ctx, st, render.HTTPSecret(st.ra, secret)); err != nil {
		return err
	}
	st.restartInputs = append(st.restartInputs, cfg, secret)
	return nil
}
