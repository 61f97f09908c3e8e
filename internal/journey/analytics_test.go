package journey

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/outcome"
)

// one is a map of one stage whose touchpoints are given.
func one(tps ...Touchpoint) Map {
	return Map{Personas: []Persona{{Name: "p", Goals: []string{"g"}}}, Stages: []Stage{{Name: "s", Touchpoints: tps}}}
}

func scored(name string, scores ...int) Touchpoint {
	t := Touchpoint{Name: name, Owner: "o"}
	for i, s := range scores {
		t.Experiences = append(t.Experiences, Experience{Persona: string(rune('a' + i)), Score: s})
	}
	return t
}

// TestHealthFormula: each term of the documented formula, on maps small
// enough to work out by hand.
func TestHealthFormula(t *testing.T) {
	top := scored("bad", -2)
	top.TopTask = true
	both := top
	both.MomentOfTruth = true
	withTarget := func(score, target int) Touchpoint {
		tp := scored("t", score)
		tp.Experiences[0].Target = ip(target)
		return tp
	}
	withPain := func(ps ...PainPoint) Touchpoint {
		tp := scored("t", 2)
		tp.PainPoints = ps
		return tp
	}
	reading := func(v, target float64, dir outcome.Direction) Touchpoint {
		return Touchpoint{Name: "m", Readings: []Reading{{Measure: "x", Value: v, Target: target, Direction: dir}}}
	}
	for _, tt := range []struct {
		name string
		m    Map
		want int
	}{
		// F = Σw·feel/Σw, T = 1, P = 1: 100·(0.5F + 0.5).
		{"a top task weighs twice: F = 1/3", one(scored("good", 2), top), 67},
		{"a moment of truth that is a top task weighs four times: F = 1/5", one(scored("good", 2), both), 60},
		{"the personas of a touchpoint are averaged", one(scored("t", 2, -2)), 75},
		{"scores beyond +2 are clamped", one(scored("t", 10)), 100},
		{"scores beyond -2 are clamped", one(scored("t", -10)), 50},
		// T: the shortfall to the target, never a credit for beating it.
		{"beating the target is no credit", one(withTarget(2, 0)), 100},
		{"a target of +2 from -2 is the whole scale", one(withTarget(-2, 2)), 25},
		{"a target beyond the scale is clamped", one(withTarget(0, 9)), 63},
		// P = 1 − min(1, Σw·impact/5 / Σw).
		{"impact 1", one(withPain(pp("a", 1, 1))), 95},
		{"an impact below the scale counts as 1", one(withPain(PainPoint{ID: "a", Impact: ip(-3), Effort: ip(1)})), 95},
		{"an impact above the scale counts as 5", one(withPain(PainPoint{ID: "a", Impact: ip(99), Effort: ip(1)})), 75},
		{"pain is capped at the whole weight", one(withPain(pp("a", 5, 1), pp("b", 5, 1), pp("c", 5, 1))), 75},
		// Readings: T from the measured shortfall, relative to the target.
		{"a map of readings only has no feeling", one(reading(4, 4, outcome.HigherIsBetter)), 50},
		{"half short", one(reading(2, 4, outcome.HigherIsBetter)), 38},
		{"lower is better, twice the target", one(reading(0.4, 0.2, outcome.LowerIsBetter)), 25},
		{"any miss of a zero target is the whole shortfall", one(reading(0.001, 0, outcome.LowerIsBetter)), 25},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Health(tt.m, nil); got != tt.want {
				t.Errorf("Health() = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestHealthStaysInRange: maps that bypassed admission still score 0..100.
func TestHealthStaysInRange(t *testing.T) {
	huge := Touchpoint{Name: "t", MomentOfTruth: true, TopTask: true,
		Experiences: []Experience{{Persona: "p", Score: math.MaxInt32, Target: ip(math.MinInt32)}, {Persona: "q", Score: math.MinInt32, Target: ip(math.MaxInt32)}},
		PainPoints:  []PainPoint{{ID: "x", Impact: ip(math.MaxInt32), Effort: ip(-1)}, {ID: "y"}},
		Readings: []Reading{
			{Value: math.MaxFloat64, Target: -math.MaxFloat64, Direction: outcome.LowerIsBetter},
			{Value: -math.MaxFloat64, Target: math.SmallestNonzeroFloat64, Direction: outcome.HigherIsBetter},
		}}
	for _, m := range []Map{one(huge), one(huge, huge, scored("calm", 0)), {Stages: []Stage{{Name: "empty"}}}} {
		if h := Health(m, nil); h < 0 || h > 100 {
			t.Errorf("Health = %d, outside 0..100", h)
		}
	}
}

func TestPriority(t *testing.T) {
	for _, tt := range []struct {
		impact *int
		want   string
	}{{nil, "P3"}, {ip(1), "P3"}, {ip(3), "P3"}, {ip(4), "P2"}, {ip(5), "P1"}, {ip(9), "P1"}, {ip(-1), "P3"}} {
		if got := Priority(PainPoint{Impact: tt.impact}); got != tt.want {
			t.Errorf("Priority(%v) = %s, want %s", tt.impact, got, tt.want)
		}
	}
}

func TestSelectorBounds(t *testing.T) {
	for _, tt := range []struct {
		name   string
		p      PainPoint
		sel    Selector
		result bool
	}{
		{"at both bounds", pp("a", 4, 2), DefaultQuickWins, true},
		{"impact just under", pp("a", 3, 1), DefaultQuickWins, false},
		{"effort just over", pp("a", 5, 3), DefaultQuickWins, false},
		{"no effort", pp("a", 5, 0), DefaultQuickWins, false},
		{"no impact", pp("a", 0, 1), DefaultQuickWins, false},
		{"a zero selector takes any sized pain point of effort 0 or less only", pp("a", 1, 1), Selector{}, false},
	} {
		if got := tt.sel.IsQuickWin(tt.p); got != tt.result {
			t.Errorf("%s: IsQuickWin = %v", tt.name, got)
		}
	}
	for _, tt := range []struct {
		personas, sel []string
		want          bool
	}{
		{nil, nil, true},
		{nil, []string{"x"}, true},
		{[]string{"a"}, nil, true},
		{[]string{"a"}, []string{"b", "a"}, true},
		{[]string{"a"}, []string{"b"}, false},
		{[]string{"a"}, []string{"A"}, false},
	} {
		if got := (Selector{Personas: tt.sel}).concerns(PainPoint{Personas: tt.personas}); got != tt.want {
			t.Errorf("pain point of %v, selector %v: concerns %v, want %v", tt.personas, tt.sel, got, tt.want)
		}
	}
}

func TestKeys(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{GapKey(MeasureMissesTarget, "s", "t", "m"), "gap/measure-misses-target/s/t/m"},
		{GapKey(NoTopTask), "gap/no-top-task/"},
		{GapKey(StageWithoutMomentOfTruth, "a/b"), "gap/stage-without-moment-of-truth/a/b"},
		{GapKey("lower"), "gap/lower/"},
		{PersonalizationKey("s", "t", "", "p"), "personalize/s/t/-/p"},
		{PersonalizationKey("s", "t", "pp", "p"), "personalize/s/t/pp/p"},
		{PainPointKey(""), "painpoint/"},
		{kebab("ABC"), "a-b-c"},
		{kebab("already-kebab"), "already-kebab"},
	} {
		if tt.got != tt.want {
			t.Errorf("key %q, want %q", tt.got, tt.want)
		}
	}
}

// TestGapMessages: the gaps say what is missing, in journey order.
func TestGapMessages(t *testing.T) {
	m := Map{
		Personas: []Persona{{Name: "p"}},
		Stages: []Stage{{Name: "s", Touchpoints: []Touchpoint{{Name: "t", PainPoints: []PainPoint{
			{ID: "both"}, {ID: "impact", Effort: ip(1)}, {ID: "effort", Impact: ip(1)},
		}}}}},
	}
	var got []string
	for _, g := range Gaps(m) {
		got = append(got, g.Message)
	}
	want := []string{
		`persona "p" has no goals: which tasks does it come to do?`,
		"no touchpoint is marked as a top task: which few tasks do most customers come to do?",
		`stage "s" has no moment of truth: where do customers make up their mind here?`,
		`persona "p" has no experience score in stage "s": how does it feel there?`,
		`touchpoint "t" in stage "s" has no owner: which department is accountable?`,
		`pain point "both" at touchpoint "t" has no impact and effort yet`,
		`pain point "impact" at touchpoint "t" has no impact yet`,
		`pain point "effort" at touchpoint "t" has no effort yet`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("messages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if gaps := Gaps(Map{Personas: []Persona{{Name: "p", Goals: []string{"g"}}}}); len(gaps) != 0 {
		t.Errorf("a map without stages asks for a top task: %+v", gaps)
	}
	// A stage without touchpoints lacks its moment of truth and its scores.
	if gaps := Gaps(Map{Personas: []Persona{{Name: "p", Goals: []string{"g"}}}, Stages: []Stage{{Name: "empty"}}}); len(gaps) != 3 {
		t.Errorf("gaps of an empty stage: %+v", gaps)
	}
}

func TestSummarizeCounts(t *testing.T) {
	m := one(
		Touchpoint{Name: "a", Channel: "web", TopTask: true, PainPoints: []PainPoint{pp("x", 5, 1, "someone-else"), pp("y", 1, 5)}},
		Touchpoint{Name: "b", Channel: "web", MomentOfTruth: true},
		Touchpoint{Name: "c"},
		Touchpoint{Name: "d"},
	)
	got := Summarize(m, Selector{MinImpact: 4, MaxEffort: 2, Personas: []string{"p"}})
	// Channels: "web" and "" (no channel); quick wins by size, whatever the persona.
	want := Summary{Personas: 1, Stages: 1, Touchpoints: 4, Channels: 2, PainPoints: 2, QuickWins: 1, MomentsOfTruth: 1, TopTasks: 1}
	if got != want {
		t.Errorf("Summarize() = %+v, want %+v", got, want)
	}
	if got := Summarize(Map{}, DefaultQuickWins); got != (Summary{}) {
		t.Errorf("Summarize(empty) = %+v", got)
	}
}

func TestValidateDuplicates(t *testing.T) {
	m := one(
		Touchpoint{Name: "a", PainPoints: []PainPoint{{ID: "x"}, {ID: "x"}}},
		Touchpoint{Name: "b", PainPoints: []PainPoint{{ID: "x"}}, Experiences: []Experience{{Persona: ""}}},
	)
	var got []string
	for _, p := range Validate(m) {
		got = append(got, p.Field)
		if strings.Contains(p.Message, "already used") && !strings.Contains(p.Message, "at spec.stages[0].touchpoints[0].painPoints[0];") {
			t.Errorf("a duplicate points elsewhere than the first use: %s", p.Message)
		}
	}
	want := []string{
		"spec.stages[0].touchpoints[0].painPoints[1].id",
		"spec.stages[0].touchpoints[1].experiences[0].persona",
		"spec.stages[0].touchpoints[1].painPoints[0].id",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems at %q, want %q", got, want)
	}
	if p := (Problem{Field: "f", Message: "m"}); p.Error() != "f: m" {
		t.Errorf("Error() = %q", p.Error())
	}
}

func TestPersonalizationOfPainPoints(t *testing.T) {
	m := Map{
		Personas: []Persona{{Name: "a"}, {Name: "b"}},
		Stages: []Stage{{Name: "s", Touchpoints: []Touchpoint{
			{Name: "plain", PainPoints: []PainPoint{
				{ID: "for-all", Personalize: true},
				{ID: "for-b", Personalize: true, Personas: []string{"b", "ghost"}},
				{ID: "not-marked"},
			}},
		}}},
	}
	var got []string
	for _, p := range PersonalizationCandidates(m, nil) {
		got = append(got, p.Key())
		if p.PainPoint == nil {
			t.Errorf("%s: a touchpoint not marked personalize", p.Key())
		}
	}
	want := []string{"personalize/s/plain/for-all/a", "personalize/s/plain/for-all/b", "personalize/s/plain/for-b/b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("candidates %v, want %v", got, want)
	}
	// Each item holds its own pain point, not the loop's last one.
	items := PersonalizationCandidates(m, []string{"b"})
	if len(items) != 2 || items[0].PainPoint.ID != "for-all" || items[1].PainPoint.ID != "for-b" {
		t.Errorf("items for b: %+v", items)
	}
	if got := PersonalizationCandidates(m, []string{"ghost"}); got != nil {
		t.Errorf("an undeclared persona got %d items", len(got))
	}
}

func TestMapListings(t *testing.T) {
	m := park()
	if got := m.PersonaNames(); !reflect.DeepEqual(got, []string{"family", "hiker"}) {
		t.Errorf("PersonaNames() = %v", got)
	}
	if got := (Map{}).PersonaNames(); got == nil || len(got) != 0 {
		t.Errorf("PersonaNames() of no personas = %#v, want empty", got)
	}
	var where []string
	for _, p := range m.PainPoints() {
		where = append(where, p.Stage+"/"+p.Touchpoint+"/"+p.ID)
	}
	want := []string{"orientation/website/no-trail-map", "orientation/website/slow-site", "booking/phone-reservation/long-wait", "booking/phone-reservation/no-callback", "visit/reception/no-kids-tour"}
	if !reflect.DeepEqual(where, want) {
		t.Errorf("PainPoints() in %v, want journey order %v", where, want)
	}
}
