package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/metricsource"
	"github.com/cxloop/cxloop/internal/steps"
	"github.com/cxloop/cxloop/internal/tracker"
)

// fakeSource answers Mean from a table by window start; Query is unused here.
type fakeSource struct {
	means map[time.Time]float64
	err   error
	calls int
}

func (f *fakeSource) Query(context.Context, string, string, time.Time) (float64, error) {
	return 0, f.err
}

func (f *fakeSource) Mean(_ context.Context, _, _ string, start, _ time.Time) (float64, error) {
	f.calls++
	if f.err != nil {
		return 0, f.err
	}
	v, ok := f.means[start]
	if !ok {
		return 0, &metricsource.Error{Kind: metricsource.NoData, Message: "no data from " + start.String()}
	}
	return v, nil
}

// commentTracker records comments; the phase step uses nothing else.
type commentTracker struct {
	tracker.Tracker
	comments map[int][]string
	err      error
}

func (c *commentTracker) CommentOnce(_ context.Context, n int, key, text string) error {
	if c.err != nil {
		return c.err
	}
	for _, had := range c.comments[n] {
		if strings.Contains(had, tracker.CommentMarker(key)) {
			return nil
		}
	}
	c.comments[n] = append(c.comments[n], text+"\n\n"+tracker.CommentMarker(key))
	return nil
}

func measuredJourney() *cxv1.CustomerJourney {
	return &cxv1.CustomerJourney{Spec: cxv1.CustomerJourneySpec{Stages: []cxv1.Stage{{Name: "planning", Touchpoints: []cxv1.Touchpoint{
		{Name: "phone-reservation", Measures: []cxv1.Measure{{Name: "csat", Query: "avg(csat)", Target: "4", Direction: cxv1.HigherIsBetter}},
			PainPoints: []cxv1.PainPoint{
				{ID: "phone-queue", Measures: []cxv1.Measure{{Name: "wait-seconds", Query: "max(wait)", Target: "120", Direction: cxv1.LowerIsBetter, TolerancePercent: ptr.To[int32](10)}}},
				{ID: "no-callback"},
			}},
		{Name: "brochure"},
	}}}}}
}

func TestMeasureFor(t *testing.T) {
	cj := measuredJourney()
	for _, tt := range []struct {
		src  cxv1.ItemSource
		want string
	}{
		{cxv1.ItemSource{Stage: "planning", Touchpoint: "phone-reservation", PainPoint: "phone-queue"}, "wait-seconds"},
		{cxv1.ItemSource{Stage: "planning", Touchpoint: "phone-reservation", PainPoint: "no-callback"}, "csat"},
		{cxv1.ItemSource{Stage: "planning", Touchpoint: "phone-reservation"}, "csat"},
		{cxv1.ItemSource{Stage: "planning", Touchpoint: "brochure"}, ""},
		{cxv1.ItemSource{Stage: "elsewhere", Touchpoint: "phone-reservation"}, ""},
		{cxv1.ItemSource{Kind: "Gap", Stage: "planning"}, ""},
		{cxv1.ItemSource{Kind: "Gap", Stage: "planning", Touchpoint: "phone-reservation"}, ""},
		{cxv1.ItemSource{Kind: "Personalization", Stage: "planning", Touchpoint: "phone-reservation", Persona: "family"}, "csat"},
	} {
		m, ok := measureFor(cj, tt.src)
		if ok != (tt.want != "") || m.Name != tt.want {
			t.Errorf("measureFor(%+v) = %q, %v; want %q", tt.src, m.Name, ok, tt.want)
		}
	}
}

func TestVerifyOutcomes(t *testing.T) {
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	opened := now.Add(-21 * 24 * time.Hour)
	closed := now.Add(-14 * 24 * time.Hour)
	settle := 7 * 24 * time.Hour
	baselineStart, afterStart := opened.Add(-settle), closed
	item := func(pp string) cxv1.PhaseItem {
		o, c := metav1.NewTime(opened), metav1.NewTime(closed)
		return cxv1.PhaseItem{Key: "painpoint/" + pp, State: cxv1.ItemClosed, Issue: 7, OpenedAt: &o, ClosedAt: &c,
			Source: cxv1.ItemSource{Kind: "PainPoint", Stage: "planning", Touchpoint: "phone-reservation", PainPoint: pp}}
	}
	tests := []struct {
		name        string
		item        cxv1.PhaseItem
		at          time.Time
		src         *fakeSource
		want        cxv1.Verdict
		baseline    string
		after       string
		comment     string
		condition   string
		conditionOK bool
	}{
		{"improved: the wait fell below the tolerance", item("phone-queue"), now, &fakeSource{means: map[time.Time]float64{baselineStart: 300, afterStart: 90}},
			cxv1.VerdictImproved, "300", "90", "Verified: improved", cxv1.ReasonOutcomesRead, true},
		{"unchanged within the measure's 10%", item("phone-queue"), now, &fakeSource{means: map[time.Time]float64{baselineStart: 300, afterStart: 280}},
			cxv1.VerdictUnchanged, "300", "280", "Verified: unchanged", cxv1.ReasonOutcomesRead, true},
		{"worse", item("no-callback"), now, &fakeSource{means: map[time.Time]float64{baselineStart: 4.1, afterStart: 3.2}},
			cxv1.VerdictWorse, "4.1", "3.2", "Verified: worse", cxv1.ReasonOutcomesRead, true},
		{"no baseline", item("no-callback"), now, &fakeSource{means: map[time.Time]float64{afterStart: 3.2}},
			cxv1.VerdictNoData, "", "", "no data", cxv1.ReasonOutcomesRead, true},
		{"settle window not over: pending, nothing read", item("phone-queue"), closed.Add(3 * 24 * time.Hour), &fakeSource{},
			cxv1.VerdictPending, "", "", "", cxv1.ReasonOutcomesRead, true},
		{"Prometheus down: pending, condition says so", item("phone-queue"), now, &fakeSource{err: &metricsource.Error{Kind: metricsource.Unavailable, Message: "Prometheus at http://x cannot be reached"}},
			cxv1.VerdictPending, "", "", "", cxv1.ReasonPrometheusUnavailable, false},
		{"several series: pending, the query is named", item("phone-queue"), now, &fakeSource{err: &metricsource.Error{Kind: metricsource.MultipleSeries, Message: "the query returns 2 series"}},
			cxv1.VerdictPending, "", "", "", cxv1.ReasonMultipleSeries, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &ImprovementPhaseReconciler{Recorder: events.NewFakeRecorder(10), Clock: clocktesting.NewFakePassiveClock(tt.at), Metrics: tt.src}
			ph := &cxv1.ImprovementPhase{Status: cxv1.ImprovementPhaseStatus{Items: []cxv1.PhaseItem{tt.item}}}
			tr := &commentTracker{comments: map[int][]string{}}
			run := &phaseRun{ph: ph, cj: measuredJourney(), tr: tr}
			res, err := r.verifyOutcomes(context.Background(), run)
			if res.Stop || err != nil {
				t.Fatalf("result %v, err %v", res, err)
			}
			o := ph.Status.Items[0].Outcome
			if o == nil || o.Verdict != tt.want || o.Baseline != tt.baseline || o.After != tt.after {
				t.Fatalf("outcome %+v, want %s %s→%s", o, tt.want, tt.baseline, tt.after)
			}
			if !o.VerifyAt.Time.Equal(closed.Add(settle)) {
				t.Errorf("verifyAt %v", o.VerifyAt)
			}
			if tt.comment == "" {
				if len(tr.comments[7]) != 0 || ptr.Deref(o.Commented, false) {
					t.Errorf("commented while pending: %v", tr.comments)
				}
			} else if len(tr.comments[7]) != 1 || !strings.Contains(tr.comments[7][0], tt.comment) || !ptr.Deref(o.Commented, false) {
				t.Errorf("comments %q, want one with %q", tr.comments[7], tt.comment)
			}
			c := findCondition(ph.Status.Conditions, cxv1.ConditionMeasuresReady)
			if c == nil || c.Reason != tt.condition || (c.Status == metav1.ConditionTrue) != tt.conditionOK {
				t.Errorf("MeasuresReady %+v, want %s", c, tt.condition)
			}
			if tt.want == cxv1.VerdictPending && tt.at.Before(closed.Add(settle)) && res.RequeueAfter != closed.Add(settle).Sub(tt.at) {
				t.Errorf("requeue %s, want the end of the settle window", res.RequeueAfter)
			}

			// A second run reads nothing more and comments no more.
			calls := tt.src.calls
			if _, err := r.verifyOutcomes(context.Background(), run); err != nil {
				t.Fatal(err)
			}
			if tt.want != cxv1.VerdictPending && (tt.src.calls != calls || len(tr.comments[7]) != 1) {
				t.Errorf("a verdict was read or written again: %d calls, %d comments", tt.src.calls-calls, len(tr.comments[7]))
			}
		})
	}
}

func TestVerifyOutcomesCommentRetriedAndReopenResets(t *testing.T) {
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	opened, closed := now.Add(-21*24*time.Hour), now.Add(-14*24*time.Hour)
	o, c := metav1.NewTime(opened), metav1.NewTime(closed)
	ph := &cxv1.ImprovementPhase{Status: cxv1.ImprovementPhaseStatus{Items: []cxv1.PhaseItem{{Key: "k", State: cxv1.ItemClosed, Issue: 3, OpenedAt: &o, ClosedAt: &c,
		Source: cxv1.ItemSource{Stage: "planning", Touchpoint: "phone-reservation"}}}}}
	src := &fakeSource{means: map[time.Time]float64{opened.Add(-7 * 24 * time.Hour): 3, closed: 4.4}}
	tr := &commentTracker{comments: map[int][]string{}, err: &tracker.APIError{Reason: "ServerError", StatusCode: 502}}
	r := &ImprovementPhaseReconciler{Recorder: events.NewFakeRecorder(10), Clock: clocktesting.NewFakePassiveClock(now), Metrics: src}
	run := &phaseRun{ph: ph, cj: measuredJourney(), tr: tr}
	if _, err := r.verifyOutcomes(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	it := &ph.Status.Items[0]
	if it.Outcome.Verdict != cxv1.VerdictImproved || ptr.Deref(it.Outcome.Commented, false) || run.githubErr == nil {
		t.Fatalf("after a failed comment: %+v, githubErr %v", it.Outcome, run.githubErr)
	}
	if run.issuesFailed {
		t.Error("a failed outcome comment holds back completion; a completed phase comments on (verifyLateOutcomes)")
	}
	tr.err = nil
	run = &phaseRun{ph: ph, cj: measuredJourney(), tr: tr}
	if _, err := r.verifyOutcomes(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if !ptr.Deref(it.Outcome.Commented, false) || len(tr.comments[3]) != 1 {
		t.Fatalf("comment not retried: %+v %v", it.Outcome, tr.comments)
	}
	// cxloop stopped after commenting, before its status said so: the
	// next run asks for the same comment, which GitHub already has.
	it.Outcome.Commented = nil
	if _, err := r.verifyOutcomes(context.Background(), &phaseRun{ph: ph, cj: measuredJourney(), tr: tr}); err != nil {
		t.Fatal(err)
	}
	if !ptr.Deref(it.Outcome.Commented, false) || len(tr.comments[3]) != 1 {
		t.Fatalf("after a restart between comment and status: %+v, comments %q", it.Outcome, tr.comments[3])
	}
	// Reopened: the verdict is gone, to be judged again at the next close.
	it.State, it.ClosedAt = cxv1.ItemOpen, nil
	if _, err := r.verifyOutcomes(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if it.Outcome != nil {
		t.Errorf("outcome kept on a reopened item: %+v", it.Outcome)
	}
}

func findCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// oneTracker is the tracker of every journey.
type oneTracker struct{ tr tracker.Tracker }

func (o oneTracker) For(context.Context, *cxv1.CustomerJourney) (tracker.Tracker, error) {
	return o.tr, nil
}

// TestCompletedPhaseStillJudgesOutcomes: a phase completes on its closes,
// but the outcome of an item closed last is judged after its settle window:
// the completed phase still judges it and comments, and asks for nothing
// more once every outcome is judged and commented.
func TestCompletedPhaseStillJudgesOutcomes(t *testing.T) {
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	opened, closed := now.Add(-21*24*time.Hour), now.Add(-14*24*time.Hour)
	o, c := metav1.NewTime(opened), metav1.NewTime(closed)
	cj := measuredJourney()
	cj.Namespace, cj.Name = "ns", "shop"
	ph := phaseNamed("improve", "shop", "")
	ph.Status.State = cxv1.PhaseCompleted
	ph.Status.Items = []cxv1.PhaseItem{{Key: "painpoint/phone-queue", State: cxv1.ItemClosed, Issue: 3, OpenedAt: &o, ClosedAt: &c,
		Source:  cxv1.ItemSource{Stage: "planning", Touchpoint: "phone-reservation"},
		Outcome: &cxv1.ItemOutcome{Measure: "csat", Verdict: cxv1.VerdictPending}}}
	src := &fakeSource{means: map[time.Time]float64{opened.Add(-7 * 24 * time.Hour): 3, closed: 4.4}}
	tr := &commentTracker{comments: map[int][]string{}}
	cl := fake.NewClientBuilder().WithScheme(scheme).WithObjects(cj, ph).WithStatusSubresource(ph).Build()
	r := &ImprovementPhaseReconciler{Client: cl, Recorder: events.NewFakeRecorder(10), Clock: clocktesting.NewFakeClock(now), Metrics: src, Trackers: oneTracker{tr}}
	run := &phaseRun{ph: ph, gen: ph.Generation}
	if res, err := steps.Run(context.Background(), run, r.phaseSteps()); res != steps.Done(0) || err != nil {
		t.Fatalf("result %v, err %v: a completed phase stops at holdCompletedOrSuspended, asking for nothing more", res, err)
	}
	it := ph.Status.Items[0]
	if it.Outcome.Verdict != cxv1.VerdictImproved || !ptr.Deref(it.Outcome.Commented, false) || len(tr.comments[3]) != 1 {
		t.Fatalf("outcome %+v, comments %q: want Improved and one comment", it.Outcome, tr.comments[3])
	}
	calls := src.calls
	if _, err := r.verifyLateOutcomes(context.Background(), &phaseRun{ph: ph, gen: ph.Generation}); err != nil {
		t.Fatal(err)
	}
	if src.calls != calls || len(tr.comments[3]) != 1 {
		t.Errorf("a judged phase asked again: %d reads, %d comments", src.calls-calls, len(tr.comments[3]))
	}
}
