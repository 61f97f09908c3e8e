package journey

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// fuzzReader hands out the fuzzer's bytes as small decisions; once they run
// out every decision is 0, so any input decodes to some map.
type fuzzReader struct{ b []byte }

func (r *fuzzReader) next() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *fuzzReader) n(max int) int { return int(r.next()) % (max + 1) }
func (r *fuzzReader) flag() bool    { return r.next()&1 == 1 }

// value is usually inside -2..5 (what admission lets through) and sometimes
// any int8, to show the analytics never trust the numbers blindly.
func (r *fuzzReader) value() int {
	c := r.next()
	if c&0x80 != 0 {
		return int(int8(r.next()))
	}
	return int(c%8) - 2
}

func (r *fuzzReader) optValue() *int {
	if !r.flag() {
		return nil
	}
	v := r.value()
	return &v
}

// name draws from a small pool, so that duplicates (which admission refuses
// for personas, stages and touchpoints, but not for pain point ids across
// stages) and references to undeclared personas both occur.
func (r *fuzzReader) name(prefix string) string { return fmt.Sprintf("%s-%d", prefix, r.n(5)) }

// fuzzMap decodes a journey map: up to 4 personas, 4 stages of up to 5
// touchpoints, each with experiences and pain points.
func fuzzMap(data []byte) (Map, map[string]bool, Selector) {
	r := &fuzzReader{b: data}
	var m Map
	for range r.n(4) {
		p := Persona{Name: r.name("persona")}
		for range r.n(2) {
			p.Goals = append(p.Goals, "a goal")
		}
		m.Personas = append(m.Personas, p)
	}
	channels := []string{"web", "phone", "email", "store", "other-channel"}
	for range r.n(4) {
		s := Stage{Name: r.name("stage")}
		for range r.n(5) {
			t := Touchpoint{Name: r.name("tp"), Channel: channels[r.n(len(channels)-1)], TopTask: r.flag(), MomentOfTruth: r.flag(), Personalize: r.flag()}
			if r.flag() {
				t.Owner = "Department"
			}
			for range r.n(3) {
				t.Experiences = append(t.Experiences, Experience{Persona: r.name("persona"), Score: r.value(), Target: r.optValue()})
			}
			for range r.n(3) {
				p := PainPoint{ID: r.name("pain"), Summary: "something", Impact: r.optValue(), Effort: r.optValue(), Personalize: r.flag()}
				for range r.n(2) {
					p.Personas = append(p.Personas, r.name("persona"))
				}
				t.PainPoints = append(t.PainPoints, p)
			}
			s.Touchpoints = append(s.Touchpoints, t)
		}
		m.Stages = append(m.Stages, s)
	}
	resolved := map[string]bool{}
	for range r.n(3) {
		resolved[r.name("pain")] = true
	}
	sel := Selector{MinImpact: r.n(6), MaxEffort: r.n(6)}
	for range r.n(2) {
		sel.Personas = append(sel.Personas, r.name("persona"))
	}
	return m, resolved, sel
}

// admissible reports whether the API server would have accepted the map
// and Validate finds nothing: unique names where the CRD keys lists by
// name, every number in range.
func admissible(m Map) bool {
	if len(Validate(m)) > 0 || !unique(m.PersonaNames()) {
		return false
	}
	var stages []string
	for _, s := range m.Stages {
		stages = append(stages, s.Name)
		var tps []string
		for _, t := range s.Touchpoints {
			tps = append(tps, t.Name)
			for _, e := range t.Experiences {
				if !inRange(&e.Score, -2, 2) || !inRange(e.Target, -2, 2) {
					return false
				}
			}
			for _, p := range t.PainPoints {
				if !inRange(p.Impact, 1, 5) || !inRange(p.Effort, 1, 5) {
					return false
				}
			}
		}
		if !unique(tps) {
			return false
		}
	}
	return unique(stages)
}

func inRange(v *int, lo, hi int) bool { return v == nil || (*v >= lo && *v <= hi) }

func unique(names []string) bool {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return false
		}
		seen[n] = true
	}
	return true
}

// FuzzAnalytics runs every analytic over arbitrary maps: none panics, the
// health score stays in 0..100, gaps and quick wins only name what is in
// the map, and on a map admission accepts the keys issues are filed under
// are unique.
func FuzzAnalytics(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{2, 0, 1, 1, 1, 1, 2, 0, 2, 1, 1, 1, 1, 1, 2, 0, 3, 1, 4, 2, 1, 0, 1, 5, 1, 1, 1, 3, 0})
	f.Add([]byte("a nature park with families and hikers, three stages and pain points everywhere"))
	f.Add([]byte{4, 0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5, 5, 5, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3})
	f.Add([]byte{1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0x80, 0x9c, 0, 1, 0, 1, 0x80, 0x81, 1, 0x80, 0x7f})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, resolved, sel := fuzzMap(data)

		problems := Validate(m)
		for _, p := range problems {
			if !strings.HasPrefix(p.Field, "spec.") || p.Message == "" {
				t.Errorf("problem does not name its field: %+v", p)
			}
		}

		if h := Health(m, resolved); h < 0 || h > 100 {
			t.Fatalf("health %d outside 0..100", h)
		}
		if h := Health(m, nil); h < 0 || h > 100 {
			t.Fatalf("health %d outside 0..100 with nothing resolved", h)
		}

		checkGaps(t, m)
		checkQuickWins(t, m, sel)

		s := Summarize(m, DefaultQuickWins)
		if s.Personas != len(m.Personas) || s.Stages != len(m.Stages) || s.PainPoints != len(m.PainPoints()) {
			t.Fatalf("summary %+v does not count the map", s)
		}
		if s.QuickWins != len(QuickWins(m, DefaultQuickWins)) {
			t.Fatalf("summary counts %d quick wins, QuickWins lists %d", s.QuickWins, len(QuickWins(m, DefaultQuickWins)))
		}
		if s.Channels > s.Touchpoints || s.MomentsOfTruth > s.Touchpoints || s.TopTasks > s.Touchpoints {
			t.Fatalf("summary counts more than the touchpoints: %+v", s)
		}

		for _, p := range LongTermPainPoints(m, sel) {
			if !p.Sized() || sel.IsQuickWin(p.PainPoint) {
				t.Fatalf("long-term pain point %q is unsized or a quick win", p.ID)
			}
		}
		personas := PersonalizationCandidates(m, sel.Personas)
		if admissible(m) {
			keys := map[string]bool{}
			for _, c := range personas {
				if keys[c.Key()] {
					t.Fatalf("two personalization items share key %q", c.Key())
				}
				keys[c.Key()] = true
			}
		}
	})
}

// checkGaps: every gap names a stage, touchpoint, persona and pain point
// that exist, and where it names several, they belong together.
func checkGaps(t *testing.T, m Map) {
	t.Helper()
	personas := map[string]bool{}
	for _, p := range m.Personas {
		personas[p.Name] = true
	}
	gaps := Gaps(m)
	keys := map[string]bool{}
	for _, g := range gaps {
		if g.Key == "" || g.Message == "" || !strings.HasPrefix(g.Key, "gap/") {
			t.Fatalf("gap without key or message: %+v", g)
		}
		if g.Persona != "" && !personas[g.Persona] {
			t.Fatalf("gap names undeclared persona %q: %+v", g.Persona, g)
		}
		if g.Stage != "" || g.Touchpoint != "" || g.PainPoint != "" {
			if !locatedIn(m, g) {
				t.Fatalf("gap names a place that is not in the map: %+v", g)
			}
		}
		if admissible(m) && keys[g.Key] {
			t.Fatalf("two gaps share key %q", g.Key)
		}
		keys[g.Key] = true
	}
}

func locatedIn(m Map, g Gap) bool {
	for _, s := range m.Stages {
		if g.Stage != "" && s.Name != g.Stage {
			continue
		}
		if g.Touchpoint == "" && g.PainPoint == "" {
			return true
		}
		for _, tp := range s.Touchpoints {
			if g.Touchpoint != "" && tp.Name != g.Touchpoint {
				continue
			}
			if g.PainPoint == "" {
				return true
			}
			for _, p := range tp.PainPoints {
				if p.ID == g.PainPoint {
					return true
				}
			}
		}
	}
	return false
}

// checkQuickWins: quick wins are sized pain points of the map that meet
// the selector, best first.
func checkQuickWins(t *testing.T, m Map, sel Selector) {
	t.Helper()
	wins := QuickWins(m, sel)
	all := len(m.PainPoints())
	if len(wins) > all {
		t.Fatalf("%d quick wins of %d pain points", len(wins), all)
	}
	for _, w := range wins {
		if !w.Sized() || *w.Impact < sel.MinImpact || *w.Effort > sel.MaxEffort || !sel.concerns(w.PainPoint) {
			t.Fatalf("quick win %q (impact %v, effort %v) does not meet %+v", w.ID, *w.Impact, *w.Effort, sel)
		}
	}
	if !sort.SliceIsSorted(wins, func(i, j int) bool {
		a, b := wins[i], wins[j]
		return *a.Impact > *b.Impact || (*a.Impact == *b.Impact && *a.Effort < *b.Effort)
	}) {
		t.Fatalf("quick wins are not best first: %v", ids(wins))
	}
}
