// Package steps runs a reconcile as an ordered list of named steps, the
// shape both of cxloop's reconcilers share (after Flux's source-controller):
// each step does one thing to the object and returns a Result; the runner
// merges the results, keeping the earliest requeue, and stops at the first
// step that says the reconcile is over for now or fails.
package steps

import (
	"context"
	"fmt"
	"time"
)

// Result is what a step asks of the reconcile.
type Result struct {
	// RequeueAfter asks for another reconcile after it at the latest; 0
	// asks for none.
	RequeueAfter time.Duration
	// Stop ends the reconcile after this step: the object waits, is
	// stalled or is done, and the steps after it have nothing to do.
	Stop bool
}

// Requeue is the Result of a step that goes on and wants another look
// after d.
func Requeue(d time.Duration) Result { return Result{RequeueAfter: d} }

// Done is the Result of a step that ends the reconcile, with a requeue
// after d (0 for none).
func Done(d time.Duration) Result { return Result{RequeueAfter: d, Stop: true} }

// Merge keeps the earlier requeue of two results; Stop if either stops.
func (r Result) Merge(o Result) Result {
	return Result{RequeueAfter: Earliest(r.RequeueAfter, o.RequeueAfter), Stop: r.Stop || o.Stop}
}

// Earliest is the sooner of two requeues, where 0 means none.
func Earliest(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return max(b, 0)
	case b <= 0:
		return a
	default:
		return min(a, b)
	}
}

// Step is one named step over the reconcile's state S.
type Step[S any] struct {
	Name string
	Run  func(ctx context.Context, s S) (Result, error)
}

// Error is a step's failure, naming the step.
type Error struct {
	Step string
	Err  error
}

func (e *Error) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Run runs the steps in order over s and returns their merged Result. It
// stops after a step whose Result has Stop, or at the first error, which
// it returns wrapped in an *Error with the results merged so far.
func Run[S any](ctx context.Context, s S, list []Step[S]) (Result, error) {
	var out Result
	for _, st := range list {
		if err := ctx.Err(); err != nil {
			return out, &Error{Step: st.Name, Err: err}
		}
		res, err := st.Run(ctx, s)
		out = out.Merge(res)
		if err != nil {
			return out, &Error{Step: st.Name, Err: err}
		}
		if res.Stop {
			return out, nil
		}
	}
	return out, nil
}

// Names lists the steps' names, for logs and tests.
func Names[S any](list []Step[S]) []string {
	out := make([]string, len(list))
	for i, st := range list {
		out[i] = st.Name
	}
	return out
}

// String shows a Result in logs.
func (r Result) String() string {
	return fmt.Sprintf("requeue after %s, stop %v", r.RequeueAfter, r.Stop)
}
