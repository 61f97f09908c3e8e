package outcome

import (
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	tests := []struct {
		name            string
		baseline, after float64
		dir             Direction
		tol             float64
		want            Verdict
	}{
		{"csat up", 3.1, 4.2, HigherIsBetter, 5, Improved},
		{"csat down", 4.2, 3.1, HigherIsBetter, 5, Worse},
		{"csat within tolerance", 4.0, 4.15, HigherIsBetter, 5, Unchanged},
		{"exactly at tolerance is unchanged", 4.0, 4.2, HigherIsBetter, 5, Unchanged},
		{"just past tolerance", 4.0, 4.21, HigherIsBetter, 5, Improved},
		{"drop-off down is better", 0.40, 0.25, LowerIsBetter, 5, Improved},
		{"drop-off up is worse", 0.25, 0.40, LowerIsBetter, 5, Worse},
		{"waiting time flat", 600, 610, LowerIsBetter, 5, Unchanged},
		{"zero tolerance, any change counts", 10, 10.001, HigherIsBetter, 0, Improved},
		{"zero tolerance, no change", 10, 10, HigherIsBetter, 0, Unchanged},
		{"baseline zero, up", 0, 1, HigherIsBetter, 5, Improved},
		{"baseline zero, both zero", 0, 0, HigherIsBetter, 5, Unchanged},
		{"negative nps improves", -20, -5, HigherIsBetter, 5, Improved},
		{"negative nps worsens", -5, -20, HigherIsBetter, 5, Worse},
		{"negative within tolerance", -20, -19.5, HigherIsBetter, 5, Unchanged},
		{"tolerance 100 holds a doubling", 2, 4, HigherIsBetter, 100, Unchanged},
		{"lower is better, up from zero", 0, 0.5, LowerIsBetter, 5, Worse},
		{"lower is better, down to zero", 0.5, 0, LowerIsBetter, 5, Improved},
		// With a baseline of 0 the tolerance is of |after|: 5% of 0.001 never holds a move of 0.001.
		{"tiny move away from zero", 0, 0.001, HigherIsBetter, 5, Improved},
		{"exactly at tolerance, lower is better", 600, 630, LowerIsBetter, 5, Unchanged},
		{"just past tolerance, lower is better", 600, 631, LowerIsBetter, 5, Worse},
		{"large values at tolerance", 1e12, 1.05e12, HigherIsBetter, 5, Unchanged},
		{"large values past tolerance", 1e12, 1.0500001e12, HigherIsBetter, 5, Improved},
		{"an unknown direction is higher is better", 3, 4, "Sideways", 5, Improved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Judge(tt.baseline, tt.after, tt.dir, tt.tol); got != tt.want {
				t.Errorf("Judge(%v, %v, %s, %v) = %s, want %s", tt.baseline, tt.after, tt.dir, tt.tol, got, tt.want)
			}
		})
	}
}

func TestMeetsTargetAndShortfall(t *testing.T) {
	tests := []struct {
		name          string
		value, target float64
		dir           Direction
		meets         bool
		shortfall     float64
	}{
		{"csat above target", 4.5, 4, HigherIsBetter, true, 0},
		{"csat on target", 4, 4, HigherIsBetter, true, 0},
		{"csat a quarter short", 3, 4, HigherIsBetter, false, 0.25},
		{"csat far short is capped", -10, 4, HigherIsBetter, false, 1},
		{"drop-off below target", 0.1, 0.2, LowerIsBetter, true, 0},
		{"drop-off half over", 0.3, 0.2, LowerIsBetter, false, 0.5},
		{"target zero missed", 1, 0, LowerIsBetter, false, 1},
		{"target zero met", 0, 0, LowerIsBetter, true, 0},
		{"negative target", -30, -10, HigherIsBetter, false, 1},
		{"negative target slightly short", -12, -10, HigherIsBetter, false, 0.2},
		// A balance that should stay at or below -10.
		{"below a negative target", -20, -10, LowerIsBetter, true, 0},
		{"on a negative target", -10, -10, LowerIsBetter, true, 0},
		{"a fifth over a negative target", -8, -10, LowerIsBetter, false, 0.2},
		{"at zero over a negative target", 0, -10, LowerIsBetter, false, 1},
		{"far over a negative target is capped", 50, -10, LowerIsBetter, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MeetsTarget(tt.value, tt.target, tt.dir); got != tt.meets {
				t.Errorf("MeetsTarget = %v, want %v", got, tt.meets)
			}
			if got := Shortfall(tt.value, tt.target, tt.dir); got < tt.shortfall-1e-9 || got > tt.shortfall+1e-9 {
				t.Errorf("Shortfall = %v, want %v", got, tt.shortfall)
			}
		})
	}
}

func TestWindowsFor(t *testing.T) {
	opened := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC) // a DST night in Europe: windows are in absolute time
	closed := opened.Add(36 * time.Hour)
	w := WindowsFor(opened, closed, 0)
	if !w.BaselineStart.Equal(opened.Add(-7*24*time.Hour)) || !w.BaselineEnd.Equal(opened) {
		t.Errorf("baseline %v..%v", w.BaselineStart, w.BaselineEnd)
	}
	if !w.AfterStart.Equal(closed) || !w.AfterEnd.Equal(closed.Add(7*24*time.Hour)) {
		t.Errorf("after %v..%v", w.AfterStart, w.AfterEnd)
	}
	if w := WindowsFor(opened, closed, time.Hour); !w.AfterEnd.Equal(closed.Add(time.Hour)) {
		t.Errorf("settle 1h: after ends %v", w.AfterEnd)
	}
}

func TestParseAndFormat(t *testing.T) {
	for _, s := range []string{"4.2", "-10", "0.05", "+3", ".5", "1e3"} {
		if _, err := ParseNumber(s); err != nil {
			t.Errorf("ParseNumber(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "high", "NaN", "Inf", "4,2"} {
		if _, err := ParseNumber(s); err == nil {
			t.Errorf("ParseNumber(%q) accepted", s)
		}
	}
	for v, want := range map[float64]string{4.2: "4.2", 0.05: "0.05", 120: "120", 3.14159: "3.142", -0.0001: "0", -12.5: "-12.5"} {
		if got := Format(v); got != want {
			t.Errorf("Format(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestSentence(t *testing.T) {
	if got := Sentence("csat", Improved, 3.1, 4.25, HigherIsBetter); got != "csat improved from 3.1 to 4.25 (higher is better)" {
		t.Error(got)
	}
	if got := Sentence("drop-off", Worse, 0.2, 0.3, LowerIsBetter); got != "drop-off got worse, from 0.2 to 0.3 (lower is better)" {
		t.Error(got)
	}
	if got := Sentence("ces", Unchanged, 3, 3, LowerIsBetter); got != "ces is unchanged: 3 before, 3 after (lower is better)" {
		t.Error(got)
	}
}
