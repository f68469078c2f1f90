package pullaccess

import (
	"fmt"
	"testing"
	"time"
)

// counter is a Generator whose passwords say which call made them.
func counter() (Generator, *int) {
	n := 0
	return func() (string, string, error) {
		n++
		return fmt.Sprintf("pw%d", n), fmt.Sprintf("hash%d", n), nil
	}, &n
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func obs(now time.Time, sc SecretContent, live ...string) Observed {
	return Observed{
		Namespace: "team", Now: now, Secret: sc,
		AuthHas:     func(u string) bool { return len(live) > 0 && live[0] == u },
		RotateEvery: 24 * time.Hour, Overlap: time.Hour, Settle: 2 * time.Minute,
	}
}

func step(t *testing.T, r *Robot, o Observed, gen Generator) Decision {
	t.Helper()
	d, err := Step(r, o, gen)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRotationHandsOutTheSuccessorOnlyWhenLive walks one scheduled rotation:
// the successor is accepted (state) before any Secret uses it, handed out
// only after the auth config held it for Settle, and the old one stays
// accepted for Overlap.
func TestRotationHandsOutTheSuccessorOnlyWhenLive(t *testing.T) {
	gen, n := counter()
	d := step(t, nil, obs(t0, SecretContent{}), gen)
	if d.Robot.Current.Generation != 1 || d.Secret != (SecretContent{Generation: 1, Password: "pw1"}) || *n != 1 {
		t.Fatalf("first issue: %+v %+v", d.Robot, d.Secret)
	}
	r, sc := d.Robot, d.Secret
	// Steady: nothing new, no bcrypt.
	d = step(t, r, obs(t0.Add(time.Hour), sc), gen)
	if *n != 1 || d.Secret != sc || d.RequeueAfter != 23*time.Hour {
		t.Fatalf("steady: %d issued, %+v, requeue %s", *n, d.Secret, d.RequeueAfter)
	}
	// Due: a successor in state and in the Secret's next key; kubelets
	// still get generation 1.
	due := t0.Add(25 * time.Hour)
	d = step(t, r, obs(due, sc), gen)
	r, sc = d.Robot, d.Secret
	if r.Next == nil || r.Next.Generation != 2 || sc.Generation != 1 || sc.NextGeneration != 2 || sc.NextPassword != "pw2" {
		t.Fatalf("rotation start: %+v %+v", r, sc)
	}
	// Not yet in the auth config: nothing moves, however long it takes.
	d = step(t, r, obs(due.Add(time.Hour), sc), gen)
	if d.Secret.Generation != 1 || d.Robot.Next.Live != nil {
		t.Fatalf("promoted before the auth config held it: %+v", d.Secret)
	}
	// Seen live; promoted only after Settle.
	d = step(t, d.Robot, obs(due.Add(time.Hour), sc, RobotUser("team", 2)), gen)
	r = d.Robot
	if r.Next.Live == nil || d.Secret.Generation != 1 {
		t.Fatalf("live: %+v", d.Secret)
	}
	d = step(t, r, obs(due.Add(time.Hour+time.Minute), sc, RobotUser("team", 2)), gen)
	if d.Secret.Generation != 1 {
		t.Fatal("promoted before Settle passed")
	}
	promoted := due.Add(time.Hour + 2*time.Minute)
	d = step(t, r, obs(promoted, sc, RobotUser("team", 2)), gen)
	r, sc = d.Robot, d.Secret
	if sc != (SecretContent{Generation: 2, Password: "pw2"}) || r.Previous == nil || r.Previous.Generation != 1 || r.Current.Generation != 2 {
		t.Fatalf("promotion: %+v %+v", r, sc)
	}
	if d.RequeueAfter != time.Hour {
		t.Errorf("requeue %s, want the overlap's end", d.RequeueAfter)
	}
	// Previous stays until the overlap ends, then goes.
	if d = step(t, r, obs(promoted.Add(59*time.Minute), sc), gen); d.Robot.Previous == nil {
		t.Fatal("old credential dropped during the overlap")
	}
	if d = step(t, r, obs(promoted.Add(time.Hour), sc), gen); d.Robot.Previous != nil {
		t.Fatal("old credential kept after the overlap")
	}
	if *n != 2 {
		t.Errorf("%d passwords made, want 2", *n)
	}
}

// TestCrashPointsRecover: each state a crash between two writes can leave.
func TestCrashPointsRecover(t *testing.T) {
	gen, _ := counter()
	cur := &Credential{Generation: 3, Hash: "h3", Created: t0}
	next := &Credential{Generation: 4, Hash: "h4", Created: t0}

	// State has a successor, the Secret never got its plaintext: made again.
	d := step(t, &Robot{Current: cur, Next: next, RotateRequest: "r1"},
		obs(t0.Add(time.Hour), SecretContent{Generation: 3, Password: "p3"}), gen)
	if d.Robot.Next == nil || d.Secret.NextPassword == "" || d.Secret.NextGeneration != d.Robot.Next.Generation || d.Secret.Generation != 3 {
		t.Errorf("interrupted rotation not resumed: %+v %+v", d.Robot, d.Secret)
	}
	// State promoted, the Secret still has it in the next key: finished.
	d = step(t, &Robot{Current: next, Previous: &Credential{Generation: 3, Until: ptrTime(t0.Add(time.Hour))}},
		obs(t0, SecretContent{Generation: 3, Password: "p3", NextGeneration: 4, NextPassword: "p4"}), gen)
	if d.Secret != (SecretContent{Generation: 4, Password: "p4"}) || d.Issued != 0 {
		t.Errorf("half-done promotion: %+v issued %d", d.Secret, d.Issued)
	}
	// The Secret was deleted (or edited): a new credential at once, no
	// overlap for the one nobody holds any more.
	d = step(t, &Robot{Current: cur}, obs(t0.Add(time.Hour), SecretContent{}), gen)
	if d.Robot.Current.Generation != 4 || d.Robot.Previous != nil || d.Secret.Generation != 4 {
		t.Errorf("lost Secret: %+v %+v", d.Robot, d.Secret)
	}
}

// TestRotateRequestActsOnce: a new annotation value rotates once; the same
// value again does nothing; a request during an overlap waits for its end.
func TestRotateRequestActsOnce(t *testing.T) {
	gen, n := counter()
	r := &Robot{Current: &Credential{Generation: 1, Hash: "h", Created: t0}}
	sc := SecretContent{Generation: 1, Password: "p"}
	o := obs(t0.Add(time.Minute), sc)
	o.RotateRequest = "a"
	d := step(t, r, o, gen)
	if d.Robot.Next == nil || d.Robot.RotateRequest != "a" {
		t.Fatalf("request ignored: %+v", d.Robot)
	}
	o.RotateRequest = "a"
	if d := step(t, &Robot{Current: r.Current, RotateRequest: "a"}, o, gen); d.Robot.Next != nil {
		t.Error("the same request rotated again")
	}
	o.RotateRequest = "b"
	busy := &Robot{Current: r.Current, RotateRequest: "a", Previous: &Credential{Generation: 0, Until: ptrTime(t0.Add(time.Hour))}}
	if d := step(t, busy, o, gen); d.Robot.Next != nil || d.Robot.RotateRequest != "a" {
		t.Error("a rotation started during another's overlap")
	}
	if *n != 1 {
		t.Errorf("%d passwords made", *n)
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

// TestRotationPromotesOnceTheServersHaveIt: when the auth servers were seen
// accepting the successor, it is handed out without waiting Settle; never
// before the rendered auth config holds it, and never for a user they did
// not accept.
func TestRotationPromotesOnceTheServersHaveIt(t *testing.T) {
	gen, _ := counter()
	r := &Robot{Current: &Credential{Generation: 1, Hash: "h1", Created: t0}}
	sc := SecretContent{Generation: 1, Password: "p1"}
	o := obs(t0.Add(time.Minute), sc)
	o.RotateRequest = "now"
	loadedUser := RobotUser("team", 2)
	o.Loaded = func(u string) bool { return u == loadedUser }
	// The servers "accept" it before the rendered config holds it (cannot
	// happen, but the order of evidence must not matter): not promoted.
	d := step(t, r, o, gen)
	r, sc = d.Robot, d.Secret
	if sc.Generation != 1 || r.Next == nil || r.Next.Live != nil {
		t.Fatalf("promoted before the auth config held it: %+v %+v", r, sc)
	}
	if d.RequeueAfter != pollLive {
		t.Errorf("requeue %s, want %s (look again soon)", d.RequeueAfter, pollLive)
	}
	// A user the servers did not accept: the settle bound still applies.
	o = obs(t0.Add(2*time.Minute), sc, loadedUser)
	o.Loaded = func(string) bool { return false }
	d = step(t, r, o, gen)
	if d.Secret.Generation != 1 {
		t.Fatal("promoted without the servers' acceptance or the settle bound")
	}
	if d.RequeueAfter != pollLive {
		t.Errorf("requeue %s, want %s (ask the servers again)", d.RequeueAfter, pollLive)
	}
	// Accepted, 5 s after the config held it (Settle is 2 minutes): promoted.
	r = d.Robot
	o = obs(t0.Add(2*time.Minute+5*time.Second), sc, loadedUser)
	o.Loaded = func(u string) bool { return u == loadedUser }
	d = step(t, r, o, gen)
	if d.Secret != (SecretContent{Generation: 2, Password: "pw1"}) || d.Robot.Previous == nil {
		t.Fatalf("not promoted once the servers accepted it: %+v %+v", d.Robot, d.Secret)
	}
}

// TestAttackSecretDeletionStorm: a namespace owner deleting (or editing)
// its pull Secret in a loop made the operator issue a credential per
// delete: a bcrypt and a rewrite of the robots Secret and the auth config
// each time. The first loss is replaced at once; another within MinReissue
// waits until the last credential is that old.
func TestAttackSecretDeletionStorm(t *testing.T) {
	gen, n := counter()
	cur := &Credential{Generation: 3, Hash: "h3", Created: t0}
	// Deleted 10s after it was made: nothing issued, the Secret left alone.
	d := step(t, &Robot{Current: cur}, obs(t0.Add(10*time.Second), SecretContent{}), gen)
	if *n != 0 || !d.Wait || d.RequeueAfter != MinReissue-10*time.Second || d.Robot.Current.Generation != 3 {
		t.Fatalf("re-issued within MinReissue: issued %d, %+v", *n, d)
	}
	// Once it is MinReissue old, a new one is made.
	d = step(t, &Robot{Current: cur}, obs(t0.Add(MinReissue), SecretContent{}), gen)
	if *n != 1 || d.Wait || d.Secret.Generation != 4 {
		t.Fatalf("not re-issued after MinReissue: issued %d, %+v", *n, d)
	}
}
