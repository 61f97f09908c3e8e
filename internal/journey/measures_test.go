package journey

import (
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/outcome"
)

func measured(score int, target *int, readings ...Reading) Map {
	return Map{Personas: []Persona{{Name: "p", Goals: []string{"g"}}}, Stages: []Stage{{Name: "s", Touchpoints: []Touchpoint{
		{Name: "t", Owner: "o", TopTask: true, MomentOfTruth: true, Experiences: []Experience{{Persona: "p", Score: score, Target: target}}, Readings: readings}}}}}
}

func TestHealthUsesMeasuredValues(t *testing.T) {
	csat := func(v float64) Reading {
		return Reading{Measure: "csat", Value: v, Target: 4, Direction: outcome.HigherIsBetter}
	}
	tests := []struct {
		name string
		m    Map
		want int
	}{
		// F = 0.5 (score 0), P = 1: Health = 100·(0.25 + 0.25·T + 0.25).
		{"declared target, no readings: T from the scores", measured(0, ip(2)), 63},
		{"a reading on target overrides the declared gap", measured(0, ip(2), csat(4.5)), 75},
		{"a reading a quarter short", measured(0, ip(2), csat(3)), 69},
		{"a reading far short", measured(0, nil, csat(-1)), 50},
		{"readings are averaged", measured(0, nil, csat(4), Reading{Measure: "drop-off", Value: 0.3, Target: 0.2, Direction: outcome.LowerIsBetter}), 69},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Health(tt.m, nil); got != tt.want {
				t.Errorf("Health() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestMeasureMissingItsTargetIsAGap(t *testing.T) {
	m := measured(0, nil,
		Reading{Measure: "csat", Value: 3.1, Target: 4, Direction: outcome.HigherIsBetter},
		Reading{Measure: "wait-seconds", PainPoint: "long-wait", Value: 90, Target: 120, Direction: outcome.LowerIsBetter},
		Reading{Measure: "drop-off", PainPoint: "long-wait", Value: 0.25, Target: 0.2, Direction: outcome.LowerIsBetter},
	)
	gaps := Gaps(m)
	if len(gaps) != 2 {
		t.Fatalf("gaps %+v", gaps)
	}
	g := gaps[0]
	if g.Kind != MeasureMissesTarget || g.Key != "gap/measure-misses-target/s/t/csat" || g.Measure != "csat" || g.Value != "3.1" || g.Target != "4" || g.Touchpoint != "t" {
		t.Errorf("gap %+v", g)
	}
	if !strings.Contains(g.Message, `measure "csat" at touchpoint "t" in stage "s" is 3.1, target 4 (higher is better)`) {
		t.Errorf("message %q", g.Message)
	}
	if g := gaps[1]; g.Key != "gap/measure-misses-target/s/t/long-wait/drop-off" || g.PainPoint != "long-wait" || !strings.Contains(g.Message, "lower is better") {
		t.Errorf("pain point measure gap %+v", g)
	}
	// A sized pain point of the touchpoint explains the miss: no finding left
	// for Discovery (its fix is Improve's or Perfection's work).
	explained := measured(0, nil, m.Stages[0].Touchpoints[0].Readings...)
	explained.Stages[0].Touchpoints[0].PainPoints = []PainPoint{pp("long-wait", 4, 2)}
	if gaps := Gaps(explained); len(gaps) != 0 {
		t.Errorf("gaps with a sized pain point: %+v", gaps)
	}
	explained.Stages[0].Touchpoints[0].PainPoints = []PainPoint{pp("long-wait", 0, 0)}
	if gaps := Gaps(explained); len(gaps) != 3 {
		t.Errorf("an unsized pain point explains nothing yet: %+v", gaps)
	}

	// Met again: the gap is gone, and its key was stable while it lasted.
	m.Stages[0].Touchpoints[0].Readings[0].Value = 4.2
	m.Stages[0].Touchpoints[0].Readings[2].Value = 0.1
	if gaps := Gaps(m); len(gaps) != 0 {
		t.Errorf("gaps after meeting the targets: %+v", gaps)
	}
}
