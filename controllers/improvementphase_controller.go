package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// Reasons of the ImprovementPhase's conditions and Events.
const (
	ReasonSuspended       = "Suspended"
	ReasonJourneyNotFound = "JourneyNotFound"
	ReasonJourneyInvalid  = "JourneyInvalid"
	ReasonWaitingForPhase = "WaitingForPhase"
	ReasonPhaseStarted    = "PhaseStarted"
	ReasonPhaseCompleted  = "PhaseCompleted"
	ReasonTracking        = "Tracking"
	ReasonIssueOpened     = "IssueOpened"
	ReasonIssueObsolete   = "IssueObsolete"
	ReasonIssueMissing    = "IssueMissing"
	ReasonIssueReopened   = "IssueReopened"
	ReasonTrackerReady    = "Connected"
)

const defaultSyncInterval = 5 * time.Minute

// ImprovementPhaseReconciler runs one phase of the method: it waits for the
// phase before it, opens an issue for each piece of the phase's work within
// the limits, tracks the issues until they are closed, and completes the
// phase when its exit criteria hold.
type ImprovementPhaseReconciler struct {
	client.Client
	Recorder events.EventRecorder
	Clock    clock.PassiveClock
	Trackers TrackerSource
	// IssueEvents are what GitHub's webhooks told about issues (optional).
	IssueEvents *IssueEvents
	// CreateGrace is how long an attempt to open an issue may still turn
	// up on GitHub (a request in flight when cxloop stopped); longer than the
	// tracker's request timeout. Defaults to 2 minutes.
	CreateGrace time.Duration
}

const (
	defaultCreateGrace = 2 * time.Minute
	// openBatch bounds the issues opened in one reconcile, so that the
	// intents recorded before opening them stay fresh.
	openBatch = 10
)

// +kubebuilder:rbac:groups=cx.cxloop.dev,resources=improvementphases,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=cx.cxloop.dev,resources=improvementphases/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=cx.cxloop.dev,resources=customerjourneys,verbs=get;list;watch

// Reconcile moves a phase forward.
func (r *ImprovementPhaseReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	var ph cxv1.ImprovementPhase
	if err := r.Get(ctx, req.NamespacedName, &ph); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := ph.DeepCopy()
	conds := &ph.Status.Conditions
	// The generation this reconcile works from: a status write in between
	// returns a newer object, but only this spec has been acted on.
	gen := ph.Generation
	defer func() {
		ph.Status.ObservedGeneration = gen
		ph.Status.Progress = progressOf(ph.Status.Items)
		forecastPhase(&ph, r.Clock.Now())
		recordPhaseMetrics(&ph)
		if patchErr := patchStatus(ctx, r.Client, before, &ph); patchErr != nil && err == nil {
			err = patchErr
		}
	}()

	// Completion is final: neither suspend nor a change of the phase before
	// it undoes it, so the phases after it keep going.
	if ph.Status.State == cxv1.PhaseCompleted {
		conditions.MarkReady(conds, gen, ReasonPhaseCompleted, "completed: "+progressOf(ph.Status.Items).Summary)
		return ctrl.Result{}, nil
	}
	if ph.Spec.Suspend {
		ph.Status.State = cxv1.PhaseSuspended
		conditions.Set(conds, gen, cxv1.ConditionReady, metav1.ConditionFalse, ReasonSuspended, "spec.suspend is true: no issues are opened or tracked")
		conditions.Remove(conds, cxv1.ConditionReconciling)
		conditions.Remove(conds, cxv1.ConditionStalled)
		return ctrl.Result{}, nil
	}
	if ph.Status.State == cxv1.PhaseSuspended {
		ph.Status.State = cxv1.PhasePending // resumed; Active again below if it had started
		if ph.Status.StartedAt != nil {
			ph.Status.State = cxv1.PhaseActive
		}
	}

	var cj cxv1.CustomerJourney
	if err := r.Get(ctx, client.ObjectKey{Namespace: ph.Namespace, Name: ph.Spec.JourneyRef.Name}, &cj); err != nil {
		if apierrors.IsNotFound(err) {
			conditions.MarkStalled(conds, gen, ReasonJourneyNotFound, fmt.Sprintf("CustomerJourney %q named in spec.journeyRef does not exist", ph.Spec.JourneyRef.Name))
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}

	// A phase waits for the one before it only until it starts; once
	// Active it never goes back to Pending, so its open issues stay tracked.
	if ph.Status.State != cxv1.PhaseActive {
		if waiting, msg, err := r.waitingForPreviousPhase(ctx, &ph); err != nil || waiting {
			if err == nil {
				ph.Status.State = cxv1.PhasePending
				conditions.MarkReady(conds, gen, ReasonWaitingForPhase, msg)
			}
			return ctrl.Result{}, err
		}
	}

	m := journeyMap(&cj.Spec)
	if problems := journey.Validate(m); len(problems) > 0 {
		conditions.MarkStalled(conds, gen, ReasonJourneyInvalid, fmt.Sprintf("journey %s: %s", cj.Name, problemsMessage(problems)))
		return ctrl.Result{}, nil
	}
	tr, err := r.Trackers.For(ctx, &cj)
	if err != nil {
		return r.trackerFailed(&ph, err)
	}
	if ph.Status.State != cxv1.PhaseActive {
		ph.Status.State = cxv1.PhaseActive
		if ph.Status.StartedAt == nil {
			started := now(r.Clock)
			ph.Status.StartedAt = &started
		}
		r.Recorder.Eventf(&ph, &cj, corev1.EventTypeNormal, ReasonPhaseStarted, "Start", "%s phase of journey %s started", ph.Spec.Type, cj.Name)
	}

	phases, err := phasesOf(ctx, r.Client, ph.Namespace, cj.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	ctxPhase := r.phaseContext(&ph, &cj)
	desired := plannedWork(&ph, m, ctxPhase, quickWinRuleOf(phases, &ph))
	issues, err := tr.Issues(ctx)
	if err != nil {
		return r.trackerFailed(&ph, err)
	}
	changes := mergeItems(&ph, desired, issues, ctxPhase, r.IssueEvents, r.Clock, r.createGrace())
	r.reportMissingIssues(&ph, before)
	if err := r.applyChanges(ctx, tr, &ph, changes, desired); err != nil {
		return r.trackerFailed(&ph, err)
	}
	requeue, err := r.openPlanned(ctx, tr, before, &ph, &cj, desired, ctxPhase.Assignees)
	if err != nil {
		var sw *statusWriteError
		if errors.As(err, &sw) {
			return ctrl.Result{}, sw.err
		}
		return r.trackerFailed(&ph, err)
	}
	trackerConnected(conds, gen)
	// The time of a sync is recorded only with a change worth writing, so
	// that an unchanged sync writes nothing.
	if !equality.Semantic.DeepEqual(before.Status.Items, ph.Status.Items) || ph.Status.LastSyncTime == nil {
		syncTime := now(r.Clock)
		ph.Status.LastSyncTime = &syncTime
	}

	progress := progressOf(ph.Status.Items)
	if done, why := exitCriteriaMet(&ph, &cj, progress, len(desired)); done {
		ph.Status.State = cxv1.PhaseCompleted
		completed := now(r.Clock)
		ph.Status.CompletedAt = &completed
		conditions.MarkReady(conds, gen, ReasonPhaseCompleted, "completed: "+progress.Summary)
		r.Recorder.Eventf(&ph, &cj, corev1.EventTypeNormal, ReasonPhaseCompleted, "Complete", "%s phase of journey %s completed: %s", ph.Spec.Type, cj.Name, progress.Summary)
		return ctrl.Result{}, nil
	} else {
		conditions.MarkReady(conds, gen, ReasonTracking, fmt.Sprintf("%d open, %d planned, %s closed; %s", progress.Open, progress.Planned, progress.Summary, why))
	}
	next := wait.Jitter(syncInterval(&ph), 0.1)
	if requeue > 0 && requeue < next {
		next = requeue
	}
	return ctrl.Result{RequeueAfter: next}, nil
}

// waitingForPreviousPhase reports whether the phase named in spec.after has
// yet to complete.
func (r *ImprovementPhaseReconciler) waitingForPreviousPhase(ctx context.Context, ph *cxv1.ImprovementPhase) (bool, string, error) {
	if ph.Spec.After == "" {
		return false, "", nil
	}
	var prev cxv1.ImprovementPhase
	if err := r.Get(ctx, client.ObjectKey{Namespace: ph.Namespace, Name: ph.Spec.After}, &prev); err != nil {
		if apierrors.IsNotFound(err) {
			return true, fmt.Sprintf("waiting for phase %q named in spec.after, which does not exist yet", ph.Spec.After), nil
		}
		return false, "", err
	}
	if prev.Status.State != cxv1.PhaseCompleted {
		return true, fmt.Sprintf("waiting for phase %s (%s) to complete: %s", prev.Name, prev.Spec.Type, orDash(prev.Status.Progress.Summary)), nil
	}
	return false, "", nil
}

// trackerFailed reports a tracker error on the phase.
func (r *ImprovementPhaseReconciler) trackerFailed(ph *cxv1.ImprovementPhase, err error) (ctrl.Result, error) {
	return trackerFailed(r.Recorder, r.Clock, ph, &ph.Status.Conditions, ph.Generation, err)
}

func (r *ImprovementPhaseReconciler) phaseContext(ph *cxv1.ImprovementPhase, cj *cxv1.CustomerJourney) workitem.Phase {
	p := workitem.Phase{
		Namespace: ph.Namespace, Journey: cj.Name, JourneyOwner: cj.Spec.Owner, Name: ph.Name, Type: string(ph.Spec.Type),
		Owner: ph.Spec.Owner, Deadline: ph.Spec.Deadline,
	}
	if gh := cj.Spec.Tracker.GitHub; gh != nil {
		p.Labels, p.Assignees = gh.Labels, gh.Assignees
	}
	return p
}

// applyChanges closes the issues of work that no longer follows from the
// map, reopens those of work the map asks for again, and brings the title
// and body of open issues up to date with the map.
func (r *ImprovementPhaseReconciler) applyChanges(ctx context.Context, tr tracker.Tracker, ph *cxv1.ImprovementPhase, changes []itemChange, desired []workitem.Item) error {
	for _, c := range changes {
		it := &ph.Status.Items[c.index]
		switch c.action {
		case closeAsCompleted, closeAsNotPlanned:
			reason := reasonCompleted
			if c.action == closeAsNotPlanned {
				reason = reasonNotPlanned
			}
			if err := tr.CloseIssue(ctx, it.Issue, reason, c.comment); err != nil {
				if r.refusedForThisIssue(ph, it, "close", err) {
					continue
				}
				return err
			}
			closed := now(r.Clock)
			it.ClosedAt = &closed
			it.State = cxv1.ItemClosed
			if c.action == closeAsNotPlanned {
				it.State = cxv1.ItemObsolete
				r.Recorder.Eventf(ph, nil, corev1.EventTypeNormal, ReasonIssueObsolete, "Close", "closed issue #%d as not planned: %s", it.Issue, c.comment)
			}
		case reopen:
			if err := tr.ReopenIssue(ctx, it.Issue, c.comment); err != nil {
				if r.refusedForThisIssue(ph, it, "reopen", err) {
					continue
				}
				return err
			}
			it.State, it.ClosedAt = cxv1.ItemOpen, nil
			r.Recorder.Eventf(ph, nil, corev1.EventTypeNormal, ReasonIssueReopened, "Reopen", "reopened issue #%d: %s", it.Issue, c.comment)
		}
	}
	work := make(map[string]workitem.Item, len(desired))
	for _, w := range desired {
		work[w.Key] = w
	}
	for _, it := range ph.Status.Items {
		if w, ok := work[it.Key]; ok && it.State == cxv1.ItemOpen && it.Issue != 0 {
			if err := tr.UpdateIssue(ctx, it.Issue, w.Title, w.Body); err != nil {
				return err
			}
		}
	}
	return nil
}

// refusedForThisIssue reports, and sets aside, an item whose issue GitHub
// refuses to change for a reason of that issue alone (deleted, locked,
// forbidden), so that one issue does not hold the whole phase up. Rate
// limits and failures of GitHub itself are not: they are retried.
func (r *ImprovementPhaseReconciler) refusedForThisIssue(ph *cxv1.ImprovementPhase, it *cxv1.PhaseItem, what string, err error) bool {
	var apiErr *tracker.APIError
	if !errors.As(err, &apiErr) || apiErr.Retryable() || apiErr.Reason == tracker.ReasonBadCredentials || apiErr.Reason == tracker.ReasonRepositoryNotFound {
		return false
	}
	it.State = cxv1.ItemObsolete
	it.Message = fmt.Sprintf("GitHub refused to %s issue #%d: %s; cxloop leaves it as it is", what, it.Issue, apiErr.Reason)
	r.Recorder.Eventf(ph, nil, corev1.EventTypeWarning, apiErr.Reason, "Sync", "%s", it.Message)
	return true
}

func (r *ImprovementPhaseReconciler) createGrace() time.Duration {
	if r.CreateGrace > 0 {
		return r.CreateGrace
	}
	return defaultCreateGrace
}

// statusWriteError is a failure to write the status, not GitHub's.
type statusWriteError struct{ err error }

func (e *statusWriteError) Error() string { return "writing status: " + e.err.Error() }

// openPlanned opens the issues of planned items, best first, within the
// phase's limits. Before it asks GitHub, it records the attempt in the
// status: a create in flight when cxloop stops may still land on GitHub, and
// the next cxloop must wait for it to show up rather than open a second one.
// persisted is the phase as last written; it is updated when the intent is.
// It returns when to look again if a limit or an earlier attempt holds items back.
func (r *ImprovementPhaseReconciler) openPlanned(ctx context.Context, tr tracker.Tracker, persisted, ph *cxv1.ImprovementPhase, cj *cxv1.CustomerJourney, desired []workitem.Item, assignees []string) (time.Duration, error) {
	maxOpen, maxPerHour := limits(ph)
	nowT := r.Clock.Now()
	grace := r.createGrace()
	open, lastHour := 0, 0
	var oldestInHour time.Time
	for _, it := range ph.Status.Items {
		if it.State == cxv1.ItemOpen {
			open++
		}
		if it.OpenedAt != nil && nowT.Sub(it.OpenedAt.Time) < time.Hour {
			lastHour++
			if oldestInHour.IsZero() || it.OpenedAt.Time.Before(oldestInHour) {
				oldestInHour = it.OpenedAt.Time
			}
		}
	}
	work := make(map[string]workitem.Item, len(desired))
	for _, w := range desired {
		work[w.Key] = w
	}

	// Choose what to open now.
	var batch []int
	var requeue time.Duration
	for i, it := range ph.Status.Items {
		if it.State != cxv1.ItemPlanned {
			continue
		}
		if _, ok := work[it.Key]; !ok {
			continue
		}
		if (maxOpen > 0 && open+len(batch) >= maxOpen) || len(batch) == openBatch {
			break // more open as these close
		}
		if maxPerHour > 0 && lastHour+len(batch) >= maxPerHour {
			requeue = max(time.Second, oldestInHour.Add(time.Hour).Sub(nowT))
			break
		}
		if it.AttemptedAt != nil && nowT.Sub(it.AttemptedAt.Time) < grace {
			// An earlier attempt may still land: wait for it, holding its place.
			wait := max(time.Second, it.AttemptedAt.Add(grace).Sub(nowT))
			if requeue == 0 || wait < requeue {
				requeue = wait
			}
			open++
			continue
		}
		batch = append(batch, i)
	}
	if len(batch) == openBatch {
		requeue = time.Second // more to open once this batch is recorded
	}
	if len(batch) == 0 {
		return requeue, nil
	}
	// Record the intent, with everything else this reconcile found so far,
	// before acting on it.
	attempted := now(r.Clock)
	for _, i := range batch {
		ph.Status.Items[i].AttemptedAt = &attempted
	}
	ph.Status.Progress = progressOf(ph.Status.Items)
	if err := r.Status().Patch(ctx, ph, client.MergeFrom(persisted)); err != nil {
		return 0, &statusWriteError{err}
	}
	ph.DeepCopyInto(persisted)

	for n, i := range batch {
		if r.Clock.Since(attempted.Time) > grace/2 {
			// GitHub is slow: leave the rest for a fresh intent, so that none
			// is made long after its recorded attempt.
			for _, j := range batch[n:] {
				ph.Status.Items[j].AttemptedAt = nil
			}
			return time.Second, nil
		}
		it := &ph.Status.Items[i]
		w := work[it.Key]
		issue, created, err := tr.EnsureIssue(ctx, tracker.IssueRequest{
			Key: workitem.TrackerKey(ph.Namespace, cj.Name, w.Key), Title: w.Title, Body: w.Body, Labels: w.Labels, Assignees: assignees,
		})
		if err != nil {
			return 0, err
		}
		applyIssue(it, issue, r.Clock)
		it.AttemptedAt = nil
		if created {
			opened := now(r.Clock)
			it.OpenedAt = &opened
			r.Recorder.Eventf(ph, nil, corev1.EventTypeNormal, ReasonIssueOpened, "Open", "opened issue #%d: %s", issue.Number, w.Title)
		}
	}
	return requeue, nil
}

// reportMissingIssues emits a Warning Event for each issue newly found
// missing on GitHub (deleted, transferred, unlabelled).
func (r *ImprovementPhaseReconciler) reportMissingIssues(ph, before *cxv1.ImprovementPhase) {
	was := map[string]string{}
	for _, it := range before.Status.Items {
		was[it.Key] = it.Message
	}
	for _, it := range ph.Status.Items {
		if it.Message != "" && it.Message != was[it.Key] {
			r.Recorder.Eventf(ph, nil, corev1.EventTypeWarning, ReasonIssueMissing, "Sync", "%s", it.Message)
		}
	}
}

func syncInterval(ph *cxv1.ImprovementPhase) time.Duration {
	if ph.Spec.SyncInterval != nil && ph.Spec.SyncInterval.Duration > 0 {
		return ph.Spec.SyncInterval.Duration
	}
	return defaultSyncInterval
}

func limits(ph *cxv1.ImprovementPhase) (maxOpen, maxPerHour int) {
	if l := ph.Spec.Limits; l != nil {
		if l.MaxOpenIssues != nil {
			maxOpen = int(*l.MaxOpenIssues)
		}
		if l.MaxIssuesPerHour != nil {
			maxPerHour = int(*l.MaxIssuesPerHour)
		}
	}
	return maxOpen, maxPerHour
}

func conditionIs(conds []metav1.Condition, typ string, status metav1.ConditionStatus, reason string) bool {
	for _, c := range conds {
		if c.Type == typ {
			return c.Status == status && c.Reason == reason
		}
	}
	return false
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// SetupWithManager registers the reconciler. Besides its own kind it
// watches journeys (the map changed), the phase named in spec.after (it
// completed), and GitHub webhook events arriving on issueEvents.
func (r *ImprovementPhaseReconciler) SetupWithManager(mgr ctrl.Manager, issueEvents <-chan event.GenericEvent) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
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
		For(&cxv1.ImprovementPhase{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&cxv1.CustomerJourney{}, handler.EnqueueRequestsFromMapFunc(r.phasesOfJourney), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&cxv1.ImprovementPhase{}, handler.EnqueueRequestsFromMapFunc(r.phasesAfter)).
		Named("improvementphase")
	if issueEvents != nil {
		b = b.WatchesRawSource(source.Channel(issueEvents, handler.EnqueueRequestsFromMapFunc(r.phasesOfJourney)))
	}
	return b.Complete(r)
}

const afterIndex = "spec.after"

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
