package pullaccess

import (
	"time"
)

// SecretContent is what a pull Secret holds, in terms of robot generations:
// the credential kubelets use and, during a rotation, its successor.
type SecretContent struct {
	Generation     int64
	Password       string
	NextGeneration int64
	NextPassword   string
}

// Observed is what one reconcile sees for one namespace.
type Observed struct {
	Namespace string
	Now       time.Time
	// Secret is what the live pull Secret holds (zero: no usable Secret).
	Secret SecretContent
	// RotateRequest is the namespace's AnnotationRotatePullSecret value.
	RotateRequest string
	// AuthHas reports whether the auth Secret as rendered holds a user.
	AuthHas func(user string) bool
	// Loaded reports whether every serving auth server was seen accepting a
	// user's password (nil: nobody asks them).
	Loaded func(user string) bool
	// RotateEvery, Overlap: from the spec; Settle: how long the auth server
	// needs after the auth Secret changed (kubelet volume sync + reload), at
	// most: the wait ends earlier once Loaded says the servers have it.
	RotateEvery, Overlap, Settle time.Duration
}

// Generator makes a new password and its hash.
type Generator func() (plain, hash string, err error)

// Decision is the next state of one robot and what its Secret must hold.
type Decision struct {
	Robot  *Robot
	Secret SecretContent
	// Issued counts new passwords made (each one bcrypt).
	Issued int
	// Wait: the Secret lost a credential made moments ago; leave the Secret
	// alone until RequeueAfter (see MinReissue).
	Wait bool
	// RequeueAfter: when this robot next needs attention (0: never).
	RequeueAfter time.Duration
}

// pollLive is how often a robot waiting for the auth config is looked at.
const pollLive = 5 * time.Second

// MinReissue is the least time between two credentials issued at once for
// one namespace. Whoever may delete or edit the pull Secret (its
// namespace's owners) could otherwise make the operator pay a bcrypt and
// rewrite the robots Secret (up to 1 MiB) and the auth config in a loop, as
// fast as they can delete. The first replacement is immediate (a leaked
// password is revoked at once); another within this time waits for it.
const MinReissue = time.Minute

// Step decides one robot's next state. The order of writes the controller
// follows makes every crash point recoverable: the state (hashes) is written
// before the Secret (plaintext), so the auth server never lacks a hash the
// Secret hands out for longer than one reconcile, and what the Secret holds
// is checked against the state here.
func Step(robot *Robot, o Observed, gen Generator) (Decision, error) {
	now := o.Now.UTC().Truncate(time.Second)
	r := clone(robot)
	sc := o.Secret
	d := Decision{Robot: r}

	if r.Previous != nil && (r.Previous.Until == nil || !now.Before(*r.Previous.Until)) {
		r.Previous = nil
	}
	// A promotion whose state write landed but whose Secret write did not:
	// the successor is still in the Secret's next key. Finish it.
	if r.Current != nil && sc.Generation != r.Current.Generation && sc.NextGeneration == r.Current.Generation && sc.NextPassword != "" {
		sc.Generation, sc.Password = sc.NextGeneration, sc.NextPassword
		sc.NextGeneration, sc.NextPassword = 0, ""
	}
	if r.Current == nil || sc.Generation != r.Current.Generation || sc.Password == "" {
		// No Secret holds the current credential (new namespace, Secret
		// deleted or edited, crash before the first Secret write): nobody
		// can be using it, so it is replaced at once, without overlap.
		if r.Current != nil && now.Before(r.Current.Created.Add(MinReissue)) {
			d.Wait, d.RequeueAfter = true, r.Current.Created.Add(MinReissue).Sub(now)
			return d, nil
		}
		plain, hash, err := gen()
		if err != nil {
			return d, err
		}
		d.Issued++
		r.Current = &Credential{Generation: r.maxGeneration() + 1, Hash: hash, Created: now}
		r.Next = nil
		r.RotateRequest = o.RotateRequest
		d.Secret = SecretContent{Generation: r.Current.Generation, Password: plain}
		d.RequeueAfter = r.requeue(o, now)
		return d, nil
	}
	// A successor whose plaintext never reached the Secret (a crash between
	// the two writes) is made again: the rotation it belongs to is still due.
	interrupted := r.Next != nil && (sc.NextGeneration != r.Next.Generation || sc.NextPassword == "")
	if interrupted {
		r.Next = nil
	}
	if r.Next == nil {
		sc.NextGeneration, sc.NextPassword = 0, ""
	}
	requested := o.RotateRequest != "" && o.RotateRequest != r.RotateRequest
	due := !now.Before(r.Current.Created.Add(o.RotateEvery)) || requested || interrupted
	// One rotation at a time: a new one waits until the last overlap ended.
	if r.Next == nil && r.Previous == nil && due {
		plain, hash, err := gen()
		if err != nil {
			return d, err
		}
		d.Issued++
		r.Next = &Credential{Generation: r.maxGeneration() + 1, Hash: hash, Created: now}
		r.RotateRequest = o.RotateRequest
		sc.NextGeneration, sc.NextPassword = r.Next.Generation, plain
	}
	if r.Next != nil && r.Next.Live == nil && o.AuthHas != nil && o.AuthHas(RobotUser(o.Namespace, r.Next.Generation)) {
		r.Next.Live = &now
	}
	if r.Next != nil && r.Next.Live != nil &&
		(o.Loaded != nil && o.Loaded(RobotUser(o.Namespace, r.Next.Generation)) || !now.Before(r.Next.Live.Add(o.Settle))) {
		until := now.Add(o.Overlap)
		r.Previous, r.Current, r.Next = r.Current, r.Next, nil
		r.Previous.Until = &until
		r.Current.Live = nil
		sc = SecretContent{Generation: r.Current.Generation, Password: sc.NextPassword}
	}
	d.Secret = sc
	d.RequeueAfter = r.requeue(o, now)
	return d, nil
}

// requeue is the time until the robot's next deadline.
func (r *Robot) requeue(o Observed, now time.Time) time.Duration {
	var next time.Duration
	consider := func(t time.Time) {
		d := max(t.Sub(now), time.Second)
		if next == 0 || d < next {
			next = d
		}
	}
	if r.Current != nil && r.Next == nil {
		consider(r.Current.Created.Add(o.RotateEvery))
	}
	if r.Next != nil {
		if r.Next.Live == nil || o.Loaded != nil {
			consider(now.Add(pollLive)) // the auth config, or the servers, again
		}
		if r.Next.Live != nil {
			consider(r.Next.Live.Add(o.Settle))
		}
	}
	if r.Previous != nil && r.Previous.Until != nil {
		consider(*r.Previous.Until)
	}
	return next
}

func clone(r *Robot) *Robot {
	if r == nil {
		return &Robot{}
	}
	out := &Robot{RotateRequest: r.RotateRequest}
	cp := func(c *Credential) *Credential {
		if c == nil {
			return nil
		}
		x := *c
		return &x
	}
	out.Current, out.Next, out.Previous = cp(r.Current), cp(r.Next), cp(r.Previous)
	return out
}
