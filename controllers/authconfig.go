package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/passwords"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// userProblem is why one user could not be rendered.
type userProblem struct {
	reason, message string
}

// reconcileAuthConfig renders users (bcrypt hashes only) and the ACL into the
// auth Secret. The auth container reloads it live, so it is not a restart input.
func (r *RegistryAuthReconciler) reconcileAuthConfig(ctx context.Context, st *state) error {
	current, err := r.getSecret(ctx, st.ra.Namespace, st.names.AuthConfig)
	if err != nil {
		return err
	}
	existing := renderedPasswords(current)
	rendered, problems, err := r.resolvePasswords(ctx, st, existing)
	if err != nil {
		return err
	}
	hashes := make(map[string]string, len(rendered))
	for name, p := range rendered {
		hashes[name] = p.Hash
	}
	cfg, err := render.AuthConfig(st.ra, st.wiring, hashes)
	if err == nil {
		err = r.addRobots(ctx, st, cfg)
	}
	if err != nil {
		// Keep serving the last good config: nothing is applied.
		r.fail(st, v1alpha1.ConditionConfigRendered, v1alpha1.ReasonInvalidACL, "auth config not rendered: "+err.Error())
		return nil
	}
	probePassword, probeHash, err := r.probeCredential(ctx, st)
	if err != nil {
		return err
	}
	addProbe(cfg, probeHash)
	out, err := authconfig.Marshal(cfg)
	if err != nil {
		return err
	}
	refreshKey := secretData(current, authconfig.RefreshKeyFile)
	if _, err := authconfig.ParseRefreshKey(refreshKey); err != nil {
		refreshKey = randomSecret()
	}
	desired := render.AuthSecret(st.ra, out, refreshKey)
	if fp := marshalFingerprints(rendered); fp != nil {
		desired.Data[KeyPasswordFingerprints] = fp
	}
	if _, err := r.apply(ctx, st, desired); err != nil {
		return err
	}
	if current != nil {
		r.announceUserChanges(st, existing, rendered)
	}
	st.probePassword = probePassword
	if len(problems) > 0 {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.message
		}
		r.fail(st, v1alpha1.ConditionConfigRendered, problems[0].reason, strings.Join(msgs, "; "))
		return nil
	}
	st.set(v1alpha1.ConditionConfigRendered, true, v1alpha1.ReasonSucceeded,
		fmt.Sprintf("%d users and %d ACL rules rendered", len(hashes), len(st.ra.Spec.Auth.ACL)))
	return nil
}

// resolvePasswords reads each user's Secret. A user whose password cannot be
// read is left out (it cannot log in) and reported; the others keep working.
// Passwords that need bcrypt (new or changed) are hashed in parallel.
func (r *RegistryAuthReconciler) resolvePasswords(ctx context.Context, st *state, existing map[string]passwords.Rendered) (map[string]passwords.Rendered, []userProblem, error) {
	type job struct {
		user, secret, key string
		value             []byte
	}
	var jobs []job
	var problems []userProblem
	for _, u := range st.ra.Spec.Auth.Users {
		ref := u.PasswordSecretRef
		key := ref.Key
		if key == "" {
			key = "password"
		}
		if ownsSecretName(st, ref.Name) {
			continue // never read the operator's own output as a password: NameConflict says so
		}
		s, err := r.getSecret(ctx, st.ra.Namespace, ref.Name)
		if err != nil {
			return nil, nil, err
		}
		if s == nil {
			problems = append(problems, userProblem{v1alpha1.ReasonSecretNotFound,
				fmt.Sprintf("user %q: Secret %q not found in namespace %q", u.Name, ref.Name, st.ra.Namespace)})
			continue
		}
		value, ok := s.Data[key]
		if !ok {
			problems = append(problems, userProblem{v1alpha1.ReasonSecretKeyNotFound,
				fmt.Sprintf("user %q: Secret %q has no key %q", u.Name, ref.Name, key)})
			continue
		}
		if passwords.LooksLikeHash(value) {
			// Never copied blindly: a garbled hash locks the user out silently.
			if err := passwords.CheckHash(value); err != nil {
				problems = append(problems, userProblem{v1alpha1.ReasonInvalidPasswordHash,
					fmt.Sprintf("user %q: Secret %q key %q holds a bcrypt hash that cannot be used: %v", u.Name, ref.Name, key, err)})
				continue
			}
		}
		jobs = append(jobs, job{u.Name, ref.Name, key, value})
	}
	results := make([]passwords.Rendered, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { results[i], errs[i] = r.Hasher.Resolve(j.value, existing[j.user]) })
	}
	wg.Wait()
	out := map[string]passwords.Rendered{}
	for i, j := range jobs {
		if errs[i] != nil {
			problems = append(problems, userProblem{v1alpha1.ReasonInvalidPassword,
				fmt.Sprintf("user %q: password in Secret %q key %q: %v", j.user, j.secret, j.key, errs[i])})
			continue
		}
		out[j.user] = results[i]
	}
	return out, problems, nil
}
