package controllers

import (
	"context"
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/conditions"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// attemptWatcher is a tracker that answers creates from a script and
// notes, at each create, whether the object's attempt was already on the
// API server.
type attemptWatcher struct {
	tracker.Tracker
	script   []error // nil: created
	delay    time.Duration
	reqs     []tracker.IssueRequest
	recorded []bool
	stored   func() bool
}

func (a *attemptWatcher) WriteDelay(string) time.Duration { return a.delay }

func (a *attemptWatcher) EnsureIssue(_ context.Context, req tracker.IssueRequest) (tracker.Issue, bool, error) {
	n := len(a.reqs)
	a.reqs = append(a.reqs, req)
	a.recorded = append(a.recorded, a.stored())
	if n < len(a.script) && a.script[n] != nil {
		return tracker.Issue{}, false, a.script[n]
	}
	return tracker.Issue{Number: 40 + n, Key: req.Key, State: "open"}, true, nil
}

// TestOpenPlannedWorkSupersededSendsNothing: an attempt written from a
// phase that moved on since it was read (another leader, another writer)
// is refused; the run sends nothing, writes nothing more and looks again
// soon.
func TestOpenPlannedWorkSupersededSendsNothing(t *testing.T) {
	ctx := context.Background()
	ph := phaseNamed("improve", "shop", "")
	ph.Status.Items = []cxv1.PhaseItem{{Key: "painpoint/p0", Title: "p0", State: cxv1.ItemPlanned}}
	ph.Status.ObservedGeneration = 1
	conditions.MarkReady(&ph.Status.Conditions, 1, cxv1.ReasonTracking, "1 planned")
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ph).WithStatusSubresource(ph).Build()
	var read cxv1.ImprovementPhase
	if err := c.Get(ctx, client.ObjectKeyFromObject(ph), &read); err != nil {
		t.Fatal(err)
	}
	// Another writer moves the phase on after this run read it.
	theirs := read.DeepCopy()
	conditions.MarkReady(&theirs.Status.Conditions, 1, "Theirs", "the new leader")
	if err := c.Status().Update(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	tr := &attemptWatcher{stored: func() bool { return false }}
	r := &ImprovementPhaseReconciler{Client: c, Clock: clocktesting.NewFakeClock(time.Now()), Recorder: events.NewFakeRecorder(10), CreateGrace: time.Minute}
	desired := []workitem.Item{{Key: "painpoint/p0", Title: "p0"}}
	run := &phaseRun{ph: read.DeepCopy(), persisted: read.DeepCopy(), gen: 1, cj: &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, tr: tr, desired: desired, work: workByKey(desired)}
	res, err := r.openPlannedWork(ctx, run)
	if err != nil || !res.Stop {
		t.Fatalf("result %+v err %v, want a stop without error", res, err)
	}
	if !run.superseded || res.RequeueAfter != supersededRetry {
		t.Errorf("superseded %v requeue %v, want true and %v", run.superseded, res.RequeueAfter, supersededRetry)
	}
	if len(tr.reqs) != 0 {
		t.Errorf("%d creates sent from a stale phase", len(tr.reqs))
	}
	var stored cxv1.ImprovementPhase
	if err := c.Get(ctx, client.ObjectKeyFromObject(ph), &stored); err != nil {
		t.Fatal(err)
	}
	if ready := conditionOf(stored.Status.Conditions, cxv1.ConditionReady); stored.Status.Items[0].AttemptedAt != nil || ready == nil || ready.Reason != "Theirs" {
		t.Errorf("stored: attempt %v Ready %+v: the other writer's status must stand", stored.Status.Items[0].AttemptedAt, ready)
	}
	if run.ph.Status.Items[0].AttemptedAt != nil {
		t.Error("the refused attempt is still held in memory")
	}
}

// TestEnsureJourneyIssue: a journey's own issue (a review, the dashboard)
// through the exactly-once module: the attempt is on the API server before
// the create; settled when seen; waited for within its grace; sent again,
// saying so, after it.
func TestEnsureJourneyIssue(t *testing.T) {
	const key = "ns/shop/review/2026-03-29"
	nowT := time.Date(2026, 3, 29, 9, 0, 0, 0, time.UTC)
	lost := errors.New("connection reset by peer")
	refused := &tracker.APIError{Reason: cxv1.ReasonValidationFailed, StatusCode: 422, Message: "invalid assignee"}
	tests := []struct {
		name         string
		attemptAgo   time.Duration // 0: no attempt
		seen         bool
		script       []error
		delay        time.Duration
		stale        bool // the journey moved on since this run read it
		wantWait     time.Duration
		wantErr      bool
		wantSent     bool
		wantAttemptd bool // the request said an earlier attempt may have landed
		wantHeld     bool // the attempt is still in the status (in memory)
		wantStored   bool // the attempt is on the API server afterwards
	}{
		{name: "no attempt: recorded, created, settled", wantSent: true, wantStored: true},
		{name: "seen in the index: settled, nothing sent", attemptAgo: 10 * time.Second, seen: true},
		{name: "attempt within its grace: wait for it", attemptAgo: 20 * time.Second, wantWait: 40 * time.Second, wantHeld: true},
		{name: "attempt timed out: sent again, saying so", attemptAgo: 2 * time.Minute, wantSent: true, wantAttemptd: true, wantStored: true},
		{name: "the write budget is spent: nothing recorded or sent", delay: 3 * time.Second, wantWait: 3 * time.Second},
		{name: "a lost answer: the attempt holds the issue", script: []error{lost}, wantErr: true, wantSent: true, wantHeld: true, wantStored: true},
		{name: "a refusal: taken back at once", script: []error{refused}, wantErr: true, wantSent: true, wantStored: true},
		{name: "superseded: nothing sent, look again soon", stale: true, wantWait: supersededRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			cj := &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop", Generation: 1}}
			if tt.attemptAgo > 0 {
				cj.Status.IssueAttempts = []cxv1.IssueAttempt{{Key: key, At: metav1.NewTime(nowT.Add(-tt.attemptAgo))}}
			}
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(cj).WithStatusSubresource(cj).Build()
			var read cxv1.CustomerJourney
			if err := c.Get(ctx, client.ObjectKeyFromObject(cj), &read); err != nil {
				t.Fatal(err)
			}
			if tt.stale {
				theirs := read.DeepCopy()
				conditions.MarkReady(&theirs.Status.Conditions, 1, "Theirs", "the new leader")
				if err := c.Status().Update(ctx, theirs); err != nil {
					t.Fatal(err)
				}
			}
			storedAttempt := func() bool {
				var s cxv1.CustomerJourney
				if err := c.Get(ctx, client.ObjectKeyFromObject(cj), &s); err != nil {
					t.Fatal(err)
				}
				return attemptOf(&s.Status, key) != nil
			}
			tr := &attemptWatcher{script: tt.script, delay: tt.delay, stored: storedAttempt}
			issues := map[string]tracker.Issue{}
			if tt.seen {
				issues[key] = tracker.Issue{Number: 7, Key: key, State: "open"}
			}
			r := &CustomerJourneyReconciler{Client: c, Clock: clocktesting.NewFakeClock(nowT), CreateGrace: time.Minute}
			run := &journeyRun{cj: read.DeepCopy(), persisted: read.DeepCopy(), tr: tr, issues: issues}
			is, wait, err := r.ensureJourneyIssue(ctx, run, tracker.IssueRequest{Key: key, Title: "Review"})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if wait != tt.wantWait {
				t.Errorf("wait = %v, want %v", wait, tt.wantWait)
			}
			if sent := len(tr.reqs) > 0; sent != tt.wantSent {
				t.Fatalf("sent = %v, want %v", sent, tt.wantSent)
			}
			if tt.wantSent {
				if !tr.recorded[0] {
					t.Error("the create went out before its attempt was on the API server")
				}
				if tr.reqs[0].Attempted != tt.wantAttemptd {
					t.Errorf("Attempted = %v, want %v", tr.reqs[0].Attempted, tt.wantAttemptd)
				}
			}
			if !tt.wantErr && tt.wantWait == 0 {
				if is.Number == 0 || run.issues[key].Number != is.Number {
					t.Errorf("issue %+v, index %+v: the issue opened or found is returned and indexed", is, run.issues[key])
				}
			}
			if held := attemptOf(&run.cj.Status, key) != nil; held != tt.wantHeld {
				t.Errorf("attempt held = %v, want %v", held, tt.wantHeld)
			}
			if stored := storedAttempt(); stored != (tt.wantStored || (tt.attemptAgo > 0 && !tt.stale)) {
				t.Errorf("attempt on the API server = %v", stored)
			}
		})
	}
}

// TestSettleAttempts: a journey forgets the attempts whose issue GitHub
// shows, and those older than ten graces; it keeps the rest.
func TestSettleAttempts(t *testing.T) {
	nowT := time.Date(2026, 3, 29, 9, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) metav1.Time { return metav1.NewTime(nowT.Add(-ago)) }
	tests := []struct {
		name     string
		attempts []cxv1.IssueAttempt
		seen     []string
		want     []string
	}{
		{name: "none"},
		{name: "seen: settled", attempts: []cxv1.IssueAttempt{{Key: "a", At: at(time.Second)}}, seen: []string{"a"}},
		{name: "within its grace: kept", attempts: []cxv1.IssueAttempt{{Key: "a", At: at(time.Second)}}, want: []string{"a"}},
		{name: "timed out but not stale: kept", attempts: []cxv1.IssueAttempt{{Key: "a", At: at(5 * time.Minute)}}, want: []string{"a"}},
		{name: "older than ten graces: forgotten", attempts: []cxv1.IssueAttempt{{Key: "a", At: at(11 * time.Minute)}}},
		{name: "mixed", attempts: []cxv1.IssueAttempt{{Key: "a", At: at(time.Second)}, {Key: "b", At: at(time.Second)}, {Key: "c", At: at(time.Hour)}, {Key: "d", At: at(2 * time.Minute)}},
			seen: []string{"b"}, want: []string{"a", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cj := &cxv1.CustomerJourney{Status: cxv1.CustomerJourneyStatus{IssueAttempts: tt.attempts}}
			issues := map[string]tracker.Issue{}
			for _, k := range tt.seen {
				issues[k] = tracker.Issue{Key: k}
			}
			r := &CustomerJourneyReconciler{Clock: clocktesting.NewFakeClock(nowT), CreateGrace: time.Minute}
			r.settleAttempts(&journeyRun{cj: cj, issues: issues})
			var got []string
			for _, a := range cj.Status.IssueAttempts {
				got = append(got, a.Key)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("kept %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("kept %v, want %v", got, tt.want)
				}
			}
		})
	}
}
