package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/plan"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// Table tests of the phase's steps, each run alone (found by its name in
// phaseSteps, so that a step dropped from Reconcile fails here) over a
// built phaseRun, with controller-runtime's fake client. The run's verdict
// is summarised as the deferred patch does, and the Result, the state, the
// conditions and the Events are asserted.

var stepNow = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

type phaseStepCase struct {
	name     string
	edit     func(ph *cxv1.ImprovementPhase)
	objects  []client.Object // besides the phase
	trackers TrackerSource
	prepare  func(run *phaseRun) // what the steps before would have set

	want steps.Result
	// wantPoll: the step goes on and asks for the phase's periodic sync
	// (its interval, jittered by up to 10%) rather than want.
	wantPoll  bool
	wantErr   bool
	wantState cxv1.PhaseState
	// wantConds are the conditions after the summary, "Type": "Status/Reason";
	// "Type": "" says the condition is absent.
	wantConds  map[string]string
	wantEvents []string // reasons, in order
	check      func(t *testing.T, run *phaseRun)
}

// errTrackers is a TrackerSource that cannot build the tracker.
type errTrackers struct{ err error }

func (e errTrackers) For(context.Context, *cxv1.CustomerJourney) (tracker.Tracker, error) {
	return nil, e.err
}

func runPhaseStepCases(t *testing.T, step string, cases []phaseStepCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ph := phaseNamed("improve", "shop", "")
			if tc.edit != nil {
				tc.edit(ph)
			}
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(append(tc.objects, ph)...).WithStatusSubresource(ph).
				WithIndex(&cxv1.ImprovementPhase{}, journeyRefIndex, func(o client.Object) []string {
					return []string{o.(*cxv1.ImprovementPhase).Spec.JourneyRef.Name}
				}).Build()
			rec := events.NewFakeRecorder(100)
			r := &ImprovementPhaseReconciler{Client: c, Clock: clocktesting.NewFakeClock(stepNow), Recorder: rec, Trackers: tc.trackers}
			run := &phaseRun{ph: ph, persisted: ph.DeepCopy(), gen: ph.Generation}
			if tc.prepare != nil {
				tc.prepare(run)
			}
			var found *phaseStep
			for _, st := range r.phaseSteps() {
				if st.Name == step {
					found = &st
				}
			}
			if found == nil {
				t.Fatalf("no step %s in phaseSteps", step)
			}
			res, err := found.Run(context.Background(), run)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want one: %v", err, tc.wantErr)
			}
			if every := syncInterval(ph); tc.wantPoll && (res.Stop || res.RequeueAfter < every || res.RequeueAfter > every*11/10) {
				t.Errorf("result %v, want a poll after %s, jittered by up to 10%%", res, every)
			} else if !tc.wantPoll && res != tc.want {
				t.Errorf("result %v, want %v", res, tc.want)
			}
			summarizeReady(run.conds(), run.gen, run.ready)
			if tc.wantState != "" && ph.Status.State != tc.wantState {
				t.Errorf("state %q, want %q", ph.Status.State, tc.wantState)
			}
			for typ, want := range tc.wantConds {
				got := ""
				if c := conditionOf(ph.Status.Conditions, typ); c != nil {
					got = string(c.Status) + "/" + c.Reason
				}
				if got != want {
					t.Errorf("%s = %q, want %q (conditions %+v)", typ, got, want, ph.Status.Conditions)
				}
			}
			run.news.told(rec, ph) // as the write of the status would (writeStatus)
			var reasons []string
			for len(rec.Events) > 0 {
				fields := strings.Fields(<-rec.Events)
				if len(fields) > 1 {
					reasons = append(reasons, fields[1])
				}
			}
			if fmt.Sprint(reasons) != fmt.Sprint(tc.wantEvents) && !(len(reasons) == 0 && len(tc.wantEvents) == 0) {
				t.Errorf("events %v, want %v", reasons, tc.wantEvents)
			}
			if tc.check != nil {
				tc.check(t, run)
			}
		})
	}
}

func shopJourney() *cxv1.CustomerJourney {
	cj := measuredJourney()
	cj.Namespace, cj.Name = "ns", "shop"
	return cj
}

func TestPhaseHoldCompletedOrSuspendedStep(t *testing.T) {
	runPhaseStepCases(t, "holdCompletedOrSuspended", []phaseStepCase{
		{name: "active: goes on", edit: func(ph *cxv1.ImprovementPhase) { ph.Status.State = cxv1.PhaseActive },
			want: steps.Result{}, wantState: cxv1.PhaseActive, wantConds: map[string]string{cxv1.ConditionReady: ""}},
		{name: "completed: stops, Ready", edit: func(ph *cxv1.ImprovementPhase) {
			ph.Status.State = cxv1.PhaseCompleted
			ph.Spec.Suspend = ptr.To(true) // completion is final: suspend does not undo it
		}, want: steps.Done(0), wantState: cxv1.PhaseCompleted,
			wantConds: map[string]string{cxv1.ConditionReady: "True/" + cxv1.ReasonPhaseCompleted}},
		{name: "suspended: stops, Ready=False, neither Reconciling nor Stalled", edit: func(ph *cxv1.ImprovementPhase) {
			ph.Status.State = cxv1.PhaseActive
			ph.Spec.Suspend = ptr.To(true)
			ph.Status.Conditions = []metav1.Condition{{Type: cxv1.ConditionStalled, Status: metav1.ConditionTrue, Reason: "Old", LastTransitionTime: metav1.Now()}}
		}, want: steps.Done(0), wantState: cxv1.PhaseSuspended,
			wantConds: map[string]string{cxv1.ConditionReady: "False/" + cxv1.ReasonSuspended, cxv1.ConditionStalled: "", cxv1.ConditionReconciling: ""}},
		{name: "resumed after starting: Active again", edit: func(ph *cxv1.ImprovementPhase) {
			ph.Status.State = cxv1.PhaseSuspended
			ph.Status.StartedAt = &metav1.Time{Time: stepNow.Add(-time.Hour)}
		}, want: steps.Result{}, wantState: cxv1.PhaseActive},
		{name: "resumed before starting: Pending again", edit: func(ph *cxv1.ImprovementPhase) { ph.Status.State = cxv1.PhaseSuspended },
			want: steps.Result{}, wantState: cxv1.PhasePending},
	})
}

func TestPhaseVerifyLateOutcomesStep(t *testing.T) {
	opened, closed := metav1.NewTime(stepNow.Add(-21*24*time.Hour)), metav1.NewTime(stepNow.Add(-14*24*time.Hour))
	pending := func(ph *cxv1.ImprovementPhase) {
		ph.Status.State = cxv1.PhaseCompleted
		ph.Status.Items = []cxv1.PhaseItem{{Key: "painpoint/phone-queue", State: cxv1.ItemClosed, Issue: 3, OpenedAt: &opened, ClosedAt: &closed,
			Source:  cxv1.ItemSource{Stage: "planning", Touchpoint: "phone-reservation"},
			Outcome: &cxv1.ItemOutcome{Measure: "csat", Verdict: cxv1.VerdictPending}}}
	}
	comments := &commentTracker{comments: map[int][]string{}}
	runPhaseStepCases(t, "verifyLateOutcomes", []phaseStepCase{
		{name: "active: verifyOutcomes' to judge later, nothing read", edit: func(ph *cxv1.ImprovementPhase) {
			pending(ph)
			ph.Status.State = cxv1.PhaseActive
		}, objects: []client.Object{shopJourney()}, trackers: errTrackers{errors.New("must not be asked")}, want: steps.Result{},
			check: func(t *testing.T, run *phaseRun) {
				if run.cj != nil {
					t.Error("the journey was read")
				}
			}},
		{name: "completed, every outcome judged and commented: nothing read", edit: func(ph *cxv1.ImprovementPhase) {
			pending(ph)
			ph.Status.Items[0].Outcome = &cxv1.ItemOutcome{Measure: "csat", Verdict: cxv1.VerdictImproved, Commented: ptr.To(true)}
		}, trackers: errTrackers{errors.New("must not be asked")}, want: steps.Result{}},
		{name: "completed, journey gone: its measures with it", edit: pending, trackers: errTrackers{errors.New("must not be asked")}, want: steps.Result{}},
		{name: "completed, no tracker: looked at again later, no condition of the phase's", edit: pending, objects: []client.Object{shopJourney()},
			trackers: errTrackers{&TrackerConfigError{Reason: cxv1.ReasonSecretNotFound, Message: "no Secret"}},
			want:     steps.Requeue(measureRetry), wantConds: map[string]string{cxv1.ConditionTrackerReady: ""}},
		{name: "completed, outcome outstanding: judged (no Prometheus: pending, MeasuresReady False)", edit: pending, objects: []client.Object{shopJourney()},
			trackers: oneTracker{comments}, want: steps.Result{},
			wantConds: map[string]string{cxv1.ConditionMeasuresReady: "False/PrometheusNotConfigured"},
			check: func(t *testing.T, run *phaseRun) {
				if o := run.ph.Status.Items[0].Outcome; o == nil || o.Verdict != cxv1.VerdictPending || !strings.Contains(o.Message, "not verified yet") {
					t.Errorf("outcome %+v, want Pending saying why", o)
				}
			}},
	})
}

func TestPhaseGateOnJourneyStep(t *testing.T) {
	invalid := shopJourney()
	invalid.Spec.Stages = append(invalid.Spec.Stages, invalid.Spec.Stages[0]) // a stage twice
	runPhaseStepCases(t, "gateOnJourney", []phaseStepCase{
		{name: "journey missing: stops, Reconciling (its creation wakes the phase)", want: steps.Done(0),
			wantConds: map[string]string{cxv1.ConditionReady: "False/" + cxv1.ReasonJourneyNotFound, cxv1.ConditionReconciling: "True/" + cxv1.ReasonJourneyNotFound, cxv1.ConditionStalled: ""}},
		{name: "journey's map invalid: stops, Stalled", objects: []client.Object{invalid}, want: steps.Done(0),
			wantConds: map[string]string{cxv1.ConditionReady: "False/" + cxv1.ReasonJourneyInvalid, cxv1.ConditionStalled: "True/" + cxv1.ReasonJourneyInvalid}},
		{name: "journey valid: goes on with its map and the phase's context", objects: []client.Object{shopJourney()}, want: steps.Result{},
			wantConds: map[string]string{cxv1.ConditionReady: ""},
			check: func(t *testing.T, run *phaseRun) {
				if run.cj == nil || run.pc.Journey != "shop" || run.pc.Name != "improve" {
					t.Errorf("journey %v, context %+v", run.cj, run.pc)
				}
			}},
	})
}

func TestPhaseGateOnPreviousPhaseStepLooksAgainAtTheDeadline(t *testing.T) {
	running := phaseNamed("discovery", "shop", "")
	running.Status.State = cxv1.PhaseActive
	runPhaseStepCases(t, "gateOnPreviousPhase", []phaseStepCase{
		{name: "waiting with a deadline: looked at again when it passes", objects: []client.Object{running},
			edit: func(ph *cxv1.ImprovementPhase) { ph.Spec.After = "discovery"; ph.Spec.Deadline = "2026-12-05" },
			want: steps.Done(39*time.Hour + time.Second), wantState: cxv1.PhasePending,
			wantConds: map[string]string{cxv1.ConditionReady: "True/" + cxv1.ReasonWaitingForPhase}},
		{name: "active: never back to Pending", objects: []client.Object{running},
			edit: func(ph *cxv1.ImprovementPhase) { ph.Spec.After = "discovery"; ph.Status.State = cxv1.PhaseActive },
			want: steps.Result{}, wantState: cxv1.PhaseActive},
	})
}

func TestPhaseConnectTrackerStep(t *testing.T) {
	tr := &scriptedTracker{}
	runPhaseStepCases(t, "connectTracker", []phaseStepCase{
		{name: "connected: goes on with the tracker", trackers: oneTracker{tr}, prepare: func(run *phaseRun) { run.cj = shopJourney() },
			want: steps.Result{}, check: func(t *testing.T, run *phaseRun) {
				if run.tr != tr {
					t.Error("the run has not the journey's tracker")
				}
			}},
		{name: "a person must act: stops with the configuration error", trackers: errTrackers{&TrackerConfigError{Reason: cxv1.ReasonSecretRefused, Message: "not labelled"}},
			prepare: func(run *phaseRun) { run.cj = shopJourney() }, want: steps.Done(0), wantErr: true,
			check: func(t *testing.T, run *phaseRun) {
				if run.tr != nil {
					t.Error("a tracker was set")
				}
			}},
	})
}

func TestPhaseStartPhaseStep(t *testing.T) {
	started := metav1.NewTime(stepNow.Add(-time.Hour))
	runPhaseStepCases(t, "startPhase", []phaseStepCase{
		{name: "pending: Active, started now, announced", prepare: func(run *phaseRun) { run.cj = shopJourney() },
			want: steps.Result{}, wantState: cxv1.PhaseActive, wantEvents: []string{cxv1.ReasonPhaseStarted},
			check: func(t *testing.T, run *phaseRun) {
				if s := run.ph.Status.StartedAt; s == nil || !s.Time.Equal(stepNow) {
					t.Errorf("startedAt %v, want now", s)
				}
			}},
		{name: "resumed after a start: keeps its start", edit: func(ph *cxv1.ImprovementPhase) { ph.Status.StartedAt = &started },
			prepare: func(run *phaseRun) { run.cj = shopJourney() },
			want:    steps.Result{}, wantState: cxv1.PhaseActive, wantEvents: []string{cxv1.ReasonPhaseStarted},
			check: func(t *testing.T, run *phaseRun) {
				if !run.ph.Status.StartedAt.Equal(&started) {
					t.Errorf("startedAt %v, want %v", run.ph.Status.StartedAt, started)
				}
			}},
		{name: "active: nothing to do", edit: func(ph *cxv1.ImprovementPhase) { ph.Status.State = cxv1.PhaseActive },
			want: steps.Result{}, wantState: cxv1.PhaseActive},
	})
}

// issueTracker is a tracker whose issues live in memory; err, when set,
// fails every change.
type issueTracker struct {
	tracker.Tracker
	issues map[string]tracker.Issue
	err    error
	calls  []string
}

func (f *issueTracker) Issues(context.Context) (map[string]tracker.Issue, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.issues, nil
}
func (f *issueTracker) WriteDelay(string) time.Duration { return 0 }
func (f *issueTracker) CloseIssue(_ context.Context, n int, reason, _ string) error {
	f.calls = append(f.calls, fmt.Sprintf("close #%d %s", n, reason))
	return f.err
}
func (f *issueTracker) ReopenIssue(_ context.Context, n int, _ string) error {
	f.calls = append(f.calls, fmt.Sprintf("reopen #%d", n))
	return f.err
}
func (f *issueTracker) UpdateIssue(_ context.Context, n int, _, _ string) error {
	f.calls = append(f.calls, fmt.Sprintf("update #%d", n))
	return f.err
}

func TestPhaseSyncIssuesStep(t *testing.T) {
	down := &tracker.APIError{Reason: cxv1.ReasonServerError, StatusCode: 502, Message: "Server Error"}
	active := func(ph *cxv1.ImprovementPhase) { ph.Status.State, ph.Spec.Type = cxv1.PhaseActive, cxv1.PhaseDiscovery }
	prepare := func(tr tracker.Tracker) func(run *phaseRun) {
		return func(run *phaseRun) {
			run.cj = shopJourney()
			run.m = measuredMap(run.cj)
			run.pc = (&ImprovementPhaseReconciler{}).phaseContext(run.ph, run.cj)
			run.tr = tr
		}
	}
	runPhaseStepCases(t, "syncIssues", []phaseStepCase{
		{name: "plans the map's work as items", edit: active, objects: []client.Object{shopJourney()},
			prepare: prepare(&issueTracker{issues: map[string]tracker.Issue{}}), want: steps.Result{},
			check: func(t *testing.T, run *phaseRun) {
				if len(run.desired) == 0 || len(run.ph.Status.Items) != len(run.desired) {
					t.Fatalf("%d items for %d pieces of work", len(run.ph.Status.Items), len(run.desired))
				}
				for _, it := range run.ph.Status.Items {
					if it.State != cxv1.ItemPlanned {
						t.Errorf("item %s %s, want Planned", it.Key, it.State)
					}
				}
			}},
		{name: "GitHub down: stops with a GitHub failure", edit: active, objects: []client.Object{shopJourney()},
			prepare: prepare(&issueTracker{err: down}), want: steps.Done(0), wantErr: true,
			check: func(t *testing.T, run *phaseRun) {
				if len(run.ph.Status.Items) != 0 {
					t.Errorf("items %v planned without GitHub's issues", run.ph.Status.Items)
				}
			}},
	})
}

func TestPhaseTrackIssuesStep(t *testing.T) {
	limited := &tracker.RateLimitError{ResumeAt: stepNow.Add(time.Minute)}
	refused := &tracker.APIError{Reason: cxv1.ReasonIssueDeleted, StatusCode: 410, Message: "gone"}
	items := func(ph *cxv1.ImprovementPhase) {
		ph.Status.State = cxv1.PhaseActive
		ph.Status.Items = []cxv1.PhaseItem{
			{Key: "gap/a", State: cxv1.ItemOpen, Issue: 1},
			{Key: "gap/b", State: cxv1.ItemOpen, Issue: 2},
			{Key: "gap/c", State: cxv1.ItemObsolete, Issue: 3},
		}
	}
	prepare := func(tr *issueTracker) func(run *phaseRun) {
		return func(run *phaseRun) {
			run.tr = tr
			run.work = workByKey([]workitem.Item{{Key: "gap/a", Title: "a"}, {Key: "gap/c", Title: "c"}})
			run.changes = []plan.Change{{Index: 1, Action: plan.CloseAsNotPlanned, Comment: "no longer on the map"}, {Index: 2, Action: plan.Reopen, Comment: "on the map again"}}
		}
	}
	states := func(want ...cxv1.ItemState) func(t *testing.T, run *phaseRun) {
		return func(t *testing.T, run *phaseRun) {
			for i, it := range run.ph.Status.Items {
				if it.State != want[i] {
					t.Errorf("item %s %s, want %s", it.Key, it.State, want[i])
				}
			}
		}
	}
	runPhaseStepCases(t, "trackIssues", []phaseStepCase{
		{name: "closes, reopens and updates", edit: items, prepare: prepare(&issueTracker{}), want: steps.Result{},
			wantEvents: []string{cxv1.ReasonIssueObsolete, cxv1.ReasonIssueReopened},
			check: func(t *testing.T, run *phaseRun) {
				states(cxv1.ItemOpen, cxv1.ItemObsolete, cxv1.ItemOpen)(t, run)
				if run.githubErr != nil {
					t.Errorf("failure set aside: %v", run.githubErr)
				}
				if got := fmt.Sprint(run.tr.(*issueTracker).calls); got != "[close #2 not_planned reopen #3 update #1 update #3]" {
					t.Errorf("requests %s", got)
				}
			}},
		{name: "rate limited: set aside, nothing more sent, the run goes on", edit: items, prepare: prepare(&issueTracker{err: limited}), want: steps.Result{},
			check: func(t *testing.T, run *phaseRun) {
				states(cxv1.ItemOpen, cxv1.ItemOpen, cxv1.ItemObsolete)(t, run)
				var rl *tracker.RateLimitError
				if !errors.As(run.githubErr, &rl) {
					t.Errorf("failure set aside: %v, want the rate limit", run.githubErr)
				}
				if n := len(run.tr.(*issueTracker).calls); n != 1 {
					t.Errorf("%d requests, want 1", n)
				}
			}},
		{name: "refused for an issue alone: left as it is, not a failure of the phase", edit: items, prepare: prepare(&issueTracker{err: refused}), want: steps.Result{},
			wantEvents: []string{cxv1.ReasonIssueDeleted, cxv1.ReasonIssueDeleted},
			check: func(t *testing.T, run *phaseRun) {
				states(cxv1.ItemOpen, cxv1.ItemObsolete, cxv1.ItemObsolete)(t, run)
				if !errors.As(run.githubErr, new(*githubError)) {
					t.Errorf("failure set aside: %v, want the updates' failure", run.githubErr) // updating #1 was refused too
				}
			}},
	})
}

func TestPhaseCheckExitCriteriaStep(t *testing.T) {
	closedAll := func(ph *cxv1.ImprovementPhase) {
		ph.Status.State = cxv1.PhaseActive
		ph.Status.Items = []cxv1.PhaseItem{{Key: "gap/a", State: cxv1.ItemClosed, Issue: 1}}
	}
	oneOpen := func(ph *cxv1.ImprovementPhase) {
		ph.Status.State = cxv1.PhaseActive
		ph.Spec.SyncInterval = &metav1.Duration{Duration: time.Minute}
		ph.Status.Items = []cxv1.PhaseItem{{Key: "gap/a", State: cxv1.ItemOpen, Issue: 1}}
	}
	journey := func(run *phaseRun) { run.cj = shopJourney() }
	runPhaseStepCases(t, "checkExitCriteria", []phaseStepCase{
		{name: "criteria hold: Completed, Ready, announced, no more polling", edit: closedAll, prepare: journey,
			want: steps.Done(0), wantState: cxv1.PhaseCompleted, wantEvents: []string{cxv1.ReasonPhaseCompleted},
			wantConds: map[string]string{cxv1.ConditionReady: "True/" + cxv1.ReasonPhaseCompleted, cxv1.ConditionTrackerReady: "True/" + cxv1.ReasonConnected}},
		{name: "criteria hold before the parent issue's turn: the parent is owed, and the phase comes back for it", edit: closedAll,
			prepare: func(run *phaseRun) { run.cj = shopWithParents(true) },
			want:    steps.Done(time.Second), wantState: cxv1.PhaseCompleted, wantEvents: []string{cxv1.ReasonPhaseCompleted},
			check: func(t *testing.T, run *phaseRun) {
				if p := run.ph.Status.Parent; p == nil || p.State != cxv1.ParentIssuePending || p.Issue != 0 {
					t.Errorf("parent %+v, want it owed (Pending) with the completion", p)
				}
			}},
		{name: "criteria hold, no parent issues asked: none owed", edit: closedAll,
			prepare: func(run *phaseRun) { run.cj = shopWithParents(false) },
			want:    steps.Done(0), wantState: cxv1.PhaseCompleted, wantEvents: []string{cxv1.ReasonPhaseCompleted},
			check: func(t *testing.T, run *phaseRun) {
				if p := run.ph.Status.Parent; p != nil {
					t.Errorf("parent %+v, want none", p)
				}
			}},
		{name: "criteria hold but a GitHub failure was set aside: not completed, no poll of its own", edit: closedAll,
			prepare: func(run *phaseRun) { journey(run); run.setAside(errors.New("down")) },
			want:    steps.Result{}, wantState: cxv1.PhaseActive,
			wantConds: map[string]string{cxv1.ConditionReady: "True/" + cxv1.ReasonTracking, cxv1.ConditionTrackerReady: ""}},
		{name: "criteria hold and only the board failed: Completed, the failure left to the backoff", edit: closedAll,
			prepare: func(run *phaseRun) {
				journey(run)
				run.setAside(&githubError{op: "keeping the board", err: errors.New("down"), followUp: true})
			},
			want: steps.Done(0), wantState: cxv1.PhaseCompleted, wantEvents: []string{cxv1.ReasonPhaseCompleted},
			wantConds: map[string]string{cxv1.ConditionReady: "True/" + cxv1.ReasonPhaseCompleted, cxv1.ConditionTrackerReady: ""},
			check: func(t *testing.T, run *phaseRun) {
				if run.githubErr == nil {
					t.Error("the board's failure was dropped: nothing would retry it")
				}
			}},
		{name: "criteria not met: Tracking with the figures, polled every sync interval", edit: oneOpen, prepare: journey,
			wantPoll: true, wantState: cxv1.PhaseActive,
			wantConds: map[string]string{cxv1.ConditionReady: "True/" + cxv1.ReasonTracking, cxv1.ConditionTrackerReady: "True/" + cxv1.ReasonConnected, cxv1.ConditionRateLimited: ""},
			check: func(t *testing.T, run *phaseRun) {
				if c := conditionOf(run.ph.Status.Conditions, cxv1.ConditionReady); !strings.Contains(c.Message, "1 open") {
					t.Errorf("Ready says %q, want the figures", c.Message)
				}
			}},
		{name: "waiting for the budget: RateLimited says so", edit: oneOpen,
			prepare:  func(run *phaseRun) { journey(run); run.budgetWait = 30 * time.Second },
			wantPoll: true, wantState: cxv1.PhaseActive,
			wantConds: map[string]string{cxv1.ConditionRateLimited: "True/" + cxv1.ReasonWriteBudget, cxv1.ConditionReady: "True/" + cxv1.ReasonTracking}},
	})
}

// TestPhaseReconcileSummarisesOnce: Reconcile over the fake client, from
// the steps' verdicts to the one status write: Ready, Reconciling and
// Stalled as the summary makes them, and the requeue the run's outcome
// calls for.
func TestPhaseReconcileSummarisesOnce(t *testing.T) {
	down := &tracker.APIError{Reason: cxv1.ReasonServerError, StatusCode: 502, Message: "Server Error"}
	for _, tc := range []struct {
		name      string
		edit      func(ph *cxv1.ImprovementPhase)
		objects   []client.Object
		trackers  TrackerSource
		wantAfter func(d time.Duration) bool
		wantConds map[string]string
	}{
		{name: "suspended: Ready=False, nothing asked", edit: func(ph *cxv1.ImprovementPhase) { ph.Spec.Suspend = ptr.To(true) },
			wantAfter: func(d time.Duration) bool { return d == 0 },
			wantConds: map[string]string{cxv1.ConditionReady: "False/" + cxv1.ReasonSuspended, cxv1.ConditionReconciling: "", cxv1.ConditionStalled: ""}},
		{name: "journey missing: Reconciling", wantAfter: func(d time.Duration) bool { return d == 0 },
			wantConds: map[string]string{cxv1.ConditionReady: "False/" + cxv1.ReasonJourneyNotFound, cxv1.ConditionReconciling: "True/" + cxv1.ReasonJourneyNotFound}},
		{name: "credentials refused: Stalled, looked at again in a minute", objects: []client.Object{shopJourney()},
			trackers:  errTrackers{&TrackerConfigError{Reason: cxv1.ReasonSecretRefused, Message: "the Secret lacks the opt-in label"}},
			wantAfter: func(d time.Duration) bool { return d == time.Minute },
			wantConds: map[string]string{cxv1.ConditionReady: "False/" + cxv1.ReasonSecretRefused, cxv1.ConditionStalled: "True/" + cxv1.ReasonSecretRefused,
				cxv1.ConditionTrackerReady: "False/" + cxv1.ReasonSecretRefused}},
		{name: "GitHub down: Reconciling, retried within the first backoff step", objects: []client.Object{shopJourney()},
			edit:      func(ph *cxv1.ImprovementPhase) { ph.Spec.Type = cxv1.PhaseDiscovery },
			trackers:  oneTracker{&issueTracker{err: down}},
			wantAfter: func(d time.Duration) bool { return d >= firstRetry && d <= firstRetry*6/5 },
			wantConds: map[string]string{cxv1.ConditionReady: "False/" + cxv1.ReasonServerError, cxv1.ConditionReconciling: "True/" + cxv1.ReasonServerError,
				cxv1.ConditionTrackerReady: "False/" + cxv1.ReasonServerError}},
		{name: "tracking: Ready, polled every sync interval", objects: []client.Object{shopJourney()},
			edit: func(ph *cxv1.ImprovementPhase) {
				ph.Spec.Type = cxv1.PhasePersonalization // no work on this map
				ph.Spec.ExitCriteria = &cxv1.ExitCriteria{MinHealthScore: ptr.To[int32](90)}
			},
			trackers:  oneTracker{&issueTracker{issues: map[string]tracker.Issue{}}},
			wantAfter: func(d time.Duration) bool { return d >= defaultSyncInterval && d <= defaultSyncInterval*11/10 },
			wantConds: map[string]string{cxv1.ConditionReady: "True/" + cxv1.ReasonTracking, cxv1.ConditionTrackerReady: "True/" + cxv1.ReasonConnected}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ph := phaseNamed("improve", "shop", "")
			if tc.edit != nil {
				tc.edit(ph)
			}
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(append(tc.objects, ph)...).WithStatusSubresource(ph).
				WithIndex(&cxv1.ImprovementPhase{}, journeyRefIndex, func(o client.Object) []string {
					return []string{o.(*cxv1.ImprovementPhase).Spec.JourneyRef.Name}
				}).Build()
			r := &ImprovementPhaseReconciler{Client: c, Clock: clocktesting.NewFakeClock(stepNow), Recorder: events.NewFakeRecorder(100), Trackers: tc.trackers}
			res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ph)})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.wantAfter(res.RequeueAfter) {
				t.Errorf("requeue after %s", res.RequeueAfter)
			}
			var got cxv1.ImprovementPhase
			if err := c.Get(context.Background(), client.ObjectKeyFromObject(ph), &got); err != nil {
				t.Fatal(err)
			}
			for typ, want := range tc.wantConds {
				s := ""
				if c := conditionOf(got.Status.Conditions, typ); c != nil {
					s = string(c.Status) + "/" + c.Reason
				}
				if s != want {
					t.Errorf("%s = %q, want %q (conditions %+v)", typ, s, want, got.Status.Conditions)
				}
			}
			if got.Status.ObservedGeneration != ph.Generation {
				t.Errorf("observedGeneration %d, want %d", got.Status.ObservedGeneration, ph.Generation)
			}
		})
	}
}
