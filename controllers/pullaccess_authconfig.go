package controllers

import (
	"context"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pullaccess"
)

// addRobots is the registry controller's hook for pull access: the robots'
// hashes, kept by the pull-access controller in the robots Secret, become
// users of the auth config, with ACL rules ahead of the spec's.
func (r *RegistryAuthReconciler) addRobots(ctx context.Context, st *state, cfg *authconfig.Config) error {
	if st.ra.Spec.PullSecrets == nil {
		return nil
	}
	s, err := r.getSecret(ctx, st.ra.Namespace, pullaccess.StateSecretName(st.ra))
	if err != nil || s == nil {
		return err
	}
	robots, err := pullaccess.ParseState(s.Data[pullaccess.StateKey])
	if err != nil {
		robots = nil // the pull-access controller rewrites it
	}
	pullaccess.AddRobots(cfg, st.ra.Spec.PullSecrets, robots)
	return authconfig.Validate(cfg)
}
