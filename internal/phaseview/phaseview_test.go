package phaseview

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/burnup"
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func mt(days int) *metav1.Time {
	t := metav1.NewTime(start.AddDate(0, 0, days))
	return &t
}

func TestBurnup(t *testing.T) {
	items := []cxv1.PhaseItem{
		{Key: "a", State: cxv1.ItemClosed, OpenedAt: mt(1), ClosedAt: mt(3)},
		{Key: "b", State: cxv1.ItemOpen, OpenedAt: mt(2)},
		{Key: "c", State: cxv1.ItemPlanned},
		{Key: "d", State: cxv1.ItemObsolete, OpenedAt: mt(1), ClosedAt: mt(2)},
		{Key: "e", State: cxv1.ItemOpen, OpenedAt: mt(2), ClosedAt: mt(4)}, // reopened: its old close does not count
	}
	tests := []struct {
		name                    string
		status                  cxv1.ImprovementPhaseStatus
		wantStarted, wantDone   time.Time
		wantCompleted           bool
		wantPlanned, wantClosed int
		wantSchedule            burnup.Schedule
	}{
		{"pending", cxv1.ImprovementPhaseStatus{State: cxv1.PhasePending}, time.Time{}, time.Time{}, false, 0, 0, burnup.NotStarted},
		{"active", cxv1.ImprovementPhaseStatus{State: cxv1.PhaseActive, StartedAt: mt(0), Items: items}, start, time.Time{}, false, 4, 1, burnup.NotEnoughData},
		{"active without startedAt starts at its first issue", cxv1.ImprovementPhaseStatus{State: cxv1.PhaseActive, Items: items}, start.AddDate(0, 0, 1), time.Time{}, false, 4, 1, burnup.NotEnoughData},
		{"completed", cxv1.ImprovementPhaseStatus{State: cxv1.PhaseCompleted, StartedAt: mt(0), CompletedAt: mt(5), Items: items}, start, start.AddDate(0, 0, 5), true, 4, 1, burnup.Completed},
		{"completed without completedAt ends at its last close", cxv1.ImprovementPhaseStatus{State: cxv1.PhaseCompleted, StartedAt: mt(0), Items: items}, start, start.AddDate(0, 0, 4), true, 4, 1, burnup.Completed},
		{"a completedAt of a phase no longer Completed is ignored", cxv1.ImprovementPhaseStatus{State: cxv1.PhaseSuspended, StartedAt: mt(0), CompletedAt: mt(5), Items: items}, start, time.Time{}, false, 4, 1, burnup.NotEnoughData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ph := &cxv1.ImprovementPhase{Status: tc.status}
			p := Burnup(ph)
			if !p.StartedAt.Equal(tc.wantStarted) || !p.CompletedAt.Equal(tc.wantDone) || p.Completed != tc.wantCompleted {
				t.Errorf("started %s, completed %s (%v); want %s, %s (%v)", p.StartedAt, p.CompletedAt, p.Completed, tc.wantStarted, tc.wantDone, tc.wantCompleted)
			}
			f := Forecast(ph, start.AddDate(0, 0, 10))
			if f.Planned != tc.wantPlanned || f.Closed != tc.wantClosed || f.Schedule != tc.wantSchedule {
				t.Errorf("forecast %d/%d %s, want %d/%d %s", f.Closed, f.Planned, f.Schedule, tc.wantClosed, tc.wantPlanned, tc.wantSchedule)
			}
		})
	}
}

func TestSince(t *testing.T) {
	ph := &cxv1.ImprovementPhase{Status: cxv1.ImprovementPhaseStatus{Forecast: &cxv1.PhaseForecast{Schedule: cxv1.ScheduleAtRisk, Since: mt(3)}}}
	if got := Since(ph, burnup.Forecast{Schedule: burnup.AtRisk}); !got.Equal(start.AddDate(0, 0, 3)) {
		t.Errorf("at risk since %s, want the status' %s", got, start.AddDate(0, 0, 3))
	}
	if got := Since(ph, burnup.Forecast{Schedule: burnup.OnTrack}); !got.IsZero() {
		t.Errorf("the status' since of another schedule was used: %s", got)
	}
	late := start.AddDate(0, 0, 9)
	if got := Since(ph, burnup.Forecast{Schedule: burnup.Late, Since: late}); !got.Equal(late) {
		t.Errorf("late since %s, want the forecast's %s", got, late)
	}
}
