package outcome

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestFormatEdges(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{0.0005, "0.001"},
		{-0.0005, "-0.001"},
		{0.0004999, "0"},
		{1.0005, "1.001"},
		{999.9996, "1000"},
		{1e14, "100000000000000"},
		{1e15, "1e+15"},
		{-2.5e18, "-2.5e+18"},
		{123456789e12, "1.23457e+20"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "+Inf"},
		{math.Inf(-1), "-Inf"},
	} {
		if got := Format(tc.v); got != tc.want {
			t.Errorf("Format(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestParseNumberEdges(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0", 0, true},
		{"-0.5", -0.5, true},
		{"1E-3", 0.001, true},
		{"1e308", 1e308, true},
		{"1e400", 0, false},
		{"-1e400", 0, false},
		{"nan", 0, false},
		{"-Infinity", 0, false},
		{"+inf", 0, false},
		{" 4", 0, false},
		{"4 ", 0, false},
		{"4.2.1", 0, false},
		{"5%", 0, false},
	} {
		got, err := ParseNumber(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), `"`+tc.in+`" is not a number`) {
			t.Errorf("ParseNumber(%q) error %q does not quote the input", tc.in, err)
		}
	}
}

func TestJudgeEdges(t *testing.T) {
	for _, tc := range []struct {
		name            string
		baseline, after float64
		dir             Direction
		tol             float64
		want            Verdict
	}{
		{"lower is better, up from zero", 0, 0.5, LowerIsBetter, 5, Worse},
		{"lower is better, down to zero", 0.5, 0, LowerIsBetter, 5, Improved},
		// With a baseline of 0 the tolerance is of |after|: 5% of 0.001 never holds a move of 0.001.
		{"tiny move away from zero", 0, 0.001, HigherIsBetter, 5, Improved},
		{"exactly at tolerance, lower is better", 600, 630, LowerIsBetter, 5, Unchanged},
		{"just past tolerance, lower is better", 600, 631, LowerIsBetter, 5, Worse},
		{"large values at tolerance", 1e12, 1.05e12, HigherIsBetter, 5, Unchanged},
		{"large values past tolerance", 1e12, 1.0500001e12, HigherIsBetter, 5, Improved},
		{"an unknown direction is higher is better", 3, 4, "Sideways", 5, Improved},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Judge(tc.baseline, tc.after, tc.dir, tc.tol); got != tc.want {
				t.Errorf("Judge(%v, %v, %s, %v) = %s, want %s", tc.baseline, tc.after, tc.dir, tc.tol, got, tc.want)
			}
		})
	}
}

func TestShortfallLowerIsBetterWithNegativeTarget(t *testing.T) {
	// A balance that should stay at or below -10.
	for _, tc := range []struct {
		value, want float64
	}{{-20, 0}, {-10, 0}, {-8, 0.2}, {0, 1}, {50, 1}} {
		if got := Shortfall(tc.value, -10, LowerIsBetter); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("Shortfall(%v, -10, LowerIsBetter) = %v, want %v", tc.value, got, tc.want)
		}
		if meets := MeetsTarget(tc.value, -10, LowerIsBetter); meets != (tc.want == 0) {
			t.Errorf("MeetsTarget(%v, -10, LowerIsBetter) = %v", tc.value, meets)
		}
	}
}

func TestWindowsForNegativeSettleTakesTheDefault(t *testing.T) {
	opened := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	w := WindowsFor(opened, opened.Add(time.Hour), -time.Minute)
	if w.BaselineEnd.Sub(w.BaselineStart) != DefaultSettleWindow || w.AfterEnd.Sub(w.AfterStart) != DefaultSettleWindow {
		t.Errorf("windows %+v, want %v each", w, DefaultSettleWindow)
	}
}

func TestSentenceFormatsBothNumbers(t *testing.T) {
	got := Sentence("wait seconds", Improved, 600.00049, 1e15, LowerIsBetter)
	if got != "wait seconds improved from 600 to 1e+15 (lower is better)" {
		t.Errorf("Sentence = %q", got)
	}
	if got := Sentence("csat", "Pending", 3, 3.5, HigherIsBetter); !strings.HasPrefix(got, "csat is unchanged: 3 before, 3.5 after") {
		t.Errorf("Sentence of an unknown verdict = %q", got)
	}
}
