package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/burnup"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/markdown"
	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/plan"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
)

const defaultSyncInterval = 5 * time.Minute

// ImprovementPhaseReconciler runs one phase of the method: it waits for the
// phase before it, opens an issue for each piece of the phase's work within
// the limits, tracks the issues until they are closed, and completes the
// phase when its exit criteria hold.
type ImprovementPhaseReconciler struct {
	client.Client
	// APIReader reads the object from the API server when a write of its
	// status meets a Conflict (patchStatus); nil: the manager's, or Client.
	APIReader client.Reader
	Recorder  events.EventRecorder
	Clock     clock.PassiveClock
	Trackers  TrackerSource
	// CreateGrace is how long an attempt to open an issue may still turn
	// up on GitHub (a request in flight when cxloop stopped, or GitHub's
	// listing lagging behind a create). Defaults to exactlyonce.DefaultGrace.
	CreateGrace time.Duration
	// Metrics reads the measures that verify the outcome of closed items.
	Metrics metricsource.Source
	// Wakeups are GitHub deliveries this replica received (optional).
	Wakeups *Wakeups

	// boards keeps each journey's project between reconciles.
	boards boards
	// issueTypes keeps each journey's organisation's issue types a while.
	issueTypes issueTypeCache

	// retries backs off per phase after GitHub failures, capped by the
	// phase's sync interval; see githubFailed.
	retries githubRetries
	// Shard says which phases are this manager's (nil: all of them).
	Shard *Shard

	// leader checks the Lease is still this replica's before a create (nil: no leader election).
	leader *leaderLease
	// reconciled, when set, is told of each reconcile of a phase of this shard (tests count them).
	reconciled func(client.ObjectKey)
}

// A phase is never written but for its status, with merge patches.
// +kubebuilder:rbac:groups=cx.cxloop.dev,resources=improvementphases,verbs=get;list;watch
// +kubebuilder:rbac:groups=cx.cxloop.dev,resources=improvementphases/status,verbs=patch
// +kubebuilder:rbac:groups=cx.cxloop.dev,resources=customerjourneys,verbs=get;list;watch

// phaseSteps are Reconcile's steps, in order.
func (r *ImprovementPhaseReconciler) phaseSteps() []phaseStep {
	return []phaseStep{
		{Name: "verifyLateOutcomes", Run: r.verifyLateOutcomes},
		{Name: "holdCompletedOrSuspended", Run: r.holdCompletedOrSuspended},
		{Name: "gateOnJourney", Run: r.gateOnJourney},
		{Name: "gateOnPreviousPhase", Run: r.gateOnPreviousPhase},
		{Name: "connectTracker", Run: r.connectTracker},
		{Name: "startPhase", Run: r.startPhase},
		{Name: "syncIssues", Run: r.syncIssues},
		{Name: "trackIssues", Run: r.trackIssues},
		{Name: "verifyOutcomes", Run: r.verifyOutcomes},
		{Name: "openPlannedWork", Run: r.openPlannedWork},
		{Name: "syncBoard", Run: r.syncBoard},
		{Name: "syncParent", Run: r.syncParent},
		{Name: "checkExitCriteria", Run: r.checkExitCriteria},
	}
}

// Reconcile moves a phase forward through ordered steps; the status is
// written once, at the end, when it changed, with Ready, Reconciling and
// Stalled summarised from what the steps found.
func (r *ImprovementPhaseReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	var ph cxv1.ImprovementPhase
	if err := r.Get(ctx, req.NamespacedName, &ph); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if owned, err := r.Shard.OwnsPhase(ctx, &ph); !owned || err != nil {
		return ctrl.Result{}, err // another shard's: it neither reads nor writes it
	}
	if r.reconciled != nil {
		r.reconciled(req.NamespacedName)
	}
	run := &phaseRun{ph: &ph, persisted: ph.DeepCopy(), gen: ph.Generation}
	defer func() {
		if run.superseded { // the phase moved on without this run: its view is stale
			return
		}
		err = errors.Join(err, lookAgainIfStale(&result, r.writeStatus(ctx, run)))
	}()
	res, err := steps.Run(ctx, run, r.phaseSteps())
	if err != nil {
		return r.failed(ctx, run, res, err)
	}
	return r.outcome(run, res)
}

// writeStatus summarises the run into the status and writes it if it
// changed, telling the run's news once written.
func (r *ImprovementPhaseReconciler) writeStatus(ctx context.Context, run *phaseRun) error {
	ph := run.ph
	summarizeReady(run.conds(), run.gen, run.ready)
	ph.Status.ObservedGeneration = run.gen
	ph.Status.Progress = progressOf(ph.Status.Items)
	if ph.Status.State == cxv1.PhasePending {
		ph.Status.Progress.Summary = "not started" // never "0/0 (100%)", which reads as done
	}
	forecastPhase(ph, r.Clock.Now())
	recordPhaseMetrics(ph)
	return patchStatus(ctx, r.Client, liveReader(r.APIReader, r.Client), run.persisted, ph, r.Recorder, &run.news)
}

// outcome is the requeue of a run whose steps did not fail outright.
func (r *ImprovementPhaseReconciler) outcome(run *phaseRun, res steps.Result) (ctrl.Result, error) {
	if run.githubErr != nil {
		return r.githubFailed(run, res, run.githubErr)
	}
	r.retries.succeeded(r.Clock, backoffKey(run.ph))
	return ctrl.Result{RequeueAfter: res.RequeueAfter}, nil
}

// failed handles a step's error: GitHub's failures become conditions and a
// bounded backoff of this phase alone; anything else (the API server) goes
// back to the workqueue.
func (r *ImprovementPhaseReconciler) failed(ctx context.Context, run *phaseRun, res steps.Result, err error) (ctrl.Result, error) {
	var ghErr *githubError
	var cfgErr *TrackerConfigError
	if errors.As(err, &ghErr) || errors.As(err, &cfgErr) {
		return r.githubFailed(run, res, err)
	}
	logf.FromContext(ctx).Error(err, "reconciling phase")
	return ctrl.Result{}, err
}

// githubFailed reports a GitHub failure on the phase and says when to try
// again, through the failure path both kinds share (githubRetries): when a
// rate limit ends, when the person must act (a configuration problem), or
// after a jittered exponential backoff of this phase's own, capped at its
// sync interval so that a phase is retried at least that often, and at the
// requeue the steps asked for (an earlier attempt's grace ends sooner).
func (r *ImprovementPhaseReconciler) githubFailed(run *phaseRun, res steps.Result, err error) (ctrl.Result, error) {
	var rl *tracker.RateLimitError
	if errors.As(err, &rl) && rl.Budget {
		// Another phase took the write this one was told it could send
		// (nothing was sent): it waits on, in the words of any wait for
		// the budget, so that the next sync does not rewrite them.
		wait := max(time.Second, rl.ResumeAt.Sub(r.Clock.Now()))
		conditions.Set(run.conds(), run.gen, cxv1.ConditionRateLimited, metav1.ConditionTrue, cxv1.ReasonWriteBudget,
			budgetWaitMessage(run.persisted.Status.Conditions, progressOf(run.ph.Status.Items).Planned, wait))
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	key := backoffKey(run.ph)
	limit := syncInterval(run.ph)
	if run.progressed {
		r.retries.succeeded(r.Clock, key) // GitHub works, one request failed: go on soon
		limit = firstRetry
	}
	return r.retries.retry(r.Recorder, r.Clock, key, steps.Earliest(limit, res.RequeueAfter),
		run.ph, run.conds(), run.gen, harmless{err}, &run.ready)
}

// harmless shows an error as text that is safe wherever the phase's
// conditions are shown (the journey's dashboard issue): no HTML, no
// @mentions, no #references.
type harmless struct{ error }

func (h harmless) Error() string { return markdown.Text(h.error.Error()) }
func (h harmless) Unwrap() error { return h.error }

func backoffKey(ph *cxv1.ImprovementPhase) string { return "phase/" + ph.Namespace + "/" + ph.Name }

// verifyLateOutcomes goes on judging the outcomes of a completed phase's
// items: an item closed last is judged only after its settle window, and
// a phase completes on its closes. Nothing else of a completed phase moves
// (holdCompletedOrSuspended stops the run next). Other phases' outcomes
// are verifyOutcomes' to judge, in its place among the steps.
func (r *ImprovementPhaseReconciler) verifyLateOutcomes(ctx context.Context, run *phaseRun) (steps.Result, error) {
	if run.ph.Status.State != cxv1.PhaseCompleted {
		return steps.Result{}, nil
	}
	outstanding := false
	for _, it := range run.ph.Status.Items {
		if o := it.Outcome; o != nil && (o.Verdict == cxv1.VerdictPending || !ptr.Deref(o.Commented, false)) {
			outstanding = true
		}
	}
	if !outstanding {
		return steps.Result{}, nil
	}
	cj, err := r.journeyOf(ctx, run.ph)
	if err != nil {
		return steps.Result{}, client.IgnoreNotFound(err) // the journey is gone: its measures with it
	}
	run.cj = cj
	tr, err := r.Trackers.For(ctx, run.cj)
	if err != nil {
		return steps.Requeue(measureRetry), nil // its conditions are the journey's to show
	}
	run.tr = tr
	return r.verifyOutcomes(ctx, run)
}

// holdCompletedOrSuspended: completion is final (neither suspend nor a change
// of the phase before it undoes it, so the phases after it keep going), and
// a suspended phase neither opens nor tracks issues.
func (r *ImprovementPhaseReconciler) holdCompletedOrSuspended(ctx context.Context, run *phaseRun) (steps.Result, error) {
	ph := run.ph
	if ph.Status.State == cxv1.PhaseCompleted {
		run.ready.Ready(cxv1.ReasonPhaseCompleted, "completed: "+progressOf(ph.Status.Items).Summary)
		return steps.Done(0).Merge(r.finishCompleted(ctx, run)), nil
	}
	if ptr.Deref(ph.Spec.Suspend, false) {
		ph.Status.State = cxv1.PhaseSuspended
		run.ready.Hold(cxv1.ReasonSuspended, "spec.suspend is true: no issues are opened or tracked")
		return steps.Done(0), nil
	}
	if ph.Status.State == cxv1.PhaseSuspended {
		ph.Status.State = cxv1.PhasePending // resumed; Active again if it had started
		if ph.Status.StartedAt != nil {
			ph.Status.State = cxv1.PhaseActive
		}
	}
	return steps.Result{}, nil
}

// gateOnJourney reads the journey the phase improves and checks its map.
func (r *ImprovementPhaseReconciler) gateOnJourney(ctx context.Context, run *phaseRun) (steps.Result, error) {
	cj, err := r.journeyOf(ctx, run.ph)
	if err != nil {
		if apierrors.IsNotFound(err) {
			r.boards.forget(client.ObjectKey{Namespace: run.ph.Namespace, Name: run.ph.Spec.JourneyRef.Name})
			r.issueTypes.forget(client.ObjectKey{Namespace: run.ph.Namespace, Name: run.ph.Spec.JourneyRef.Name})
			// Not Stalled: applying a directory often creates phases before
			// their journey, and the journey's creation wakes the phase.
			run.ready.Progress(cxv1.ReasonJourneyNotFound,
				fmt.Sprintf("waiting for CustomerJourney %q named in spec.journeyRef: create it, or fix the name", run.ph.Spec.JourneyRef.Name))
			return steps.Done(0), nil
		}
		return steps.Done(0), err
	}
	run.cj = cj
	run.m = measuredMap(cj)
	if problems := journey.Validate(run.m); len(problems) > 0 {
		run.ready.Stall(cxv1.ReasonJourneyInvalid, fmt.Sprintf("journey %s: %s", cj.Name, problemsMessage(problems)))
		return steps.Done(0), nil
	}
	run.pc = r.phaseContext(run.ph, cj)
	return steps.Result{}, nil
}

// gateOnPreviousPhase holds the phase Pending until the phase named in
// spec.after completes. Once Active a phase never goes back to Pending, so
// its open issues stay tracked. A dependency that can never complete (the
// phase itself, a cycle, a phase of another journey) is Stalled, naming
// spec.after.
func (r *ImprovementPhaseReconciler) gateOnPreviousPhase(ctx context.Context, run *phaseRun) (steps.Result, error) {
	if run.ph.Status.State == cxv1.PhaseActive {
		return steps.Result{}, nil
	}
	wait, err := previousPhase(ctx, r.Client, run.ph)
	if err != nil {
		return steps.Done(0), err
	}
	switch {
	case wait.stalledReason != "":
		run.ready.Stall(wait.stalledReason, wait.message)
		run.ph.Status.State = cxv1.PhasePending
		return steps.Done(0), nil
	case wait.waiting:
		run.ph.Status.State = cxv1.PhasePending
		run.ready.Ready(cxv1.ReasonWaitingForPhase, wait.message)
		// A phase still waiting when its deadline passes is Late: look again then.
		if d := burnup.ParseDeadline(run.ph.Spec.Deadline); !d.IsZero() {
			if until := d.AddDate(0, 0, 1).Sub(r.Clock.Now()); until > 0 {
				return steps.Done(until + time.Second).Merge(r.parentWhileWaiting(ctx, run)), nil
			}
		}
		return steps.Done(0).Merge(r.parentWhileWaiting(ctx, run)), nil
	}
	return steps.Result{}, nil
}

// connectTracker gets the journey's GitHub client.
func (r *ImprovementPhaseReconciler) connectTracker(ctx context.Context, run *phaseRun) (steps.Result, error) {
	tr, err := r.Trackers.For(ctx, run.cj)
	if err != nil {
		return steps.Done(0), err // a *TrackerConfigError is the person's to fix; anything else the API server's
	}
	run.tr = tr
	return steps.Result{}, nil
}

// startPhase makes a waiting phase Active.
func (r *ImprovementPhaseReconciler) startPhase(_ context.Context, run *phaseRun) (steps.Result, error) {
	ph := run.ph
	if ph.Status.State == cxv1.PhaseActive {
		return steps.Result{}, nil
	}
	ph.Status.State = cxv1.PhaseActive
	if ph.Status.StartedAt == nil {
		started := now(r.Clock)
		ph.Status.StartedAt = &started
	}
	run.news.tell(run.cj, corev1.EventTypeNormal, cxv1.ReasonPhaseStarted, "Start", "%s phase of journey %s started", ph.Spec.Type, run.cj.Name)
	return steps.Result{}, nil
}

// syncIssues works out the phase's work from the map and brings its items
// in line with it and with the issues on GitHub.
func (r *ImprovementPhaseReconciler) syncIssues(ctx context.Context, run *phaseRun) (steps.Result, error) {
	phases, err := phasesOf(ctx, r.Client, run.ph.Namespace, run.cj.Name)
	if err != nil {
		return steps.Done(0), err
	}
	run.desired = plan.Work(run.ph, run.m, run.pc, plan.QuickWinRule(phases, run.ph))
	run.work = workByKey(run.desired)
	issues, err := r.issuesOf(ctx, run)
	if err != nil {
		return steps.Done(0), &githubError{op: "listing issues", err: err}
	}
	if r.dropsUnseenAttempt(run, issues) {
		if issues, err = issuesNow(ctx, run.tr); err != nil {
			return steps.Done(0), &githubError{op: "listing issues", err: err}
		}
	}
	if err := confirmMissing(ctx, run.tr, run.ph, run.pc, issues, vanishedIssues(run.cj)); err != nil {
		return steps.Done(0), &githubError{op: "confirming issues a listing did not show", err: err}
	}
	run.issues = issues
	run.changes = plan.Merge(run.ph, run.desired, issues, run.pc, vanishedIssues(run.cj), r.Clock.Now(), r.createGrace())
	for _, msg := range newlyMissing(run.ph, run.persisted) {
		run.news.tell(nil, corev1.EventTypeWarning, cxv1.ReasonIssueMissing, "Sync", "%s", msg)
	}
	return steps.Result{}, nil
}

// knownIssuesReader is a tracker whose issues can be read without asking
// GitHub while nothing changed (tracker.Client's shared index).
type knownIssuesReader interface {
	KnownIssues(ctx context.Context) (map[string]tracker.Issue, error)
}

// issuesOf reads the phase's issues. A phase that only waits for the write
// budget reads them from the repository's index as it stands, which asks
// GitHub only when a webhook delivery said something changed: hundreds of
// phases waiting their turn cost no request, however often they sync.
// Its turn come, the index is refreshed as usual (and EnsureIssue asks
// again before any create).
func (r *ImprovementPhaseReconciler) issuesOf(ctx context.Context, run *phaseRun) (map[string]tracker.Issue, error) {
	if k, ok := run.tr.(knownIssuesReader); ok && r.onlyWaitingForBudget(run) {
		return k.KnownIssues(ctx)
	}
	// What changed is delivered by webhooks; polling every sync interval,
	// a view half an interval old will do.
	return run.tr.Issues(tracker.WithMaxAge(ctx, syncInterval(run.ph)/2))
}

// onlyWaitingForBudget: the phase's last status write said it waits for
// the write budget (for this generation), and its turn has not come yet.
func (r *ImprovementPhaseReconciler) onlyWaitingForBudget(run *phaseRun) bool {
	c := apimeta.FindStatusCondition(run.persisted.Status.Conditions, cxv1.ConditionRateLimited)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != cxv1.ReasonWriteBudget || c.ObservedGeneration != run.gen {
		return false
	}
	if w, ok := run.tr.(interface{ WaitsForBudget(string) bool }); ok {
		return w.WaitsForBudget(budgetWaiter(run.ph)) // a look that keeps its turn for openPlannedWork
	}
	return run.tr.WriteDelay(budgetWaiter(run.ph)) > 0
}

// trackIssues closes the issues of work that no longer follows from the
// map, reopens those of work the map asks for again, and brings the title
// and body of open issues up to date. A failure on one issue is set aside
// so that the others, and the opening of new work, go on (unless the exit
// criteria hold: a phase about to complete opens nothing more).
func (r *ImprovementPhaseReconciler) trackIssues(ctx context.Context, run *phaseRun) (steps.Result, error) {
	ph := run.ph
	for _, c := range run.changes {
		it := &ph.Status.Items[c.Index]
		var err error
		switch c.Action {
		case plan.CloseAsCompleted, plan.CloseAsNotPlanned:
			if err = run.tr.CloseIssue(ctx, int(it.Issue), c.Action.StateReason(), c.Comment); err == nil {
				closed := now(r.Clock)
				it.ClosedAt = &closed
				it.State = cxv1.ItemClosed
				if c.Action == plan.CloseAsNotPlanned {
					it.State = cxv1.ItemObsolete
					r.Recorder.Eventf(ph, nil, corev1.EventTypeNormal, cxv1.ReasonIssueObsolete, "Close", "closed issue #%d as not planned: %s", it.Issue, c.Comment)
				}
			} else if r.refusedForThisIssue(ph, it, "close", err) {
				err = nil
			}
		case plan.Reopen:
			if err = run.tr.ReopenIssue(ctx, int(it.Issue), c.Comment); err == nil {
				it.State, it.ClosedAt = cxv1.ItemOpen, nil
				r.Recorder.Eventf(ph, nil, corev1.EventTypeNormal, cxv1.ReasonIssueReopened, "Reopen", "reopened issue #%d: %s", it.Issue, c.Comment)
			} else if r.refusedForThisIssue(ph, it, "reopen", err) {
				err = nil
			} else {
				// Not reopened yet: stay as cxloop closed it, so that the next
				// sync asks for the reopening again.
				it.State = cxv1.ItemObsolete
			}
		}
		if err != nil {
			run.setAside(&githubError{op: fmt.Sprintf("%s issue #%d", c.Action.Verb(), it.Issue), err: err})
			var rl *tracker.RateLimitError
			if errors.As(err, &rl) {
				return steps.Result{}, nil
			}
		}
	}
	for _, it := range ph.Status.Items {
		if w, ok := run.work[it.Key]; ok && it.State == cxv1.ItemOpen && it.Issue != 0 {
			if err := run.tr.UpdateIssue(ctx, int(it.Issue), w.Title, w.Body); err != nil {
				if stop := run.setAsideOne(&githubError{op: "updating issues", err: err}); stop {
					return steps.Result{}, nil
				}
			}
		}
	}
	return steps.Result{}, nil
}

// checkExitCriteria completes the phase when its exit criteria hold, and
// otherwise says how far it is and polls it every sync interval.
func (r *ImprovementPhaseReconciler) checkExitCriteria(ctx context.Context, run *phaseRun) (steps.Result, error) {
	ph := run.ph
	var hold time.Duration
	var holdWhy string
	if criteriaHold(run) && !run.issuesFailed {
		hold, holdWhy = r.settleAttempts(ctx, run)
	}
	if run.githubErr == nil {
		if run.budgetWait > 0 {
			// Set over the condition as it stands, never removed and added
			// again: its lastTransitionTime stays that of the wait's start.
			conditions.Set(run.conds(), run.gen, cxv1.ConditionTrackerReady, metav1.ConditionTrue, cxv1.ReasonConnected, trackerConnectedMessage)
			conditions.Set(run.conds(), run.gen, cxv1.ConditionRateLimited, metav1.ConditionTrue, cxv1.ReasonWriteBudget,
				budgetWaitMessage(run.persisted.Status.Conditions, progressOf(ph.Status.Items).Planned, run.budgetWait))
		} else {
			trackerConnected(run.conds(), run.gen)
		}
	}
	// The time of a sync is recorded only with a change worth writing, so
	// that an unchanged sync writes nothing.
	if !equality.Semantic.DeepEqual(run.persisted.Status.Items, ph.Status.Items) || ph.Status.LastSyncTime == nil {
		syncTime := now(r.Clock)
		ph.Status.LastSyncTime = &syncTime
	}
	progress := progressOf(ph.Status.Items)
	done, why := plan.ExitCriteriaMet(ph, run.cj, progress, len(run.desired))
	if hold > 0 {
		done, why = false, holdWhy
	}
	if done && !run.issuesFailed {
		ph.Status.State = cxv1.PhaseCompleted
		completed := now(r.Clock)
		ph.Status.CompletedAt = &completed
		run.ready.Ready(cxv1.ReasonPhaseCompleted, "completed: "+progress.Summary)
		run.news.tell(run.cj, corev1.EventTypeNormal, cxv1.ReasonPhaseCompleted, "Complete", "%s phase of journey %s completed: %s", ph.Spec.Type, run.cj.Name, progress.Summary)
		if parentIssues(run.cj) && ph.Status.Parent == nil && opensWork(ph) {
			// Work opened before the journey asked for parent issues, or
			// before this version recorded the parent owed: the parent
			// is owed all the same (written with the completion).
			ph.Status.Parent = &cxv1.PhaseParent{State: cxv1.ParentIssuePending}
		}
		res := steps.Done(0).Merge(r.closeParent(ctx, run))
		if parentIssues(run.cj) && (parentOwed(ph) || linksLeft(ph)) {
			// The parent is opened, linked and closed as the completed
			// phase finishes (finishCompleted): soon, not at a change.
			res = res.Merge(steps.Requeue(time.Second))
		}
		return res, nil
	}
	run.ready.Ready(cxv1.ReasonTracking, fmt.Sprintf("%d open, %d planned, %s closed; %s", progress.Open, progress.Planned, progress.Summary, why))
	if run.githubErr != nil {
		return steps.Result{}, nil // githubFailed says when to look again
	}
	if hold > 0 {
		return steps.Requeue(hold), nil
	}
	return steps.Requeue(wait.Jitter(syncInterval(ph), 0.1)), nil // an Active phase is polled
}

// refusedForThisIssue reports, and sets aside, an item whose issue GitHub
// refuses to change for a reason of that issue alone (deleted, locked,
// forbidden), so that one issue does not hold the whole phase up. Rate
// limits and failures of GitHub itself are not: they are retried.
func (r *ImprovementPhaseReconciler) refusedForThisIssue(ph *cxv1.ImprovementPhase, it *cxv1.PhaseItem, what string, err error) bool {
	var apiErr *tracker.APIError
	if !errors.As(err, &apiErr) || apiErr.Retryable() || apiErr.Reason == cxv1.ReasonBadCredentials || apiErr.Reason == cxv1.ReasonRepositoryNotFound {
		return false
	}
	if apiErr.StatusCode == http.StatusForbidden {
		// The credentials may not write (a token downgraded to read-only):
		// a matter of the phase, which a person fixes, not of this issue.
		// The item stays as it is and the change is tried again.
		return false
	}
	it.State = cxv1.ItemObsolete
	it.Message = fmt.Sprintf("GitHub refused to %s issue #%d: %s; cxloop leaves it as it is", what, it.Issue, apiErr.Reason)
	r.Recorder.Eventf(ph, nil, corev1.EventTypeWarning, apiErr.Reason, "Sync", "%s", it.Message)
	return true
}

// newlyMissing is the message of each issue newly found missing on GitHub
// (deleted, transferred, unlabelled, refused): news, told in a Warning.
func newlyMissing(ph, before *cxv1.ImprovementPhase) []string {
	was := map[string]string{}
	for _, it := range before.Status.Items {
		was[it.Key] = it.Message
	}
	var out []string
	for _, it := range ph.Status.Items {
		// One Warning per vanished issue: a webhook that later says what
		// happened refines the item's message, not the news.
		if it.Message != "" && was[it.Key] == "" {
			out = append(out, it.Message)
		}
	}
	return out
}

func syncInterval(ph *cxv1.ImprovementPhase) time.Duration {
	if ph.Spec.SyncInterval != nil && ph.Spec.SyncInterval.Duration > 0 {
		return ph.Spec.SyncInterval.Duration
	}
	return defaultSyncInterval
}

// SetupWithManager registers the reconciler. Besides its own kind it
// watches journeys (the map changed, or a GitHub webhook delivery was
// recorded on them) and the phase named in spec.after (it completed).
func (r *ImprovementPhaseReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &cxv1.ImprovementPhase{}, afterIndex, func(o client.Object) []string {
		if a := o.(*cxv1.ImprovementPhase).Spec.After; a != "" {
			return []string{a}
		}
		return nil
	}); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&cxv1.ImprovementPhase{}, builder.WithPredicates(predicate.GenerationChangedPredicate{}, r.Shard.phaseEvents())).
		Watches(&cxv1.CustomerJourney{}, handler.EnqueueRequestsFromMapFunc(r.phasesOfJourney), builder.WithPredicates(journeyChanged)).
		Watches(&cxv1.ImprovementPhase{}, handler.EnqueueRequestsFromMapFunc(r.phasesAfter), builder.WithPredicates(phaseStateChanged, r.Shard.phaseEvents())).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			var reqs []reconcile.Request
			for _, cj := range journeysOfSecret(ctx, r.Client, o) {
				reqs = append(reqs, r.phasesOfJourney(ctx, &cj)...)
			}
			return reqs
		}))
	if r.Wakeups != nil {
		b = b.WatchesRawSource(r.Wakeups.source(r.Wakeups.phases, r.phasesOfJourney))
	}
	return b.WithOptions(withCappedRetries(opts)).
		Named("improvementphase").
		Complete(routineRequeues(r))
}

const afterIndex = "spec.after"

// phaseStateChanged passes what a phase waiting on another needs to see of
// it: its creation, deletion, spec, and a change of state (a phase that
// completes starts the next); not each of its status writes.
var phaseStateChanged = predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*cxv1.ImprovementPhase)
		n, ok2 := e.ObjectNew.(*cxv1.ImprovementPhase)
		return !ok1 || !ok2 || o.Status.State != n.Status.State || parentNumber(o) != parentNumber(n)
	},
})

// parentNumber is the phase's parent issue (0: none yet): a phase waiting
// on this one marks its own parent blocked by it.
func parentNumber(ph *cxv1.ImprovementPhase) int64 {
	if ph.Status.Parent == nil {
		return 0
	}
	return ph.Status.Parent.Issue
}

func (r *ImprovementPhaseReconciler) phasesOfJourney(ctx context.Context, o client.Object) []reconcile.Request {
	phases, err := phasesOf(ctx, r.Client, o.GetNamespace(), o.GetName())
	if err != nil {
		logf.FromContext(ctx).Error(err, "listing phases of journey", "journey", o.GetName())
		return nil
	}
	return requestsFor(phases)
}

func (r *ImprovementPhaseReconciler) phasesAfter(ctx context.Context, o client.Object) []reconcile.Request {
	var list cxv1.ImprovementPhaseList
	if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{afterIndex: o.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "listing phases after", "phase", o.GetName())
		return nil
	}
	return requestsFor(list.Items)
}

func requestsFor(phases []cxv1.ImprovementPhase) []reconcile.Request {
	reqs := make([]reconcile.Request, 0, len(phases))
	for _, p := range phases {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&p)})
	}
	return reqs
}
