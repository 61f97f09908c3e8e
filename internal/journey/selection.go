package journey

import "sort"

// Selector chooses pain points by impact, effort and persona.
type Selector struct {
	// MinImpact is the lowest impact a pain point needs (1-5).
	MinImpact int
	// MaxEffort is the highest effort a pain point may take (1-5).
	MaxEffort int
	// Personas narrows the choice to pain points concerning any of them; empty means all.
	Personas []string
}

// DefaultQuickWins is the method's quick-win rule: impact at least 4, effort at most 2.
var DefaultQuickWins = Selector{MinImpact: 4, MaxEffort: 2}

// IsQuickWin reports whether a sized pain point has impact ≥ MinImpact and effort ≤ MaxEffort.
func (s Selector) IsQuickWin(p PainPoint) bool {
	return p.Sized() && *p.Impact >= s.MinImpact && *p.Effort <= s.MaxEffort
}

func (s Selector) concerns(p PainPoint) bool {
	if len(s.Personas) == 0 {
		return true
	}
	for _, n := range s.Personas {
		if p.Concerns(n) {
			return true
		}
	}
	return false
}

// QuickWins returns the sized pain points with high impact and low effort,
// best first: highest impact, then lowest effort, then moments of truth and
// top tasks, then journey order.
func QuickWins(m Map, s Selector) []Located {
	var out []Located
	for _, p := range m.PainPoints() {
		if s.concerns(p.PainPoint) && s.IsQuickWin(p.PainPoint) {
			out = append(out, p)
		}
	}
	sortByPriority(out)
	return out
}

// LongTermPainPoints returns the sized pain points that are not quick wins
// under quickWins: the work of the Perfection phase, best first.
func LongTermPainPoints(m Map, quickWins Selector) []Located {
	var out []Located
	for _, p := range m.PainPoints() {
		if p.Sized() && quickWins.concerns(p.PainPoint) && !quickWins.IsQuickWin(p.PainPoint) {
			out = append(out, p)
		}
	}
	sortByPriority(out)
	return out
}

// Personalization is one touchpoint or pain point to tailor to one persona.
type Personalization struct {
	Stage         string
	Touchpoint    string
	Channel       string
	Owner         string
	MomentOfTruth bool
	// PainPoint is set when the item comes from a pain point marked personalize.
	PainPoint *PainPoint
	Persona   string
}

// Key is the item's stable key.
func (p Personalization) Key() string {
	id := ""
	if p.PainPoint != nil {
		id = p.PainPoint.ID
	}
	return PersonalizationKey(p.Stage, p.Touchpoint, id, p.Persona)
}

// PersonalizationCandidates returns one item per persona for every
// touchpoint and pain point marked personalize, limited to personas (empty
// means all declared personas). A pain point concerns only its own personas.
func PersonalizationCandidates(m Map, personas []string) []Personalization {
	want := func(n string) bool {
		if len(personas) == 0 {
			return true
		}
		for _, p := range personas {
			if p == n {
				return true
			}
		}
		return false
	}
	var out []Personalization
	for _, s := range m.Stages {
		for _, t := range s.Touchpoints {
			base := Personalization{Stage: s.Name, Touchpoint: t.Name, Channel: t.Channel, Owner: t.Owner, MomentOfTruth: t.MomentOfTruth}
			for _, persona := range m.PersonaNames() {
				if !want(persona) {
					continue
				}
				if t.Personalize {
					item := base
					item.Persona = persona
					out = append(out, item)
				}
				for i := range t.PainPoints {
					pp := t.PainPoints[i]
					if pp.Personalize && pp.Concerns(persona) {
						item := base
						item.Persona = persona
						item.PainPoint = &pp
						out = append(out, item)
					}
				}
			}
		}
	}
	return out
}

// Priority maps impact to a triage priority label: P1 for impact 5, P2 for
// 4, P3 for 3 and below or unsized.
func Priority(p PainPoint) string {
	switch {
	case p.Impact == nil:
		return "P3"
	case *p.Impact >= 5:
		return "P1"
	case *p.Impact == 4:
		return "P2"
	default:
		return "P3"
	}
}

func sortByPriority(ps []Located) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if *a.Impact != *b.Impact {
			return *a.Impact > *b.Impact
		}
		if *a.Effort != *b.Effort {
			return *a.Effort < *b.Effort
		}
		if a.MomentOfTruth != b.MomentOfTruth {
			return a.MomentOfTruth
		}
		if a.TopTask != b.TopTask {
			return a.TopTask
		}
		return false
	})
}
