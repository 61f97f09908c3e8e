package journey

import "fmt"

// Problem is an error in a map that admission could not catch, with the
// field it concerns in the CustomerJourney's terms.
type Problem struct {
	Field   string
	Message string
}

func (p Problem) Error() string { return p.Field + ": " + p.Message }

// Validate checks what the API server's admission cannot check cheaply:
// pain point ids unique across the whole journey, and references to
// personas (checked at admission too; repeated here so the analytics never
// trust a map blindly).
func Validate(m Map) []Problem {
	var problems []Problem
	declared := map[string]bool{}
	for _, p := range m.Personas {
		declared[p.Name] = true
	}
	seen := map[string]string{}
	for si, s := range m.Stages {
		for ti, t := range s.Touchpoints {
			at := fmt.Sprintf("spec.stages[%d].touchpoints[%d]", si, ti)
			for ei, e := range t.Experiences {
				if !declared[e.Persona] {
					problems = append(problems, Problem{
						Field:   fmt.Sprintf("%s.experiences[%d].persona", at, ei),
						Message: fmt.Sprintf("persona %q is not declared in spec.personas", e.Persona)})
				}
			}
			for pi, p := range t.PainPoints {
				field := fmt.Sprintf("%s.painPoints[%d]", at, pi)
				if first, dup := seen[p.ID]; dup {
					problems = append(problems, Problem{Field: field + ".id",
						Message: fmt.Sprintf("pain point id %q is already used at %s; ids must be unique in the journey", p.ID, first)})
				} else {
					seen[p.ID] = field
				}
				for ni, n := range p.Personas {
					if !declared[n] {
						problems = append(problems, Problem{Field: fmt.Sprintf("%s.personas[%d]", field, ni),
							Message: fmt.Sprintf("persona %q is not declared in spec.personas", n)})
					}
				}
			}
		}
	}
	return problems
}
