package controllers

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/internal/passwords"
)

// announceUserChanges emits one Normal Event when the users who can log in
// changed: who was added, removed, or got a new password. It names users,
// never hashes.
func (r *RegistryAuthReconciler) announceUserChanges(st *state, before, after map[string]passwords.Rendered) {
	var added, removed, changed []string
	for name, h := range after {
		old, ok := before[name]
		switch {
		case !ok:
			added = append(added, name)
		case old.Hash != h.Hash:
			changed = append(changed, name)
		}
	}
	for name := range before {
		// "" is docker_auth's anonymous entry, probeUser the operator's: not users.
		if _, ok := after[name]; !ok && name != "" && name != probeUser {
			removed = append(removed, name)
		}
	}
	var parts []string
	for _, p := range []struct {
		what  string
		names []string
	}{{"added", added}, {"removed", removed}, {"new password", changed}} {
		if len(p.names) > 0 {
			slices.Sort(p.names)
			parts = append(parts, p.what+": "+strings.Join(p.names, ", "))
		}
	}
	if len(parts) > 0 {
		r.event(st, corev1.EventTypeNormal, "UsersChanged", "Render", "users changed (%s)", strings.Join(parts, "; "))
	}
}
