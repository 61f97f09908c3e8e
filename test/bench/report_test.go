package main

import (
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/tracker"
)

func TestMostWithin(t *testing.T) {
	at := func(secs ...float64) []time.Time {
		base := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		var out []time.Time
		for _, s := range secs {
			out = append(out, base.Add(time.Duration(s*float64(time.Second))))
		}
		return out
	}
	for _, tc := range []struct {
		times []time.Time
		want  int
	}{
		{nil, 0},
		{at(0), 1},
		{at(0, 59.9, 60), 2},       // a write exactly a minute later is in the next minute
		{at(0, 1, 2, 61, 61.5), 3}, // 1, 2, 61 and 61.5 are not within one minute; 2, 61, 61.5 are
		{at(0, 30, 45, 59, 89), 4},
	} {
		if got := tracker.MostWithin(tc.times, time.Minute); got != tc.want {
			t.Errorf("tracker.MostWithin(%v) = %d, want %d", tc.times, got, tc.want)
		}
	}
}

func TestBudgetShare(t *testing.T) {
	// 121 writes a half second apart: 120 intervals in 60s, the whole budget.
	g := GitHubSide{Writes: 121, RampSeconds: 60}
	g.setShares(Params{WritesPerMinute: 120})
	if g.BudgetShare < 0.999 || g.BudgetShare > 1.001 {
		t.Errorf("share %.3f, want 1", g.BudgetShare)
	}
}

func TestBudgetShareAfterReady(t *testing.T) {
	g := GitHubSide{Writes: 200, RampSeconds: 100, OpenedAfterReady: 108, AfterReadySeconds: 60}
	g.setShares(Params{WritesPerMinute: 120})
	if g.BudgetShareAfterReady < 0.899 || g.BudgetShareAfterReady > 0.901 {
		t.Errorf("share after Ready %.3f, want 0.9", g.BudgetShareAfterReady)
	}
	g = GitHubSide{Writes: 200, RampSeconds: 100, OpenedAfterReady: 5, AfterReadySeconds: 2}
	if g.setShares(Params{WritesPerMinute: 120}); g.BudgetShareAfterReady != 0 {
		t.Errorf("a share from 5 issues: %.2f", g.BudgetShareAfterReady)
	}
}
