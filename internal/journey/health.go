package journey

import (
	"math"

	"github.com/cxloop/cxloop/internal/outcome"
)

// Weights of a touchpoint in the health score: a moment of truth weighs
// three times a plain touchpoint, a top task twice, one that is both four times.
const (
	baseWeight          = 1.0
	momentOfTruthWeight = 2.0
	topTaskWeight       = 1.0
	// unsizedImpact stands in for the impact of a pain point not sized yet.
	unsizedImpact = 3
)

// Health scores a journey from 0 to 100. resolved holds the ids of pain
// points whose work is done (their issues closed); they no longer count
// against the journey.
//
// Every touchpoint t has a weight w(t) = 1 + 2·momentOfTruth + 1·topTask.
//
//	Feeling  F = Σ w(t)·mean((score+2)/4) / Σ w(t), over touchpoints with at least one score
//	Targets  T = 1 − Σ w(t)·shortfall(t) / Σ w(t), over touchpoints with targets (1 if none), where
//	             shortfall(t) = mean over its measured readings of min(1, miss/|target|) when the
//	             touchpoint has readings from Prometheus (measured beats declared), and
//	             mean(max(0, target−score)/4) over its experiences with a target otherwise
//	Pain     P = 1 − min(1, Σ w(t)·impact/5 / Σ w(t)), the first sum over open pain points
//	             (an unsized one counts as impact 3), the second over all touchpoints
//	Health   = round(100 · (0.5·F + 0.25·T + 0.25·P))
//
// A map without any score has F = 0: an unscored journey is not a healthy one.
func Health(m Map, resolved map[string]bool) int {
	var fSum, fW, tSum, tW, pain, allW float64
	for _, s := range m.Stages {
		for _, t := range s.Touchpoints {
			w := weight(t)
			allW += w
			if len(t.Experiences) > 0 {
				var feel, gap float64
				targets := 0
				for _, e := range t.Experiences {
					feel += float64(clamp(e.Score)+2) / 4
					if e.Target != nil {
						targets++
						gap += math.Max(0, float64(clamp(*e.Target)-clamp(e.Score))) / 4
					}
				}
				fSum += w * feel / float64(len(t.Experiences))
				fW += w
				if targets > 0 && len(t.Readings) == 0 {
					tSum += w * gap / float64(targets)
					tW += w
				}
			}
			if len(t.Readings) > 0 {
				var short float64
				for _, r := range t.Readings {
					short += outcome.Shortfall(r.Value, r.Target, r.Direction)
				}
				tSum += w * short / float64(len(t.Readings))
				tW += w
			}
			for _, p := range t.PainPoints {
				if resolved[p.ID] {
					continue
				}
				impact := unsizedImpact
				if p.Impact != nil {
					// Admission keeps impact in 1..5; a map that
					// bypassed it must still score in 0..100.
					impact = max(1, min(5, *p.Impact))
				}
				pain += w * float64(impact) / 5
			}
		}
	}
	F := 0.0
	if fW > 0 {
		F = fSum / fW
	}
	T := 1.0
	if tW > 0 {
		T = 1 - tSum/tW
	}
	P := 1.0
	if allW > 0 {
		P = 1 - math.Min(1, pain/allW)
	}
	return int(math.Round(100 * (0.5*F + 0.25*T + 0.25*P)))
}

func weight(t Touchpoint) float64 {
	w := baseWeight
	if t.MomentOfTruth {
		w += momentOfTruthWeight
	}
	if t.TopTask {
		w += topTaskWeight
	}
	return w
}

func clamp(score int) int { return max(-2, min(2, score)) }
