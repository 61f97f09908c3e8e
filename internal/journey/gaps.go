package journey

import (
	"fmt"

	"github.com/cxloop/cxloop/internal/outcome"
)

// GapKind names what a map lacks.
type GapKind string

// The gaps the Discovery phase closes.
const (
	// PersonaNotScored: a persona has no experience score at any touchpoint of a stage.
	PersonaNotScored GapKind = "PersonaNotScored"
	// TouchpointWithoutOwner: no department is accountable for a touchpoint.
	TouchpointWithoutOwner GapKind = "TouchpointWithoutOwner"
	// StageWithoutMomentOfTruth: no touchpoint of a stage is marked as a moment of truth.
	StageWithoutMomentOfTruth GapKind = "StageWithoutMomentOfTruth"
	// PainPointNotSized: a pain point has no impact or no effort yet.
	PainPointNotSized GapKind = "PainPointNotSized"
	// PersonaWithoutGoals: a persona has no goals, so its top tasks are unknown.
	PersonaWithoutGoals GapKind = "PersonaWithoutGoals"
	// NoTopTask: no touchpoint of the journey is marked as a top task.
	NoTopTask GapKind = "NoTopTask"
	// MeasureMissesTarget: a touchpoint's measure, read from Prometheus, misses its target.
	MeasureMissesTarget GapKind = "MeasureMissesTarget"
)

// Gap is something the map still lacks, with where it is.
type Gap struct {
	Kind       GapKind
	Key        string
	Stage      string
	Touchpoint string
	Persona    string
	PainPoint  string
	// Measure, Value and Target name a measure that misses its target and
	// its numbers, for MeasureMissesTarget.
	Measure, Value, Target string
	Message                string
}

// Gaps lists what the map still lacks, in journey order: personas without
// goals, a journey without top tasks, then per stage its missing moment of
// truth, the personas never scored there, the touchpoints without owner,
// the pain points not yet sized and the measures that miss their targets.
func Gaps(m Map) []Gap {
	var gaps []Gap
	for _, p := range m.Personas {
		if len(p.Goals) == 0 {
			gaps = append(gaps, Gap{Kind: PersonaWithoutGoals, Key: GapKey(PersonaWithoutGoals, p.Name), Persona: p.Name,
				Message: fmt.Sprintf("persona %q has no goals: which tasks does it come to do?", p.Name)})
		}
	}
	if len(m.Stages) > 0 && !hasTopTask(m) {
		gaps = append(gaps, Gap{Kind: NoTopTask, Key: GapKey(NoTopTask, "journey"),
			Message: "no touchpoint is marked as a top task: which few tasks do most customers come to do?"})
	}
	for _, s := range m.Stages {
		mot := false
		scored := map[string]bool{}
		for _, t := range s.Touchpoints {
			mot = mot || t.MomentOfTruth
			for _, e := range t.Experiences {
				scored[e.Persona] = true
			}
		}
		if !mot {
			gaps = append(gaps, Gap{Kind: StageWithoutMomentOfTruth, Key: GapKey(StageWithoutMomentOfTruth, s.Name), Stage: s.Name,
				Message: fmt.Sprintf("stage %q has no moment of truth: where do customers make up their mind here?", s.Name)})
		}
		for _, p := range m.Personas {
			if !scored[p.Name] {
				gaps = append(gaps, Gap{Kind: PersonaNotScored, Key: GapKey(PersonaNotScored, s.Name, p.Name), Stage: s.Name, Persona: p.Name,
					Message: fmt.Sprintf("persona %q has no experience score in stage %q: how does it feel there?", p.Name, s.Name)})
			}
		}
		for _, t := range s.Touchpoints {
			if t.Owner == "" {
				gaps = append(gaps, Gap{Kind: TouchpointWithoutOwner, Key: GapKey(TouchpointWithoutOwner, s.Name, t.Name), Stage: s.Name, Touchpoint: t.Name,
					Message: fmt.Sprintf("touchpoint %q in stage %q has no owner: which department is accountable?", t.Name, s.Name)})
			}
		}
		for _, t := range s.Touchpoints {
			for _, p := range t.PainPoints {
				if !p.Sized() {
					gaps = append(gaps, Gap{Kind: PainPointNotSized, Key: GapKey(PainPointNotSized, p.ID), Stage: s.Name, Touchpoint: t.Name, PainPoint: p.ID,
						Message: fmt.Sprintf("pain point %q at touchpoint %q has no %s yet", p.ID, t.Name, missingSize(p))})
				}
			}
		}
		for _, t := range s.Touchpoints {
			// A measure that misses its target is a finding while nothing in
			// the map explains it; once a sized pain point of the touchpoint
			// does, fixing it is the work of Improve or Perfection, and
			// Discovery, which waits for a map without gaps, can complete.
			if hasSizedPainPoint(t) {
				continue
			}
			for _, r := range t.Readings {
				if outcome.MeetsTarget(r.Value, r.Target, r.Direction) {
					continue
				}
				parts := []string{s.Name, t.Name, r.Measure}
				if r.PainPoint != "" {
					parts = []string{s.Name, t.Name, r.PainPoint, r.Measure}
				}
				gaps = append(gaps, Gap{Kind: MeasureMissesTarget, Key: GapKey(MeasureMissesTarget, parts...), Stage: s.Name, Touchpoint: t.Name, PainPoint: r.PainPoint,
					Measure: r.Measure, Value: outcome.Format(r.Value), Target: outcome.Format(r.Target),
					Message: fmt.Sprintf("measure %q at touchpoint %q in stage %q is %s, target %s (%s): no pain point of the touchpoint explains it yet",
						r.Measure, t.Name, s.Name, outcome.Format(r.Value), outcome.Format(r.Target), betterWay(r.Direction))})
			}
		}
	}
	return gaps
}

func hasTopTask(m Map) bool {
	for _, s := range m.Stages {
		for _, t := range s.Touchpoints {
			if t.TopTask {
				return true
			}
		}
	}
	return false
}

func missingSize(p PainPoint) string {
	switch {
	case p.Impact == nil && p.Effort == nil:
		return "impact and effort"
	case p.Impact == nil:
		return "impact"
	default:
		return "effort"
	}
}

func betterWay(d outcome.Direction) string {
	if d == outcome.LowerIsBetter {
		return "lower is better"
	}
	return "higher is better"
}

func hasSizedPainPoint(t Touchpoint) bool {
	for _, p := range t.PainPoints {
		if p.Sized() {
			return true
		}
	}
	return false
}
