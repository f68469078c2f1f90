package controllers

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// stalledError is a failure that retrying the same request cannot fix: only
// a change of the user's input (the spec, or an object the user controls)
// can. It stalls its step and the steps needing it, not the others, and is
// not retried with backoff: the change it waits for triggers a reconcile.
type stalledError struct {
	reason, message string
}

func (e *stalledError) Error() string { return e.message }

// stall returns a stalledError.
func stall(reason, format string, args ...any) error {
	return &stalledError{reason: reason, message: fmt.Sprintf(format, args...)}
}

// asStalled classifies err: a stalledError, or an API server refusal of the
// object itself (422 Invalid: an immutable field changed, a value out of
// range), which the same request meets again however often it is sent.
// Everything else (timeouts, conflicts, quota, the API server being away)
// may pass on a retry.
func asStalled(err error) (*stalledError, bool) {
	var se *stalledError
	if errors.As(err, &se) {
		return se, true
	}
	if apierrors.IsInvalid(err) {
		return &stalledError{reason: v1alpha1.ReasonApplyRejected,
			message: err.Error() + ": the API server refuses this change; revert it in the spec, or delete the object so it is created anew"}, true
	}
	return nil, false
}
