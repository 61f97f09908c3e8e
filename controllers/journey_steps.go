package controllers

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/review"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
)

// journeyState is one reconcile of a journey, handed from step to step:
// each step reads what the steps before it left and adds its own part.
type journeyState struct {
	cj *cxv1.CustomerJourney
	// persisted is the journey as last written; the attempts to open an
	// issue write the status as they go and move it forward.
	persisted *cxv1.CustomerJourney
	phases    []cxv1.ImprovementPhase
	// m is the map, with the measures' readings once they are read.
	m     journey.Map
	sched *review.Schedule // nil without spec.review
	// gh is the journey's GitHub: nil while the journey is not tracked.
	gh *journeyRun
	// ready is what the steps found, for the Ready condition.
	ready readiness
	// news is what the steps found worth an Event (the map scored or
	// invalid, a review missed), told once a write records it.
	news news
}

func newJourneyState(cj *cxv1.CustomerJourney) *journeyState {
	return &journeyState{cj: cj, persisted: cj.DeepCopy()}
}

// journeySteps are the journey's reconcile, in order.
func (r *CustomerJourneyReconciler) journeySteps() []steps.Step[*journeyState] {
	return []steps.Step[*journeyState]{
		{Name: "phases", Run: r.loadPhases},
		{Name: "validate", Run: r.validateMap},
		{Name: "measures", Run: r.readMapMeasures},
		{Name: "score", Run: r.scoreJourney},
		{Name: "history", Run: r.recordJourneyHistory},
		{Name: "schedule", Run: r.parseReviewSchedule},
		{Name: "tracker", Run: r.connectTracker},
		{Name: "reviews", Run: r.syncReviews},
		{Name: "dashboard", Run: r.syncDashboard},
		{Name: "scored", Run: r.reportScore},
	}
}

// loadPhases reads the journey's phases: their work counts in its health.
func (r *CustomerJourneyReconciler) loadPhases(ctx context.Context, s *journeyState) (steps.Result, error) {
	phases, err := phasesOf(ctx, r.Client, s.cj.Namespace, s.cj.Name)
	s.phases = phases
	return steps.Result{}, err
}

// validateMap stalls the journey on a map that breaks a rule admission
// cannot check; the message names the fields.
func (r *CustomerJourneyReconciler) validateMap(_ context.Context, s *journeyState) (steps.Result, error) {
	s.m = journeyMap(&s.cj.Spec)
	problems := journey.Validate(s.m)
	if len(problems) == 0 {
		return steps.Result{}, nil
	}
	msg := problemsMessage(problems)
	if stallIsNews(s.cj.Status.Conditions, s.cj.Generation, cxv1.ReasonInvalidMap, msg) {
		s.news.tell(nil, corev1.EventTypeWarning, cxv1.ReasonInvalidMap, "Validate", "%s", msg)
	}
	s.ready.Stall(cxv1.ReasonInvalidMap, msg)
	return steps.Done(0), nil
}

// readMapMeasures reads the map's measures from Prometheus and puts the
// readings on the map; it asks to read them again in time.
func (r *CustomerJourneyReconciler) readMapMeasures(ctx context.Context, s *journeyState) (steps.Result, error) {
	again := readMeasures(ctx, r.Metrics, s.cj, r.Clock.Now())
	s.m = withReadings(s.m, &s.cj.Spec, s.cj.Status.Measures)
	return steps.Requeue(again), nil
}

// scoreJourney fills the summary, health, gaps and active phase.
func (r *CustomerJourneyReconciler) scoreJourney(_ context.Context, s *journeyState) (steps.Result, error) {
	scoreMap(s.cj, s.m, s.phases)
	s.cj.Status.ActivePhase = activePhase(s.phases)
	journeyHealth.WithLabelValues(s.cj.Namespace, s.cj.Name).Set(float64(*s.cj.Status.HealthScore))
	// News when the figures changed: told here, against the journey as
	// read, as an attempt's write later in the run records them too.
	st, before := &s.cj.Status, &s.persisted.Status
	if !equality.Semantic.DeepEqual(before.Summary, st.Summary) || !equality.Semantic.DeepEqual(before.HealthScore, st.HealthScore) {
		s.news.tell(nil, corev1.EventTypeNormal, cxv1.ReasonMapScored, "Score", "%s", scoredMessage(st))
	}
	return steps.Result{}, nil
}

// scoredMessage sums a scored journey up.
func scoredMessage(st *cxv1.CustomerJourneyStatus) string {
	return fmt.Sprintf("%d touchpoints on %d channels, health %d, %d gaps", st.Summary.Touchpoints, st.Summary.Channels, *st.HealthScore, len(st.Gaps))
}

// recordJourneyHistory adds the figures to status.history; a change it may
// not record yet asks for a look when it may.
func (r *CustomerJourneyReconciler) recordJourneyHistory(_ context.Context, s *journeyState) (steps.Result, error) {
	return steps.Requeue(recordHistory(s.cj, s.m, s.phases, r.Clock.Now())), nil
}

// parseReviewSchedule reads spec.review; a schedule or time zone that
// cannot be parsed stalls the journey.
func (r *CustomerJourneyReconciler) parseReviewSchedule(_ context.Context, s *journeyState) (steps.Result, error) {
	sched, err := reviewSchedule(s.cj)
	if err == nil {
		s.sched = sched
		return steps.Result{}, nil
	}
	msg := err.Error()
	if !conditionIs(s.cj.Status.Conditions, cxv1.ConditionStalled, metav1.ConditionTrue, cxv1.ReasonInvalidSchedule) {
		s.news.tell(nil, corev1.EventTypeWarning, cxv1.ReasonInvalidSchedule, "Schedule", "%s", msg)
	}
	s.cj.Status.NextReviewTime = nil
	s.ready.Stall(cxv1.ReasonInvalidSchedule, msg)
	return steps.Done(0), nil
}

// trackerOwned are the conditions only a tracked journey has.
var trackerOwned = []string{cxv1.ConditionTrackerReady, cxv1.ConditionRateLimited, cxv1.ConditionReviewOverdue, cxv1.ConditionStale, cxv1.ConditionRepositoryRenamed}

// connectTracker reaches the journey's GitHub repository and reads its
// issues; an untracked journey drops what only tracking gives.
func (r *CustomerJourneyReconciler) connectTracker(ctx context.Context, s *journeyState) (steps.Result, error) {
	cj := s.cj
	if cj.Spec.Tracker == nil || r.Trackers == nil {
		cj.Status.Dashboard, cj.Status.Review, cj.Status.GitHubRepository = nil, nil, nil
		for _, c := range trackerOwned {
			conditions.Remove(&cj.Status.Conditions, c)
		}
		return steps.Result{}, nil
	}
	tr, err := r.Trackers.For(ctx, cj)
	if err != nil {
		return r.githubStopped(s, err)
	}
	issues, err := tr.Issues(tracker.WithMaxAge(ctx, journeySyncInterval/2))
	if err != nil {
		return r.githubStopped(s, err)
	}
	if err := r.followRepository(ctx, cj, tr, &s.news); err != nil {
		return r.githubStopped(s, err)
	}
	trackerConnected(&cj.Status.Conditions, cj.Generation)
	s.gh = &journeyRun{cj: cj, persisted: s.persisted, tr: tr, issues: issues, news: &s.news}
	r.settleAttempts(s.gh)
	return steps.Result{}, nil
}

// syncReviews opens the reviews that are due (when tracked) and says when
// the next one is.
func (r *CustomerJourneyReconciler) syncReviews(ctx context.Context, s *journeyState) (steps.Result, error) {
	cj := s.cj
	switch {
	case s.sched == nil:
		cj.Status.NextReviewTime, cj.Status.Review = nil, nil
		return steps.Result{}, nil
	case s.gh == nil:
		next := s.sched.Next(r.Clock.Now())
		nt := metav1.NewTime(next)
		cj.Status.NextReviewTime = &nt
		return steps.Requeue(max(time.Second, next.Sub(r.Clock.Now()))), nil
	}
	due, err := r.reconcileReviews(ctx, s.gh, s.sched, s.m, s.phases)
	if err != nil {
		return r.githubStopped(s, err)
	}
	return steps.Requeue(due), nil
}

// syncDashboard keeps the dashboard issue of a tracked journey up to date.
func (r *CustomerJourneyReconciler) syncDashboard(ctx context.Context, s *journeyState) (steps.Result, error) {
	if s.gh == nil {
		return steps.Result{}, nil
	}
	grace, err := r.reconcileDashboard(ctx, s.gh, s.phases)
	if err != nil {
		return r.githubStopped(s, err)
	}
	r.retries.succeeded(r.Clock, journeyKey(s.cj)) // GitHub answered every request of this run
	// Look at GitHub again now and then: a review closed without a
	// webhook must not wait for the next review to be seen.
	return steps.Requeue(steps.Earliest(grace, wait.Jitter(journeySyncInterval, 0.1))), nil
}

// reportScore says the journey is scored (its Event is scoreJourney's news).
func (r *CustomerJourneyReconciler) reportScore(_ context.Context, s *journeyState) (steps.Result, error) {
	s.ready.Ready(cxv1.ReasonMapScored, scoredMessage(&s.cj.Status))
	return steps.Result{}, nil
}

// githubStopped ends the run on a GitHub failure: the tracker's conditions,
// an Event, the verdict and the requeue the failure calls for; a failure
// that may pass backs this journey off on its own.
func (r *CustomerJourneyReconciler) githubStopped(s *journeyState, err error) (steps.Result, error) {
	res, err := r.retries.retry(r.Recorder, r.Clock, journeyKey(s.cj), journeySyncInterval, s.cj, &s.cj.Status.Conditions, s.cj.Generation, err, &s.ready)
	return steps.Done(res.RequeueAfter), err
}

func journeyKey(cj *cxv1.CustomerJourney) string { return "journey/" + cj.Namespace + "/" + cj.Name }

// stallIsNews says whether stalling with reason and msg changes the
// conditions, so that an unchanged stall is not announced again.
func stallIsNews(conds []metav1.Condition, gen int64, reason, msg string) bool {
	after := slices.Clone(conds)
	conditions.MarkStalled(&after, gen, reason, msg)
	return !equality.Semantic.DeepEqual(conds, after)
}
