package rotation

import (
	"time"
)

// Annotation suffixes; callers prefix them per anchor kind, e.g.
// "token-ca.registryauth.dev/".
const (
	keyPhase      = "rotation-phase"
	keyStartedAt  = "rotation-started-at"
	keySwitchedAt = "rotation-switched-at"
	keySignedAt   = "rotation-signed-at"
	keyHold       = "rotation-hold"
	keyRequested  = "rotation-requested"
)

// Parse reads a State from annotations written by Annotations. Unknown or
// malformed values read as a stable state: the worst case is a rotation
// restarting from its first step, which is always safe.
func Parse(annotations map[string]string, prefix string) State {
	s := State{Phase: Phase(annotations[prefix+keyPhase]), Requested: annotations[prefix+keyRequested]}
	switch s.Phase {
	case Stable:
		return s
	case Adding, Switched:
	default:
		return State{Requested: s.Requested}
	}
	var err error
	if s.StartedAt, err = time.Parse(time.RFC3339, annotations[prefix+keyStartedAt]); err != nil {
		return State{Requested: s.Requested}
	}
	if s.Phase == Switched {
		s.SwitchedAt, err = time.Parse(time.RFC3339, annotations[prefix+keySwitchedAt])
		if err != nil {
			return State{Requested: s.Requested}
		}
		if s.Hold, err = time.ParseDuration(annotations[prefix+keyHold]); err != nil {
			return State{Requested: s.Requested}
		}
		if v := annotations[prefix+keySignedAt]; v != "" {
			if s.SignedAt, err = time.Parse(time.RFC3339, v); err != nil {
				return State{Requested: s.Requested}
			}
		}
	}
	return s
}

// Annotations encodes s; a stable state without request yields no keys but
// the request, so a finished rotation leaves little behind.
func (s State) Annotations(prefix string) map[string]string {
	out := map[string]string{}
	if s.Requested != "" {
		out[prefix+keyRequested] = s.Requested
	}
	if s.Phase == Stable {
		return out
	}
	out[prefix+keyPhase] = string(s.Phase)
	out[prefix+keyStartedAt] = s.StartedAt.UTC().Format(time.RFC3339)
	if s.Phase == Switched {
		out[prefix+keySwitchedAt] = s.SwitchedAt.UTC().Format(time.RFC3339)
		out[prefix+keyHold] = s.Hold.String()
		if !s.SignedAt.IsZero() {
			out[prefix+keySignedAt] = s.SignedAt.UTC().Format(time.RFC3339)
		}
	}
	return out
}
