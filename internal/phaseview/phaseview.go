// Package phaseview reads an ImprovementPhase as the burn-up package sees
// it. The controller, the status page and the dashboard all use it, so the
// forecast in the phase's status, on the page and in the issue agree.
package phaseview

import (
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/burnup"
)

// Burnup turns a phase's status and deadline into a burnup.Phase.
func Burnup(ph *cxv1.ImprovementPhase) burnup.Phase {
	p := burnup.Phase{Deadline: burnup.ParseDeadline(ph.Spec.Deadline), Completed: ph.Status.State == cxv1.PhaseCompleted,
		Items: make([]burnup.Item, 0, len(ph.Status.Items))}
	if t := ph.Status.StartedAt; t != nil {
		p.StartedAt = t.Time
	}
	if t := ph.Status.CompletedAt; t != nil && ph.Status.State == cxv1.PhaseCompleted {
		p.CompletedAt = t.Time
	}
	started := ph.Status.State != "" && ph.Status.State != cxv1.PhasePending
	var firstOpened, lastClosed time.Time
	for _, it := range ph.Status.Items {
		if it.OpenedAt != nil && (firstOpened.IsZero() || it.OpenedAt.Time.Before(firstOpened)) {
			firstOpened = it.OpenedAt.Time
		}
		if it.ClosedAt != nil && it.ClosedAt.Time.After(lastClosed) {
			lastClosed = it.ClosedAt.Time
		}
	}
	// A phase that started before cxloop recorded startedAt (or completedAt)
	// is not taken for one that has not: its items tell when.
	if p.StartedAt.IsZero() && started {
		p.StartedAt = firstOpened
		if p.StartedAt.IsZero() {
			p.StartedAt = ph.CreationTimestamp.Time
		}
	}
	if p.CompletedAt.IsZero() && ph.Status.State == cxv1.PhaseCompleted {
		p.CompletedAt = lastClosed
		if p.CompletedAt.IsZero() || p.CompletedAt.Before(p.StartedAt) {
			p.CompletedAt = p.StartedAt
		}
	}
	for _, it := range ph.Status.Items {
		bi := burnup.Item{Closed: it.State == cxv1.ItemClosed, Obsolete: it.State == cxv1.ItemObsolete}
		if it.OpenedAt != nil {
			bi.OpenedAt = it.OpenedAt.Time
		}
		if it.ClosedAt != nil {
			bi.ClosedAt = it.ClosedAt.Time
		}
		p.Items = append(p.Items, bi)
	}
	return p
}

// Forecast is the phase's forecast at time now.
func Forecast(ph *cxv1.ImprovementPhase, now time.Time) burnup.Forecast {
	return burnup.Project(Burnup(ph), now, burnup.Options{})
}

// Since is when the phase's schedule took its current value, as recorded in
// its status; zero when the status does not hold the schedule f has.
func Since(ph *cxv1.ImprovementPhase, f burnup.Forecast) time.Time {
	if !f.Since.IsZero() {
		return f.Since
	}
	if fc := ph.Status.Forecast; fc != nil && fc.Since != nil && string(fc.Schedule) == string(f.Schedule) {
		return fc.Since.Time
	}
	return time.Time{}
}
