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
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// The phase reconciler's sub-steps, each driven on its own with an
// in-memory client and a scripted tracker. The envtest tests drive them
// together against a real API server and the local GitHub.

func phaseNamed(name, journey, after string) *cxv1.ImprovementPhase {
	return &cxv1.ImprovementPhase{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Generation: 1},
		Spec:       cxv1.ImprovementPhaseSpec{JourneyRef: cxv1.JourneyReference{Name: journey}, Type: cxv1.PhaseImprove, After: after},
	}
}

func TestGateOnPreviousPhase(t *testing.T) {
	completed := phaseNamed("discovery", "shop", "")
	completed.Status.State = cxv1.PhaseCompleted
	running := phaseNamed("discovery", "shop", "")
	running.Status.State = cxv1.PhaseActive
	tests := []struct {
		name       string
		phase      *cxv1.ImprovementPhase
		others     []client.Object
		wantStop   bool
		wantReason string // Stalled reason; "" for none
		wantMsg    string
	}{
		{name: "no after: starts at once", phase: phaseNamed("improve", "shop", "")},
		{name: "after a completed phase: starts", phase: phaseNamed("improve", "shop", "discovery"), others: []client.Object{completed}},
		{name: "after a running phase: waits", phase: phaseNamed("improve", "shop", "discovery"), others: []client.Object{running},
			wantStop: true, wantMsg: "waiting for phase discovery"},
		{name: "after a phase not created yet: waits", phase: phaseNamed("improve", "shop", "discovery"),
			wantStop: true, wantMsg: "does not exist yet"},
		{name: "after itself: stalled", phase: phaseNamed("improve", "shop", "improve"),
			wantStop: true, wantReason: cxv1.ReasonDependencyCycle, wantMsg: "spec.after names the phase itself"},
		{name: "a cycle of two: stalled", phase: phaseNamed("improve", "shop", "perfection"),
			others:   []client.Object{phaseNamed("perfection", "shop", "improve")},
			wantStop: true, wantReason: cxv1.ReasonDependencyCycle, wantMsg: "improve → perfection → improve"},
		{name: "a cycle of three: stalled", phase: phaseNamed("a", "shop", "b"),
			others:   []client.Object{phaseNamed("b", "shop", "c"), phaseNamed("c", "shop", "a")},
			wantStop: true, wantReason: cxv1.ReasonDependencyCycle, wantMsg: "a → b → c → a"},
		{name: "after a phase of another journey: stalled", phase: phaseNamed("improve", "shop", "museum-discovery"),
			others:   []client.Object{phaseNamed("museum-discovery", "museum", "")},
			wantStop: true, wantReason: cxv1.ReasonInvalidAfter, wantMsg: `spec.after names phase "museum-discovery" of journey "museum"`},
		{name: "a cycle further along is that phase's to report: waits", phase: phaseNamed("x", "shop", "a"),
			others:   []client.Object{phaseNamed("a", "shop", "b"), phaseNamed("b", "shop", "a")},
			wantStop: true, wantMsg: "waiting for phase a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(append(tt.others, tt.phase)...).Build()
			r := &ImprovementPhaseReconciler{Client: c, Clock: clocktesting.NewFakeClock(time.Now())}
			run := &phaseRun{ph: tt.phase, persisted: tt.phase.DeepCopy(), gen: 1}
			res, err := r.gateOnPreviousPhase(context.Background(), run)
			if err != nil {
				t.Fatal(err)
			}
			if res.Stop != tt.wantStop {
				t.Fatalf("stop = %v, want %v", res.Stop, tt.wantStop)
			}
			summarizeReady(run.conds(), run.gen, run.ready)
			stalled := conditionOf(run.ph.Status.Conditions, cxv1.ConditionStalled)
			switch {
			case tt.wantReason == "" && stalled != nil:
				t.Errorf("Stalled %s: %s, want none", stalled.Reason, stalled.Message)
			case tt.wantReason != "" && (stalled == nil || stalled.Reason != tt.wantReason):
				t.Errorf("Stalled = %+v, want reason %s", stalled, tt.wantReason)
			}
			if tt.wantReason != "" && stalled != nil && !strings.Contains(stalled.Message, "spec.after") {
				t.Errorf("message %q does not name spec.after", stalled.Message)
			}
			if ready := conditionOf(run.ph.Status.Conditions, cxv1.ConditionReady); tt.wantMsg != "" && (ready == nil || !strings.Contains(ready.Message, tt.wantMsg)) {
				t.Errorf("Ready = %+v, want a message with %q", ready, tt.wantMsg)
			}
			if tt.wantStop && run.ph.Status.State != cxv1.PhasePending {
				t.Errorf("state %s, want Pending", run.ph.Status.State)
			}
		})
	}
}

func conditionOf(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// scriptedTracker answers EnsureIssue from a script, by call.
type scriptedTracker struct {
	tracker.Tracker
	script []error // nil: created
	calls  []string
	delay  time.Duration
}

func (s *scriptedTracker) WriteDelay(string) time.Duration { return s.delay }

func (s *scriptedTracker) Repository(context.Context) (tracker.Repository, error) {
	return tracker.Repository{ID: 1, FullName: "scripted/repo"}, nil
}

func (s *scriptedTracker) EnsureIssue(_ context.Context, req tracker.IssueRequest) (tracker.Issue, bool, error) {
	n := len(s.calls)
	s.calls = append(s.calls, req.Key)
	if n < len(s.script) && s.script[n] != nil {
		return tracker.Issue{}, false, s.script[n]
	}
	return tracker.Issue{Number: n + 1, State: "open", CreatedAt: time.Now()}, true, nil
}

// TestOpenPlannedWorkAttemptsEachItemAlone: an item's attempt is recorded
// only just before its own request; a failure leaves the items after it
// unmarked, a provably unsent request takes its attempt back, a lost answer
// keeps it for the grace, and a rate limit stops the run.
func TestOpenPlannedWorkAttemptsEachItemAlone(t *testing.T) {
	lost := errors.New("connection reset by peer")
	refused := &tracker.APIError{Reason: cxv1.ReasonValidationFailed, StatusCode: 422, Message: "invalid assignee"}
	limited := &tracker.RateLimitError{ResumeAt: time.Now().Add(time.Second), Secondary: true}
	tests := []struct {
		name          string
		script        []error
		delay         time.Duration
		wantCalls     int
		wantOpen      int
		wantAttempted []int // items still carrying an attempt
		wantErr       bool
	}{
		{name: "all open", wantCalls: 5, wantOpen: 5},
		{name: "a lost answer: that item waits for its grace, the others go on", script: []error{nil, lost}, wantCalls: 5, wantOpen: 4, wantAttempted: []int{1}, wantErr: true},
		{name: "a refusal: taken back, the others go on", script: []error{refused}, wantCalls: 5, wantOpen: 4, wantErr: true},
		{name: "two failures in a row: the rest wait unmarked", script: []error{nil, lost, lost}, wantCalls: 3, wantOpen: 1, wantAttempted: []int{1, 2}, wantErr: true},
		{name: "a rate limit: the rest wait unmarked", script: []error{nil, limited}, wantCalls: 2, wantOpen: 1, wantErr: true},
		{name: "the write budget is spent: nothing is marked or sent", delay: 3 * time.Second, wantCalls: 0, wantOpen: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ph := phaseNamed("improve", "shop", "")
			var desired []workitem.Item
			for i := range 5 {
				key := fmt.Sprintf("painpoint/p%d", i)
				desired = append(desired, workitem.Item{Key: key, Title: key})
				ph.Status.Items = append(ph.Status.Items, cxv1.PhaseItem{Key: key, Title: key, State: cxv1.ItemPlanned})
			}
			// The plan and Ready of this generation are written already.
			ph.Status.ObservedGeneration = 1
			conditions.MarkReady(&ph.Status.Conditions, 1, cxv1.ReasonTracking, "5 planned")
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ph).WithStatusSubresource(ph).Build()
			tr := &scriptedTracker{script: tt.script, delay: tt.delay}
			r := &ImprovementPhaseReconciler{Client: c, Clock: clocktesting.NewFakeClock(time.Now()), Recorder: events.NewFakeRecorder(100), CreateGrace: time.Minute}
			run := &phaseRun{ph: ph, persisted: ph.DeepCopy(), gen: 1, cj: &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, tr: tr, desired: desired, work: workByKey(desired)}
			res, err := r.openPlannedWork(context.Background(), run)
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.calls) != tt.wantCalls {
				t.Errorf("%d requests, want %d", len(tr.calls), tt.wantCalls)
			}
			open := 0
			var attempted []int
			for i, it := range run.ph.Status.Items {
				if it.State == cxv1.ItemOpen {
					open++
				}
				if it.AttemptedAt != nil {
					attempted = append(attempted, i)
				}
			}
			if open != tt.wantOpen {
				t.Errorf("%d open, want %d", open, tt.wantOpen)
			}
			if fmt.Sprint(attempted) != fmt.Sprint(tt.wantAttempted) && !(len(attempted) == 0 && len(tt.wantAttempted) == 0) {
				t.Errorf("attempts on items %v, want %v", attempted, tt.wantAttempted)
			}
			if (run.githubErr != nil) != tt.wantErr {
				t.Errorf("failure set aside: %v, want %v", run.githubErr, tt.wantErr)
			}
			if tt.delay > 0 && res.RequeueAfter != tt.delay {
				t.Errorf("requeue %s, want the budget's %s", res.RequeueAfter, tt.delay)
			}
			// What was written before each request is what the API server holds.
			var stored cxv1.ImprovementPhase
			if err := c.Get(context.Background(), client.ObjectKeyFromObject(ph), &stored); err != nil {
				t.Fatal(err)
			}
			for i, it := range stored.Status.Items {
				if i >= len(tr.calls) && it.AttemptedAt != nil {
					t.Errorf("item %d was never sent but its attempt was written", i)
				}
			}
		})
	}
}

// TestItemsToOpenHoldsLimitsAndGrace: limits and earlier attempts decide
// what opens now and when to look again.
func TestItemsToOpenHoldsLimitsAndGrace(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	at := func(ago time.Duration) *metav1.Time { t := metav1.NewTime(clk.Now().Add(-ago)); return &t }
	items := func(states ...cxv1.ItemState) []cxv1.PhaseItem {
		var out []cxv1.PhaseItem
		for i, s := range states {
			out = append(out, cxv1.PhaseItem{Key: fmt.Sprintf("k%d", i), State: s})
		}
		return out
	}
	tests := []struct {
		name     string
		items    []cxv1.PhaseItem
		limits   *cxv1.PhaseLimits
		want     []int
		wantWait time.Duration
	}{
		{name: "no limits: every planned item", items: items(cxv1.ItemOpen, cxv1.ItemPlanned, cxv1.ItemPlanned), want: []int{1, 2}},
		{name: "maxOpenIssues counts open ones", items: items(cxv1.ItemOpen, cxv1.ItemPlanned, cxv1.ItemPlanned),
			limits: &cxv1.PhaseLimits{MaxOpenIssues: 2}, want: []int{1}},
		{name: "an attempt in its grace holds its place", items: func() []cxv1.PhaseItem {
			its := items(cxv1.ItemPlanned, cxv1.ItemPlanned)
			its[0].AttemptedAt = at(20 * time.Second)
			return its
		}(), limits: &cxv1.PhaseLimits{MaxOpenIssues: 1}, want: nil, wantWait: 40 * time.Second},
		{name: "an attempt past its grace goes again", items: func() []cxv1.PhaseItem {
			its := items(cxv1.ItemPlanned)
			its[0].AttemptedAt = at(2 * time.Minute)
			return its
		}(), want: []int{0}},
		{name: "maxIssuesPerHour waits for the oldest to leave the hour", items: func() []cxv1.PhaseItem {
			its := items(cxv1.ItemOpen, cxv1.ItemPlanned)
			its[0].OpenedAt = at(45 * time.Minute)
			return its
		}(), limits: &cxv1.PhaseLimits{MaxIssuesPerHour: 1}, want: nil, wantWait: 15 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ph := phaseNamed("improve", "shop", "")
			ph.Spec.Limits = tt.limits
			ph.Status.Items = tt.items
			var desired []workitem.Item
			for _, it := range tt.items {
				desired = append(desired, workitem.Item{Key: it.Key})
			}
			r := &ImprovementPhaseReconciler{Clock: clk, CreateGrace: time.Minute}
			got, wait := r.itemsToOpen(ph, workByKey(desired))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("to open %v, want %v", got, tt.want)
			}
			if wait != tt.wantWait {
				t.Errorf("look again in %s, want %s", wait, tt.wantWait)
			}
		})
	}
}

// TestGitHubFailuresBackOffWithinTheSyncInterval: failures back off
// exponentially, never past the phase's sync interval; a run that made
// progress comes back soon; a rate limit waits exactly until it ends.
func TestGitHubFailuresBackOffWithinTheSyncInterval(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	r := &ImprovementPhaseReconciler{Clock: clk, Recorder: events.NewFakeRecorder(1000)}
	ph := phaseNamed("improve", "shop", "")
	ph.Spec.SyncInterval = &metav1.Duration{Duration: 20 * time.Second}
	down := &githubError{op: "listing issues", err: &tracker.APIError{Reason: cxv1.ReasonServerError, StatusCode: 502, Message: "Server Error"}}
	var waits []time.Duration
	for range 8 {
		run := &phaseRun{ph: ph, gen: 1}
		res, err := r.githubFailed(run, steps.Result{}, down)
		if err != nil {
			t.Fatal(err)
		}
		summarizeReady(run.conds(), run.gen, run.ready)
		waits = append(waits, res.RequeueAfter)
		if !conditions.IsTrue(ph.Status.Conditions, cxv1.ConditionReconciling) {
			t.Fatal("a failure is not Reconciling")
		}
	}
	for i, w := range waits {
		if w > 20*time.Second {
			t.Errorf("retry %d after %s, past the sync interval", i, w)
		}
		if i > 0 && w < waits[i-1] && waits[i-1] < 20*time.Second {
			t.Errorf("retries shrink: %v", waits)
		}
	}
	if waits[0] > 2*time.Second || waits[len(waits)-1] != 20*time.Second {
		t.Errorf("backoff %v: want from about a second up to the 20s sync interval", waits)
	}
	progressed := &phaseRun{ph: ph, gen: 1, progressed: true}
	if res, _ := r.githubFailed(progressed, steps.Result{}, down); res.RequeueAfter != firstRetry {
		t.Errorf("after progress: retry in %s, want %s", res.RequeueAfter, firstRetry)
	}
	limited := &tracker.RateLimitError{ResumeAt: clk.Now().Add(7 * time.Second), Secondary: true}
	if res, _ := r.githubFailed(&phaseRun{ph: ph, gen: 1}, steps.Result{}, &githubError{op: "opening issues", err: limited}); res.RequeueAfter != 7*time.Second {
		t.Errorf("rate limited: retry in %s, want when it ends (7s)", res.RequeueAfter)
	}
}

// TestWaitingForTheBudgetWritesNothingNew: a phase held back by the write
// budget says so in a condition that stays the same from one sync to the
// next while it only waits (its words stay true as the wait shrinks), so
// that hundreds of waiting phases do not write their status at every sync.
func TestWaitingForTheBudgetWritesNothingNew(t *testing.T) {
	var waitingSince *metav1.Condition // the condition as last written, if any
	message := func(delay time.Duration) string {
		ph := phaseNamed("improve", "shop", "")
		desired := []workitem.Item{{Key: "painpoint/p0", Title: "p0"}}
		ph.Status.Items = []cxv1.PhaseItem{{Key: "painpoint/p0", Title: "p0", State: cxv1.ItemPlanned}}
		ph.Status.ObservedGeneration = 1
		conditions.MarkReady(&ph.Status.Conditions, 1, cxv1.ReasonTracking, "1 planned")
		if waitingSince != nil {
			conditions.Set(&ph.Status.Conditions, 1, cxv1.ConditionTrackerReady, metav1.ConditionTrue, cxv1.ReasonConnected, trackerConnectedMessage)
			ph.Status.Conditions = append(ph.Status.Conditions, *waitingSince)
		}
		c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ph).WithStatusSubresource(ph).Build()
		r := &ImprovementPhaseReconciler{Client: c, Clock: clocktesting.NewFakeClock(time.Now()), Recorder: events.NewFakeRecorder(100)}
		run := &phaseRun{ph: ph, persisted: ph.DeepCopy(), gen: 1, cj: &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
			tr: &scriptedTracker{delay: delay}, desired: desired, work: workByKey(desired)}
		res, err := r.openPlannedWork(context.Background(), run)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.checkExitCriteria(context.Background(), run); err != nil {
			t.Fatal(err)
		}
		if res.RequeueAfter != delay {
			t.Errorf("requeued in %s, want %s: when the budget allows", res.RequeueAfter, delay)
		}
		c0 := conditionOf(ph.Status.Conditions, cxv1.ConditionRateLimited)
		if c0 == nil || c0.Reason != cxv1.ReasonWriteBudget {
			t.Fatalf("RateLimited = %+v, want %s", c0, cxv1.ReasonWriteBudget)
		}
		if waitingSince != nil && !c0.LastTransitionTime.Equal(&waitingSince.LastTransitionTime) {
			t.Errorf("RateLimited's lastTransitionTime moved from %s to %s while the phase went on waiting", waitingSince.LastTransitionTime, c0.LastTransitionTime)
		}
		return c0.Message
	}
	first, later := message(23*time.Second), message(41*time.Second)
	if first != later {
		t.Errorf("the condition changed while the wait stayed under a minute:\n%s\n%s", first, later)
	}
	if longer := message(3 * time.Minute); longer == first {
		t.Errorf("a wait of minutes reads as one under a minute: %s", longer)
	}
	// Written waiting 3 minutes: the wait shrinking under a minute keeps
	// the words, which still hold; a wait longer than they say does not.
	waitingSince = &metav1.Condition{Type: cxv1.ConditionRateLimited, Status: metav1.ConditionTrue, Reason: cxv1.ReasonWriteBudget, ObservedGeneration: 1,
		Message: message(3 * time.Minute), LastTransitionTime: metav1.NewTime(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))}
	if shrunk := message(20 * time.Second); shrunk != waitingSince.Message {
		t.Errorf("the wait shrank and the condition changed:\n%s\n%s", waitingSince.Message, shrunk)
	}
	if grown := message(10 * time.Minute); grown == waitingSince.Message {
		t.Errorf("a wait of 10 minutes kept words that said 5: %s", grown)
	}
}

// TestPlanGoesOutBeforeIssues: a phase whose status says only that its
// journey was missing (it was first seen before the journey existed)
// writes its plan and Ready before it opens any issue; one whose Ready=False
// says a GitHub failure was set aside has its plan written, and goes on
// opening issues rather than going round without doing so.
func TestPlanGoesOutBeforeIssues(t *testing.T) {
	for _, tc := range []struct {
		reason    string
		wantCalls int
	}{
		{cxv1.ReasonJourneyNotFound, 0},
		{"ServerError", 1},
	} {
		ph := phaseNamed("discovery", "shop", "")
		desired := []workitem.Item{{Key: "gap/a", Title: "a"}}
		ph.Status.Items = []cxv1.PhaseItem{{Key: "gap/a", Title: "a", State: cxv1.ItemPlanned}}
		ph.Status.ObservedGeneration = 1
		conditions.MarkReconciling(&ph.Status.Conditions, 1, tc.reason, "as it was")
		c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ph).WithStatusSubresource(ph).Build()
		tr := &scriptedTracker{}
		r := &ImprovementPhaseReconciler{Client: c, Clock: clocktesting.NewFakeClock(time.Now()), Recorder: events.NewFakeRecorder(100)}
		run := &phaseRun{ph: ph, persisted: ph.DeepCopy(), gen: 1, cj: &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, tr: tr, desired: desired, work: workByKey(desired)}
		res, err := r.openPlannedWork(context.Background(), run)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.calls) != tc.wantCalls {
			t.Errorf("Ready=False/%s: %d requests sent, want %d", tc.reason, len(tr.calls), tc.wantCalls)
		}
		if tc.wantCalls == 0 && res.RequeueAfter != time.Millisecond {
			t.Errorf("Ready=False/%s: requeue %s, want a prompt one once the plan is out", tc.reason, res.RequeueAfter)
		}
	}
}

// turnTracker is a write budget of one write, as the tracker's works: a
// WriteDelay of 0 holds the write for its caller a moment; WaitsForBudget
// only looks.
type turnTracker struct {
	scriptedTracker
	granted string
}

func (t *turnTracker) WriteDelay(waiter string) time.Duration {
	if t.granted == "" || t.granted == waiter {
		t.granted = waiter
		return 0
	}
	return time.Second
}

func (t *turnTracker) WaitsForBudget(waiter string) bool {
	return t.granted != "" && t.granted != waiter
}

// TestAPhaseWritingItsPlanKeepsTheBudgetsTurn: a phase that finds the
// budget free when it writes its plan keeps the write for its first issue;
// another phase asking meanwhile waits. Had it only looked, the other
// would take the write, and the phase would write its status once more
// just to say it waits.
func TestAPhaseWritingItsPlanKeepsTheBudgetsTurn(t *testing.T) {
	ph := phaseNamed("improve", "shop", "")
	desired := []workitem.Item{{Key: "painpoint/p0", Title: "p0"}}
	ph.Status.Items = []cxv1.PhaseItem{{Key: "painpoint/p0", Title: "p0", State: cxv1.ItemPlanned}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ph).WithStatusSubresource(ph).Build()
	r := &ImprovementPhaseReconciler{Client: c, Clock: clocktesting.NewFakeClock(time.Now()), Recorder: events.NewFakeRecorder(100), CreateGrace: time.Minute}
	tr := &turnTracker{}
	run := &phaseRun{ph: ph, persisted: ph.DeepCopy(), gen: 1, cj: &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, tr: tr, desired: desired, work: workByKey(desired)}

	// The plan's reconcile: nothing is sent, the phase comes straight back.
	res, err := r.openPlannedWork(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.calls) != 0 || run.budgetWait != 0 || res.RequeueAfter != time.Millisecond {
		t.Fatalf("plan reconcile: %d requests, budget wait %s, requeue %s; want none, none, 1ms", len(tr.calls), run.budgetWait, res.RequeueAfter)
	}
	if d := tr.WriteDelay("phase/default/another"); d == 0 {
		t.Fatal("another phase took the write while this one's plan was being written")
	}

	// The plan is written; the next reconcile sends the issue at once.
	ph.Status.ObservedGeneration = 1
	conditions.MarkReady(&ph.Status.Conditions, 1, cxv1.ReasonTracking, "1 planned")
	if err := c.Status().Update(context.Background(), ph); err != nil {
		t.Fatal(err)
	}
	run = &phaseRun{ph: ph, persisted: ph.DeepCopy(), gen: 1, cj: run.cj, tr: tr, desired: desired, work: run.work}
	if _, err := r.openPlannedWork(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if len(tr.calls) != 1 || run.budgetWait != 0 || run.ph.Status.Items[0].State != cxv1.ItemOpen {
		t.Errorf("after the plan: %d requests, budget wait %s, item %s; want the issue opened without waiting", len(tr.calls), run.budgetWait, run.ph.Status.Items[0].State)
	}
}

// peekingTracker reads the phase as the API server holds it when the
// issue's request goes out: what the attempt's write carried.
type peekingTracker struct {
	scriptedTracker
	c      client.Client
	parent []*cxv1.PhaseParent
}

func (p *peekingTracker) EnsureIssue(ctx context.Context, req tracker.IssueRequest) (tracker.Issue, bool, error) {
	var ph cxv1.ImprovementPhase
	if err := p.c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "improve"}, &ph); err != nil {
		return tracker.Issue{}, false, err
	}
	p.parent = append(p.parent, ph.Status.Parent)
	return p.scriptedTracker.EnsureIssue(ctx, req)
}

// TestOpeningWorkOwesThePhaseItsParent: with parent issues asked for, the
// write that records a phase's first attempt also records its parent as
// owed (Pending), so that a phase whose work is done before the parent's
// turn still gets it; without, no parent is recorded.
func TestOpeningWorkOwesThePhaseItsParent(t *testing.T) {
	for _, parents := range []bool{true, false} {
		ph := phaseNamed("improve", "shop", "")
		ph.Namespace = "ns"
		desired := []workitem.Item{{Key: "painpoint/p0", Title: "p0"}, {Key: "painpoint/p1", Title: "p1"}}
		ph.Status.Items = []cxv1.PhaseItem{{Key: "painpoint/p0", Title: "p0", State: cxv1.ItemPlanned}, {Key: "painpoint/p1", Title: "p1", State: cxv1.ItemPlanned}}
		ph.Status.ObservedGeneration = 1
		conditions.MarkReady(&ph.Status.Conditions, 1, cxv1.ReasonTracking, "2 planned")
		c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ph).WithStatusSubresource(ph).Build()
		tr := &peekingTracker{c: c}
		r := &ImprovementPhaseReconciler{Client: c, Clock: clocktesting.NewFakeClock(time.Now()), Recorder: events.NewFakeRecorder(100), CreateGrace: time.Minute}
		cj := shopWithParents(parents)
		run := &phaseRun{ph: ph, persisted: ph.DeepCopy(), gen: 1, cj: cj, tr: tr, desired: desired, work: workByKey(desired)}
		if _, err := r.openPlannedWork(context.Background(), run); err != nil {
			t.Fatal(err)
		}
		if len(tr.parent) != 2 {
			t.Fatalf("parents %v: %d issues sent, want 2", parents, len(tr.parent))
		}
		first := tr.parent[0]
		if parents && (first == nil || first.State != cxv1.ParentIssuePending || first.Issue != 0) {
			t.Errorf("the first attempt's write recorded parent %+v; want it owed (Pending)", first)
		}
		if !parents && (first != nil || run.ph.Status.Parent != nil) {
			t.Errorf("no parent issues asked for, yet parent %+v recorded", first)
		}
	}
}

// TestOnlyIssueFailuresHoldCompletion: a failure set aside of the board
// or the parent's links (followUp) holds back no completion; one of the
// phase's issues does, whichever came first, and is the failure the run
// reports.
func TestOnlyIssueFailuresHoldCompletion(t *testing.T) {
	down := &tracker.APIError{Reason: cxv1.ReasonServerError, StatusCode: 502, Message: "Server Error"}
	board := &githubError{op: "keeping the board", err: down, followUp: true}
	listing := &githubError{op: "listing issues", err: down}
	limited := &githubError{op: "keeping the board", err: &tracker.RateLimitError{}, followUp: true}
	for _, tc := range []struct {
		name   string
		errs   []error
		holds  bool
		reason error
	}{
		{"the board failing", []error{board}, false, board},
		{"the issues failing", []error{listing}, true, listing},
		{"the board, then the issues", []error{board, listing}, true, listing},
		{"the issues, then the board", []error{listing, board}, true, listing},
		{"the issues twice", []error{listing, down}, true, listing},
		{"the board rate limited, then the issues", []error{limited, listing}, true, limited},
		{"an untyped failure", []error{down}, true, down},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := &phaseRun{}
			for _, err := range tc.errs {
				run.setAside(err)
			}
			if run.issuesFailed != tc.holds || run.githubErr != tc.reason {
				t.Errorf("issuesFailed %v, githubErr %v; want %v, %v", run.issuesFailed, run.githubErr, tc.holds, tc.reason)
			}
		})
	}
}
