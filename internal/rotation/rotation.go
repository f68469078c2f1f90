// Package rotation decides the steps that replace a trust anchor (a CA, or a
// signing certificate that verifiers pin) without breaking any verifier:
//
//  1. add: the new anchor joins what verifiers trust, beside the old one;
//  2. switch: once every verifier trusts both, the signer moves to the new one;
//  3. drop: once nothing signed by the old one can still be in use, it goes.
//
// The state lives in annotations of the Secret that holds the anchors, so an
// operator restart resumes where it stopped. The package is pure: callers
// observe the cluster and pass what they saw.
package rotation

import (
	"time"
)

// Phase of a rotation.
type Phase string

const (
	// Stable: one anchor, nothing in flight.
	Stable Phase = ""
	// Adding: the new anchor is trusted beside the old; waiting until every
	// verifier has it.
	Adding Phase = "adding"
	// Switched: the signer uses the new anchor; waiting until nothing signed
	// by the old one is still valid.
	Switched Phase = "switched"
)

// State is one rotation's progress.
type State struct {
	Phase Phase
	// StartedAt is when the new anchor was added.
	StartedAt time.Time
	// SwitchedAt is when the signer was told to move to the new anchor.
	SwitchedAt time.Time
	// SignedAt is when every signer was first seen using the new anchor:
	// from then on the old one signs nothing new.
	SignedAt time.Time
	// Hold is how long after SignedAt the old anchor stays trusted (the
	// longest lifetime of what it signed, plus propagation), fixed at the switch.
	Hold time.Duration
	// Requested is the last on-demand request acted upon.
	Requested string
}

// Observed is what the caller saw in the cluster.
type Observed struct {
	// Due: the active anchor wants replacing (renewal time, or a new request).
	Due bool
	// Trusted: every verifier now trusts the current set (the rollout that
	// carries it completed, or the overlap for clients elapsed).
	Trusted bool
	// SignerSwitched: every signer now uses the new anchor (live reload done,
	// or the rollout that carries it completed).
	SignerSwitched bool
}

// Action is the next step to take.
type Action string

const (
	None   Action = ""
	Begin  Action = "add"
	Switch Action = "switch"
	// Signed records that every signer uses the new anchor: the hold starts.
	Signed Action = "signed"
	Drop   Action = "drop"
)

// Next returns the step due now.
func Next(s State, o Observed, now time.Time) Action {
	switch s.Phase {
	case Stable:
		if o.Due {
			return Begin
		}
	case Adding:
		if o.Trusted {
			return Switch
		}
	case Switched:
		switch {
		case s.SignedAt.IsZero():
			if o.SignerSwitched {
				return Signed
			}
		case !now.Before(s.DropAt()):
			return Drop
		}
	}
	return None
}

// DropAt is when the old anchor may go (zero until every signer switched).
func (s State) DropAt() time.Time {
	if s.Phase != Switched || s.SignedAt.IsZero() {
		return time.Time{}
	}
	return s.SignedAt.Add(s.Hold)
}

// Apply returns the state after taking action a at now. hold is the time
// the old anchor must stay trusted after a switch; request is the on-demand
// request being served (recorded at Begin).
func (s State) Apply(a Action, now time.Time, hold time.Duration, request string) State {
	switch a {
	case Begin:
		return State{Phase: Adding, StartedAt: now, Requested: request}
	case Switch:
		s.Phase, s.SwitchedAt, s.Hold = Switched, now, hold
	case Signed:
		s.SignedAt = now
	case Drop:
		return State{Requested: s.Requested}
	}
	return s
}

func (p Phase) String() string { return string(p) }
