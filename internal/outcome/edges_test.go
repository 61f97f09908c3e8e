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
