package controllers

import (
	"context"
	"errors"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/plan"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

const (
	// maxOpenPerReconcile bounds the issues opened in one reconcile, so that
	// one phase does not hold a worker for long while others wait.
	maxOpenPerReconcile = 10
	// firstRetry and lastRetry bound the backoff after GitHub failures; a
	// phase's sync interval caps it further.
	firstRetry = time.Second
	lastRetry  = 5 * time.Minute
)

// phaseRun is the state of one reconcile, handed from step to step. When
// to look again is not kept here: each step returns it in its
// steps.Result, and steps.Run keeps the earliest.
type phaseRun struct {
	ph *cxv1.ImprovementPhase
	// persisted is the phase as last written; openPlannedWork writes attempts
	// as it goes and moves it forward.
	persisted *cxv1.ImprovementPhase
	// gen is the generation this reconcile acts on: a status write in
	// between returns a newer object, but only this spec has been acted on.
	gen int64

	cj      *cxv1.CustomerJourney
	m       journey.Map
	tr      tracker.Tracker
	pc      workitem.Phase
	desired []workitem.Item
	work    map[string]workitem.Item // desired, by key
	issues  map[string]tracker.Issue
	changes []plan.Change

	// ready is what the steps found about the phase as a whole; the
	// deferred patch turns it into Ready, Reconciling and Stalled once.
	ready readiness

	// githubErr is a GitHub failure a step set aside so that the steps after
	// it could still go on (tracking goes on while creates fail). State, not
	// a requeue: it decides the run's outcome (githubFailed) and holds back
	// the creates after a rate limit.
	githubErr error
	// issuesFailed: a failure set aside was of the phase's issues (listing,
	// opening, updating, settling them), which holds back completion. A
	// failure of follow-up work (githubError.followUp) does not: a
	// completed phase keeps it up (finishCompleted, verifyLateOutcomes),
	// and a board GitHub keeps failing must not stop the journey's phases.
	issuesFailed bool
	// budgetWait is how long the write budget holds planned work back.
	// State: checkExitCriteria says it in RateLimited; the requeue it calls
	// for is openPlannedWork's Result.
	budgetWait time.Duration
	// progressed: GitHub took at least one of this run's requests, so a
	// failure beside it is no reason to back off. State read by githubFailed.
	progressed bool
	// superseded: an attempt write met a newer phase (Conflict); the run
	// writes nothing more, see exactlyonce.Attempts.Open.
	superseded bool
	// news is what the run found of the phase (it started or completed,
	// an issue is gone, a verdict), told once a write records it.
	news news
}

func (run *phaseRun) conds() *[]metav1.Condition { return &run.ph.Status.Conditions }

// trackerKey is the key marker on GitHub of the phase's item itemKey.
func (run *phaseRun) trackerKey(itemKey string) string {
	return workitem.TrackerKey(run.ph.Namespace, run.cj.Name, itemKey)
}

// setAside keeps the first GitHub failure of a step that did not stop the
// run, and notes whether it was of the phase's issues: the first of those
// takes the place of a failure of follow-up work, being what holds the
// phase back (and what its conditions should name), unless that was a
// rate limit, which says until when nothing is sent.
func (run *phaseRun) setAside(err error) {
	var ge *githubError
	var rl *tracker.RateLimitError
	followUp := errors.As(err, &ge) && ge.followUp
	if run.githubErr == nil || (!followUp && !run.issuesFailed && !errors.As(run.githubErr, &rl)) {
		run.githubErr = err
	}
	if !followUp {
		run.issuesFailed = true
	}
}

// phaseStep is one ordered step of Reconcile.
type phaseStep = steps.Step[*phaseRun]

// githubError marks a failure of GitHub (or of the way to it), which is
// retried with a backoff of the phase's own rather than the workqueue's.
type githubError struct {
	op  string
	err error
	// followUp: the failure is of work a completed phase keeps up (the
	// board, the parent issue and its links and types, outcome comments),
	// which holds back no completion.
	followUp bool
}

func (e *githubError) Error() string { return e.op + ": " + e.err.Error() }

func (e *githubError) Unwrap() error { return e.err }

// statusWriteError is a failure to write the status, not GitHub's.
type statusWriteError struct{ err error }

func (e *statusWriteError) Error() string { return "writing status: " + e.err.Error() }

func (e *statusWriteError) Unwrap() error { return e.err }

// budgetWaiter is the phase's place in line for the write budget.
func budgetWaiter(ph *cxv1.ImprovementPhase) string { return "phase/" + ph.Namespace + "/" + ph.Name }

// setAsideOne keeps a failure to change one issue for the end of the
// run. It reports whether changing more issues is pointless now: a rate
// limit holds every request back.
func (run *phaseRun) setAsideOne(ge *githubError) (stop bool) {
	run.setAside(ge)
	var rl *tracker.RateLimitError
	return errors.As(ge.err, &rl)
}

func limits(ph *cxv1.ImprovementPhase) (maxOpen, maxPerHour int) {
	if l := ph.Spec.Limits; l != nil {
		maxOpen, maxPerHour = int(l.MaxOpenIssues), int(l.MaxIssuesPerHour)
	}
	return maxOpen, maxPerHour
}

// workByKey indexes the planned work by item key.
func workByKey(desired []workitem.Item) map[string]workitem.Item {
	work := make(map[string]workitem.Item, len(desired))
	for _, w := range desired {
		work[w.Key] = w
	}
	return work
}

// phaseContext is what every issue of the phase says of its phase and journey.
func (r *ImprovementPhaseReconciler) phaseContext(ph *cxv1.ImprovementPhase, cj *cxv1.CustomerJourney) workitem.Phase {
	p := workitem.Phase{
		Namespace: ph.Namespace, Journey: cj.Name, JourneyOwner: cj.Spec.Owner, Name: ph.Name, Type: string(ph.Spec.Type),
		Owner: ph.Spec.Owner, Deadline: ph.Spec.Deadline,
	}
	if t := cj.Spec.Tracker; t != nil && t.GitHub != nil { // no tracker: connectTracker says so
		// Clipped: the journey is the cache's (journeyOf), and an append
		// must not write into its lists.
		p.Labels, p.Assignees = slices.Clip(t.GitHub.Labels), slices.Clip(t.GitHub.Assignees)
	}
	return p
}

// journeyOf reads the journey phase ph improves from the cache without
// copying it: a phase reads its journey, which at 140 touchpoints is
// 70 KB to copy per reconcile, and never changes it (the journey's status
// is its own reconciler's). Nothing may write to what it returns, nor
// append to its lists: `make test` runs with client-go's cache mutation
// detector, which fails on a write it sees.
func (r *ImprovementPhaseReconciler) journeyOf(ctx context.Context, ph *cxv1.ImprovementPhase) (*cxv1.CustomerJourney, error) {
	var cj cxv1.CustomerJourney
	if err := r.Get(ctx, client.ObjectKey{Namespace: ph.Namespace, Name: ph.Spec.JourneyRef.Name}, &cj, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	return &cj, nil
}
