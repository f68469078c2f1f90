package controllers

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"time"

	"golang.org/x/crypto/bcrypt"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
	"github.com/registry-auth-operator/registry-auth-operator/internal/selfcheck"
)

const (
	// probeUser is the operator's own identity on each registry. Spec user
	// names start with a letter or digit (admission), so it cannot be one.
	probeUser = "_registryauth-selfcheck"
	// probeRepository is the only repository the probe identity may use
	// (push to start an upload, delete to cancel it); it never holds data.
	probeRepository = "registryauth-selfcheck/probe"
	// verifyInterval: how often a verified registry is checked again
	// (changes are checked at once: every change triggers a reconcile).
	verifyInterval = 5 * time.Minute
	// verifyRetry: how soon a failed check is repeated.
	verifyRetry = 20 * time.Second
)

// probeCredential returns the probe identity's password and bcrypt hash,
// made once and kept in the self-check Secret. The hash has the cost every
// user's hash has (the auth server accepts one cost only, so that timing
// tells nothing); hashing once per registry keeps that cost off reconciles.
func (r *RegistryAuthReconciler) probeCredential(ctx context.Context, st *state) (password, hash []byte, err error) {
	s, err := r.getSecret(ctx, st.ra.Namespace, render.SelfCheckSecretName(st.ra))
	if err != nil {
		return nil, nil, err
	}
	password, hash = secretData(s, render.KeyProbePassword), secretData(s, render.KeyProbeHash)
	cost := r.Hasher.Cost
	if cost == 0 {
		cost = authconfig.BcryptCost
	}
	if c, err := bcrypt.Cost(hash); len(password) < 32 || err != nil || c != cost || bcrypt.CompareHashAndPassword(hash, password) != nil {
		// 192 random bits, hex: within bcrypt's 72 bytes, unguessable.
		raw := make([]byte, 24)
		_, _ = rand.Read(raw)
		password = []byte(hex.EncodeToString(raw))
		if hash, err = bcrypt.GenerateFromPassword(password, cost); err != nil {
			return nil, nil, err
		}
	}
	if _, err := r.apply(ctx, st, render.SelfCheckSecret(st.ra, password, hash)); err != nil {
		return nil, nil, err
	}
	return password, hash, nil
}

// addProbe puts the probe identity in front of the user's ACL: the first
// rule lets it start and cancel uploads in its repository, the second
// denies it everything else, so it is usable for nothing but the check.
func addProbe(cfg *authconfig.Config, hash []byte) {
	cfg.Users[probeUser] = &authconfig.User{Password: string(hash)}
	cfg.ACL = append([]authconfig.ACLEntry{
		{Match: authconfig.MatchConditions{Account: ptr.To(probeUser), Name: ptr.To(probeRepository)},
			Actions: []string{"push", "pull", "delete"}, Comment: "the operator's self-check"},
		{Match: authconfig.MatchConditions{Account: ptr.To(probeUser)}, Actions: []string{}, Comment: "the self-check identity may do nothing else"},
	}, cfg.ACL...)
}

// reconcileVerified proves the registry works as a client uses it: through
// the Service, the token challenge, a token for the probe identity, GET
// /v2/, a blob upload started and cancelled (internal/selfcheck). Ready
// requires it. It runs once the pods are available, after every change and
// every verifyInterval.
func (r *RegistryAuthReconciler) reconcileVerified(ctx context.Context, st *state) error {
	avail := apimeta.FindStatusCondition(st.ra.Status.Conditions, v1alpha1.ConditionAvailable)
	if avail == nil || avail.Status != "True" || avail.ObservedGeneration != st.ra.Generation {
		st.set(v1alpha1.ConditionVerified, false, v1alpha1.ReasonProgressing, "checked once every pod is available")
		return nil
	}
	if r.Checker == nil || st.probePassword == nil {
		st.set(v1alpha1.ConditionVerified, false, v1alpha1.ReasonProgressing, "no self-check configured")
		return nil
	}
	var roots *x509.CertPool
	if st.serving != nil && len(st.serving.caPEM) > 0 {
		roots = x509.NewCertPool()
		roots.AppendCertsFromPEM(st.serving.caPEM)
	}
	res := r.Checker.Check(ctx, selfcheck.Target{
		URL: st.ra.Status.URLs.InCluster, Roots: roots,
		Username: probeUser, Password: string(st.probePassword), Repository: probeRepository,
	})
	st.log.V(1).Info("self-check", "ok", res.OK, "reason", res.Reason, "took", res.Took)
	st.set(v1alpha1.ConditionVerified, res.OK, res.Reason, res.Message)
	if !res.OK {
		// A Warning when the check starts failing (announce: once).
		st.warnings = append(st.warnings, warning{condType: v1alpha1.ConditionVerified, reason: res.Reason, message: res.Message})
	}
	if res.OK {
		st.renewals = append(st.renewals, st.now.Add(verifyInterval))
	} else {
		st.renewals = append(st.renewals, st.now.Add(verifyRetry))
	}
	return nil
}
