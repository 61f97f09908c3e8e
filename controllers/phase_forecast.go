package controllers

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/burnup"
	"github.com/cxloop/cxloop/internal/phaseview"
)

// forecastPhase sets status.forecast from the phase's items, state and
// deadline at time at (see internal/burnup for how). It keeps
// forecast.since while the schedule does not change, so an unchanged
// forecast writes nothing; the projection moves at most once a day. It
// covers every state (a Pending phase is NotStarted, a Completed one
// Completed), so it belongs where every return path passes: the
// reconciler's deferred status step.
func forecastPhase(ph *cxv1.ImprovementPhase, at time.Time) {
	f := phaseview.Forecast(ph, at)
	next := &cxv1.PhaseForecast{Schedule: cxv1.Schedule(f.Schedule), Message: truncate(f.Reason, 400)}
	if !f.Projected.IsZero() {
		next.ProjectedCompletion = f.Projected.UTC().Format(time.DateOnly)
	}
	if f.RatePerDay > 0 {
		next.ClosedPerWeek = fmt.Sprintf("%.1f", f.PerWeek())
	}
	prev := ph.Status.Forecast
	switch {
	case !f.Since.IsZero(): // Late: since the deadline's day ended
		since := metav1.NewTime(f.Since)
		next.Since = &since
	case f.Schedule == burnup.Completed && ph.Status.CompletedAt != nil:
		next.Since = ph.Status.CompletedAt.DeepCopy()
	case f.Schedule == burnup.NotStarted:
	case prev != nil && prev.Schedule == next.Schedule && prev.Since != nil:
		next.Since = prev.Since
	default:
		since := metav1.NewTime(at.Truncate(time.Second))
		next.Since = &since
	}
	ph.Status.Forecast = next
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	for len(string(r)) > n-len("…") {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
