package controllers

import (
	"crypto/x509"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// The wait for the next renewal check: at most maxRequeue, and never less
// than minRequeue, so a time already past cannot make a hot loop.
const (
	maxRequeue = 12 * time.Hour
	minRequeue = 5 * time.Second
)

// state is what the sub-reconcilers of one reconcile hand to each other.
type state struct {
	ra    *v1alpha1.RegistryAuth
	opts  render.Options
	names render.Names
	now   time.Time

	svc    *corev1.Service
	wiring render.Wiring
	// bundle is the registry's rootcertbundle.
	bundle []byte
	// restartInputs are what the running containers cannot reload.
	restartInputs [][]byte
	// podAnnotations go on the pod template (restart hash, rotation hashes).
	podAnnotations map[string]string
	// rotating describes rotations in progress, for the status.
	rotating []string
	// servingRequest is the renew-serving-certificate request served.
	servingRequest string
	deployment     *appsv1.Deployment
	// probePassword is the self-check identity's, once the auth config
	// that holds it is applied.
	probePassword []byte
	// serving and signing are what the two certificate steps delivered.
	serving *servingSource
	signing *x509.Certificate
	// renewals are the times certificates want renewing.
	renewals []time.Time
	// stalled: problems only a change of the user's input can fix.
	stalled []string
	// stalledBy: steps that failed in a way only a change of the input can fix.
	stalledBy []stepFailure
	// errs: steps that failed in a way a retry may fix.
	errs []error
	// conflicts name the objects in the way of owned ones.
	conflicts []string
	// skipped: steps not run because a step they need failed.
	skipped []string
	// warnings are the input problems found; announce emits the new ones.
	warnings []warning
	// before are the conditions as the reconcile found them.
	before []metav1.Condition
	log    logr.Logger
}

// stepFailure is a step that stalled.
type stepFailure struct {
	step, reason, message string
}

// warning is an input problem reported on a condition.
type warning struct {
	condType, reason, message string
}

func newState(ra *v1alpha1.RegistryAuth, opts render.Options, now time.Time) *state {
	return &state{ra: ra, opts: opts, names: render.NamesFor(ra), now: now, podAnnotations: map[string]string{}}
}

// requeueAfter is the time to the earliest renewal, so certificates renew
// even when nothing else happens.
func (st *state) requeueAfter() time.Duration {
	d := maxRequeue
	for _, t := range st.renewals {
		if w := t.Sub(st.now); w < d {
			d = max(w, minRequeue)
		}
	}
	return d
}
