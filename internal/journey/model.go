// Package journey holds cxloop's journey analytics: pure functions over a
// customer journey map that find its quick wins, its long-term and
// personalization work, its gaps and its health. It has no Kubernetes
// imports; the controllers convert the API types into a Map.
package journey

import (
	"strings"

	"github.com/cxloop/cxloop/internal/outcome"
)

// Map is a customer journey map: personas, and stages in order, each with
// the touchpoints where the personas meet the organisation.
type Map struct {
	Personas []Persona
	Stages   []Stage
}

// Persona is a customer archetype.
type Persona struct {
	Name        string
	Description string
	Goals       []string
}

// Stage is one step of the journey.
type Stage struct {
	Name        string
	Description string
	Touchpoints []Touchpoint
}

// Touchpoint is a moment where a persona meets the organisation.
type Touchpoint struct {
	Name string
	// Channel is the medium ("web", "phone", or a custom name).
	Channel       string
	Owner         string
	TopTask       bool
	MomentOfTruth bool
	Personalize   bool
	Experiences   []Experience
	PainPoints    []PainPoint
	// Readings are the latest values of the touchpoint's measures (and of
	// its pain points' measures) read from Prometheus; none without data.
	Readings []Reading
}

// Reading is the latest value of one measure against its target.
type Reading struct {
	// Measure is the measure's name; PainPoint the pain point that declares
	// it, "" for the touchpoint's own.
	Measure, PainPoint string
	Value, Target      float64
	Direction          outcome.Direction
}

// Experience is how one persona feels at a touchpoint: Score today and an
// optional Target for the redesigned journey, both from -2 to +2.
type Experience struct {
	Persona string
	Score   int
	Target  *int
	Note    string
}

// PainPoint is a problem found at a touchpoint. Impact and Effort run from 1
// to 5 and are nil while the pain point is still to be sized.
type PainPoint struct {
	ID          string
	Summary     string
	Personas    []string
	Impact      *int
	Effort      *int
	Personalize bool
}

// Sized reports whether both impact and effort are known.
func (p PainPoint) Sized() bool { return p.Impact != nil && p.Effort != nil }

// Concerns reports whether the pain point concerns persona (no personas means all).
func (p PainPoint) Concerns(persona string) bool {
	if len(p.Personas) == 0 {
		return true
	}
	for _, n := range p.Personas {
		if n == persona {
			return true
		}
	}
	return false
}

// Located is a pain point together with where it is found in the map.
type Located struct {
	PainPoint
	Stage      string
	Touchpoint string
	Channel    string
	// Owner is the department that owns the touchpoint.
	Owner         string
	MomentOfTruth bool
	TopTask       bool
}

// PainPoints lists every pain point of the map in journey order.
func (m Map) PainPoints() []Located {
	var out []Located
	for _, s := range m.Stages {
		for _, t := range s.Touchpoints {
			for _, p := range t.PainPoints {
				out = append(out, Located{
					PainPoint: p, Stage: s.Name, Touchpoint: t.Name, Channel: t.Channel,
					Owner: t.Owner, MomentOfTruth: t.MomentOfTruth, TopTask: t.TopTask,
				})
			}
		}
	}
	return out
}

// PersonaNames lists the declared personas' names.
func (m Map) PersonaNames() []string {
	names := make([]string, 0, len(m.Personas))
	for _, p := range m.Personas {
		names = append(names, p.Name)
	}
	return names
}

// Item keys are stable: the same pain point, gap or personalization always
// yields the same key, whatever else changes in the map. The issue tracker
// finds an issue again by its key, so a key must never change meaning.

// PainPointKey is the key of the work on one pain point, in whichever phase.
func PainPointKey(id string) string { return "painpoint/" + id }

// GapKey is the key of one gap of the map.
func GapKey(kind GapKind, parts ...string) string {
	return "gap/" + kebab(string(kind)) + "/" + strings.Join(parts, "/")
}

// PersonalizationKey is the key of tailoring one touchpoint or pain point to one persona.
func PersonalizationKey(stage, touchpoint, painPoint, persona string) string {
	if painPoint == "" {
		painPoint = "-"
	}
	return "personalize/" + stage + "/" + touchpoint + "/" + painPoint + "/" + persona
}

// kebab turns "PersonaNotScored" into "persona-not-scored".
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
