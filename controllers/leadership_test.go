package controllers

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// TestJourneyHistoryOnAFakeClock: the journey records its figures in its
// status when they change, at most once an hour on the injected clock, and
// writes nothing when nothing changed.
func TestJourneyHistoryOnAFakeClock(t *testing.T) {
	g := eventually(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	startManager(t, func(mgr ctrl.Manager) error {
		return (&CustomerJourneyReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("cxloop"), Clock: clk}).SetupWithManager(mgr, controller.Options{})
	})
	ctx := context.Background()
	cj := sampleJourney(t, namespace(t))
	cj.Spec.Tracker = nil
	g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
	key := client.ObjectKeyFromObject(cj)

	var got cxv1.CustomerJourney
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, key, &got)).To(Succeed())
		g.Expect(got.Status.History).To(HaveLen(1))
	}).Should(Succeed())
	first := got.Status.History[0]
	g.Expect(first.Time.UTC()).To(Equal(clk.Now()))
	g.Expect(first.HealthScore).To(Equal(*got.Status.HealthScore))
	g.Expect(first.Touchpoints).To(BeEquivalentTo(15))
	g.Expect(first.Gaps).To(BeEquivalentTo(2))
	g.Expect(first.OpenPainPoints).To(BeEquivalentTo(10))
	g.Expect(first.EmotionGapHundredths).To(BeNumerically(">", 0))

	// A change within the hour is scored but waits to be recorded.
	edit := func(change func(*cxv1.CustomerJourney)) {
		g.Eventually(func() error {
			var cur cxv1.CustomerJourney
			if err := k8sClient.Get(ctx, key, &cur); err != nil {
				return err
			}
			change(&cur)
			return k8sClient.Update(ctx, &cur)
		}).Should(Succeed())
	}
	clk.Step(20 * time.Minute)
	edit(func(j *cxv1.CustomerJourney) { j.Spec.Stages[3].Touchpoints[2].Owner = "Partnerships" })
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, key, &got)).To(Succeed())
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(got.Status.Gaps).To(HaveLen(1))
	}).Should(Succeed())
	g.Expect(got.Status.History).To(HaveLen(1))

	// After the hour, the next reconcile records it.
	clk.Step(time.Hour)
	edit(func(j *cxv1.CustomerJourney) { j.Spec.Description = "A family's day out in the park." })
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, key, &got)).To(Succeed())
		g.Expect(got.Status.History).To(HaveLen(2))
	}).Should(Succeed())
	g.Expect(got.Status.History[1].Gaps).To(BeEquivalentTo(1))
	g.Expect(got.Status.History[1].Time.UTC()).To(Equal(clk.Now()))

	// Months later, with unchanged figures, nothing is written.
	clk.Step(90 * 24 * time.Hour)
	edit(func(j *cxv1.CustomerJourney) { j.Spec.Description = "A family's day out in the nature park." })
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, key, &got)).To(Succeed())
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
	}).Should(Succeed())
	rv := got.ResourceVersion
	g.Consistently(func(g Gomega) {
		var now cxv1.CustomerJourney
		g.Expect(k8sClient.Get(ctx, key, &now)).To(Succeed())
		g.Expect(now.ResourceVersion).To(Equal(rv))
		g.Expect(now.Status.History).To(HaveLen(2))
	}).Should(Succeed())
}

// TestPendingPhaseForecastIsNotStarted: a phase waiting for the one before
// it shows NotStarted in status.forecast, which `kubectl get cx` shows.
func TestPendingPhaseForecastIsNotStarted(t *testing.T) {
	g := eventually(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	startManager(t, func(mgr ctrl.Manager) error {
		return (&ImprovementPhaseReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("cxloop"), Clock: clk, Trackers: &Trackers{Reader: mgr.GetAPIReader()}}).SetupWithManager(mgr, controller.Options{})
	})
	ctx := context.Background()
	ns := namespace(t)
	cj := sampleJourney(t, ns)
	g.Expect(k8sClient.Create(ctx, cj)).To(Succeed())
	ph := samplePhases(t, ns)[1] // Improve, after Discovery, which does not exist here
	g.Expect(k8sClient.Create(ctx, ph)).To(Succeed())

	g.Eventually(func(g Gomega) {
		var got cxv1.ImprovementPhase
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ph), &got)).To(Succeed())
		g.Expect(got.Status.State).To(Equal(cxv1.PhasePending))
		g.Expect(got.Status.Forecast).NotTo(BeNil())
		g.Expect(got.Status.Forecast.Schedule).To(Equal(cxv1.ScheduleNotStarted))
		g.Expect(got.Status.Forecast.ProjectedCompletion).To(BeEmpty())
	}).Should(Succeed())
	out, err := kubectl(t, "get", "phase", "-n", ns, "-o", "wide")
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Expect(out).To(MatchRegexp(`SCHEDULE[\s\S]*FORECAST[\s\S]*nature-park-improve\s.*NotStarted`))
}

// TestForecastPhaseKeepsSince: the time a schedule began is kept while it
// holds, so an unchanged forecast is an unchanged status.
func TestForecastPhaseKeepsSince(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	mt := func(d float64) *metav1.Time {
		t := metav1.NewTime(start.Add(time.Duration(d * 24 * float64(time.Hour))))
		return &t
	}
	ph := &cxv1.ImprovementPhase{
		Spec: cxv1.ImprovementPhaseSpec{Deadline: "2026-03-20"},
		Status: cxv1.ImprovementPhaseStatus{State: cxv1.PhaseActive, StartedAt: mt(0), Items: []cxv1.PhaseItem{
			{Key: "a", State: cxv1.ItemClosed, OpenedAt: mt(0), ClosedAt: mt(4)},
			{Key: "b", State: cxv1.ItemClosed, OpenedAt: mt(0), ClosedAt: mt(10)},
			{Key: "c", State: cxv1.ItemOpen, OpenedAt: mt(0)},
			{Key: "d", State: cxv1.ItemPlanned},
			{Key: "e", State: cxv1.ItemPlanned},
			{Key: "f", State: cxv1.ItemObsolete, ClosedAt: mt(3)},
		}},
	}
	forecastPhase(ph, start.Add(14*24*time.Hour))
	f := ph.Status.Forecast
	if f.Schedule != cxv1.ScheduleAtRisk || f.ProjectedCompletion != "2026-04-06" || f.ClosedPerWeek != "1.0" || f.Since == nil || !f.Since.Time.Equal(start.Add(14*24*time.Hour)) {
		t.Fatalf("forecast %+v, want AtRisk since day 14, projected 2026-04-06 at 1.0 a week", f)
	}
	since := *f.Since
	before := ph.DeepCopy()
	forecastPhase(ph, start.Add(14*24*time.Hour+3*time.Hour))
	if ph.Status.Forecast.Since.Time != since.Time || ph.Status.Forecast.ProjectedCompletion != before.Status.Forecast.ProjectedCompletion {
		t.Errorf("three hours later: %+v, want unchanged %+v", ph.Status.Forecast, before.Status.Forecast)
	}
	// The deadline's day ends: Late, since then.
	forecastPhase(ph, start.Add(20*24*time.Hour))
	if f := ph.Status.Forecast; f.Schedule != cxv1.ScheduleLate || !f.Since.Time.Equal(time.Date(2026, 3, 21, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("after the deadline: %+v, want Late since 2026-03-21", f)
	}
	// Pending: not started, no since.
	pending := &cxv1.ImprovementPhase{Status: cxv1.ImprovementPhaseStatus{State: cxv1.PhasePending}}
	forecastPhase(pending, start)
	if f := pending.Status.Forecast; f.Schedule != cxv1.ScheduleNotStarted || f.Since != nil {
		t.Errorf("pending: %+v", f)
	}
}
