package rotation

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// TestThreeSteps walks a whole rotation: every step waits for its condition.
func TestThreeSteps(t *testing.T) {
	s := State{}
	steps := []struct {
		o    Observed
		at   time.Time
		want Action
	}{
		{Observed{}, t0, None},
		{Observed{Due: true}, t0, Begin},
	}
	for _, st := range steps {
		if got := Next(s, st.o, st.at); got != st.want {
			t.Fatalf("stable, %+v: %q, want %q", st.o, got, st.want)
		}
	}
	s = s.Apply(Begin, t0, 0, "req-1")
	if s.Phase != Adding || s.Requested != "req-1" {
		t.Fatalf("after begin: %+v", s)
	}
	// Adding waits for every verifier to trust the new anchor, due or not.
	if got := Next(s, Observed{Due: true, SignerSwitched: true}, t0.Add(time.Hour)); got != None {
		t.Fatalf("switched before the verifiers trusted the new anchor: %q", got)
	}
	if got := Next(s, Observed{Trusted: true}, t0.Add(time.Minute)); got != Switch {
		t.Fatalf("adding+trusted: %q", got)
	}
	s = s.Apply(Switch, t0.Add(time.Minute), 10*time.Minute, "")
	// Switched waits for every signer to use the new anchor ...
	if got := Next(s, Observed{Trusted: true}, t0.Add(time.Hour)); got != None {
		t.Fatalf("signer not switched, yet %q", got)
	}
	if got := Next(s, Observed{SignerSwitched: true}, t0.Add(2*time.Minute)); got != Signed {
		t.Fatalf("signer switched: %q", got)
	}
	s = s.Apply(Signed, t0.Add(2*time.Minute), 0, "")
	// ... then holds the old anchor for the hold, counted from then.
	for _, at := range []time.Time{t0.Add(11 * time.Minute), t0.Add(12*time.Minute - 1)} {
		if got := Next(s, Observed{SignerSwitched: true}, at); got != None {
			t.Fatalf("dropped too early at %s: %q", at, got)
		}
	}
	if got := Next(s, Observed{SignerSwitched: true}, t0.Add(12*time.Minute)); got != Drop {
		t.Fatalf("switched+drained: %q", got)
	}
	s = s.Apply(Drop, t0.Add(12*time.Minute), 0, "")
	if s != (State{Requested: "req-1"}) {
		t.Fatalf("after drop: %+v", s)
	}
}

func TestAnnotationsRoundTrip(t *testing.T) {
	const p = "token-ca.registryauth.dev/"
	for _, s := range []State{
		{},
		{Requested: "x"},
		{Phase: Adding, StartedAt: t0, Requested: "x"},
		{Phase: Switched, StartedAt: t0, SwitchedAt: t0.Add(time.Hour), Hold: 7 * time.Minute},
		{Phase: Switched, StartedAt: t0, SwitchedAt: t0.Add(time.Hour), SignedAt: t0.Add(2 * time.Hour), Hold: time.Minute},
	} {
		if got := Parse(s.Annotations(p), p); got != s {
			t.Errorf("round trip of %+v gave %+v", s, got)
		}
	}
	// Damaged state restarts safely from the first step.
	bad := map[string]string{p + keyPhase: Switched.String(), p + keyStartedAt: "yesterday", p + keyRequested: "r"}
	if got := Parse(bad, p); got != (State{Requested: "r"}) {
		t.Errorf("damaged state parsed as %+v", got)
	}
	if got := Parse(map[string]string{p + keyPhase: "exploded"}, p); got != (State{}) {
		t.Errorf("unknown phase parsed as %+v", got)
	}
}
