package journey

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func ip(v int) *int { return &v }

func pp(id string, impact, effort int, personas ...string) PainPoint {
	p := PainPoint{ID: id, Summary: "summary of " + id, Personas: personas}
	if impact > 0 {
		p.Impact = ip(impact)
	}
	if effort > 0 {
		p.Effort = ip(effort)
	}
	return p
}

// park is a small nature-park journey: two personas, three stages.
func park() Map {
	return Map{
		Personas: []Persona{
			{Name: "family", Goals: []string{"a safe day out with the children"}},
			{Name: "hiker", Goals: []string{"a long quiet walk"}},
		},
		Stages: []Stage{
			{Name: "orientation", Touchpoints: []Touchpoint{
				{Name: "website", Channel: "web", Owner: "Marketing", TopTask: true, MomentOfTruth: true,
					Experiences: []Experience{{Persona: "family", Score: 1}, {Persona: "hiker", Score: -1, Target: ip(2)}},
					PainPoints:  []PainPoint{pp("no-trail-map", 5, 1, "hiker"), pp("slow-site", 3, 4)}},
				{Name: "magazine", Channel: "print", Owner: "Communications",
					Experiences: []Experience{{Persona: "family", Score: 0}}},
			}},
			{Name: "booking", Touchpoints: []Touchpoint{
				{Name: "phone-reservation", Channel: "phone", Owner: "Visitor services", MomentOfTruth: true,
					Experiences: []Experience{{Persona: "family", Score: -2, Target: ip(1)}, {Persona: "hiker", Score: 0}},
					PainPoints:  []PainPoint{pp("long-wait", 4, 2, "family"), pp("no-callback", 4, 3)}},
			}},
			{Name: "visit", Touchpoints: []Touchpoint{
				{Name: "reception", Channel: "in-person", Owner: "Visitor services", MomentOfTruth: true, Personalize: true,
					Experiences: []Experience{{Persona: "family", Score: 2}, {Persona: "hiker", Score: 1}},
					PainPoints:  []PainPoint{{ID: "no-kids-tour", Summary: "no tour for children", Personas: []string{"family"}, Impact: ip(3), Effort: ip(3), Personalize: true}}},
			}},
		},
	}
}

func ids(ps []Located) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func TestQuickWins(t *testing.T) {
	tests := []struct {
		name string
		m    Map
		sel  Selector
		want []string
	}{
		{"default rule picks high impact low effort, highest impact first", park(), DefaultQuickWins, []string{"no-trail-map", "long-wait"}},
		{"persona filter keeps pain points of that persona and of all", park(), Selector{MinImpact: 3, MaxEffort: 4, Personas: []string{"hiker"}}, []string{"no-trail-map", "no-callback", "slow-site"}},
		{"stricter effort", park(), Selector{MinImpact: 4, MaxEffort: 1}, []string{"no-trail-map"}},
		{"unsized pain points are never quick wins", Map{Stages: []Stage{{Name: "s", Touchpoints: []Touchpoint{{Name: "t", PainPoints: []PainPoint{pp("x", 5, 0), pp("y", 0, 1)}}}}}}, DefaultQuickWins, nil},
		{"empty map", Map{}, DefaultQuickWins, nil},
		{"ties broken by effort then moment of truth then journey order",
			Map{Stages: []Stage{{Name: "s", Touchpoints: []Touchpoint{
				{Name: "a", PainPoints: []PainPoint{pp("a1", 4, 2), pp("a2", 4, 1)}},
				{Name: "b", MomentOfTruth: true, PainPoints: []PainPoint{pp("b1", 4, 2)}},
			}}}}, DefaultQuickWins, []string{"a2", "b1", "a1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(QuickWins(tt.m, tt.sel)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("QuickWins() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQuickWinCarriesItsPlace(t *testing.T) {
	got := QuickWins(park(), DefaultQuickWins)[1]
	want := Located{PainPoint: pp("long-wait", 4, 2, "family"), Stage: "booking", Touchpoint: "phone-reservation", Channel: "phone", Owner: "Visitor services", MomentOfTruth: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestLongTermPainPoints(t *testing.T) {
	tests := []struct {
		name string
		sel  Selector
		want []string
	}{
		{"everything sized that is not a quick win, best first", DefaultQuickWins, []string{"no-callback", "no-kids-tour", "slow-site"}},
		{"a looser quick-win rule leaves less for later", Selector{MinImpact: 3, MaxEffort: 3}, []string{"slow-site"}},
		{"persona filter drops the hiker-only pain point", Selector{MinImpact: 5, MaxEffort: 1, Personas: []string{"family"}}, []string{"long-wait", "no-callback", "no-kids-tour", "slow-site"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(LongTermPainPoints(park(), tt.sel)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LongTermPainPoints() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQuickWinsAndLongTermPartitionSizedPainPoints(t *testing.T) {
	m := big(140, 4)
	qw, lt := QuickWins(m, DefaultQuickWins), LongTermPainPoints(m, DefaultQuickWins)
	seen := map[string]int{}
	for _, p := range append(qw, lt...) {
		seen[p.ID]++
	}
	sized := 0
	for _, p := range m.PainPoints() {
		if p.Sized() {
			sized++
			if seen[p.ID] != 1 {
				t.Errorf("pain point %s appears %d times across quick wins and long term", p.ID, seen[p.ID])
			}
		}
	}
	if len(qw)+len(lt) != sized {
		t.Errorf("quick wins %d + long term %d != sized %d", len(qw), len(lt), sized)
	}
}

func TestPersonalizationCandidates(t *testing.T) {
	keys := func(ps []Personalization) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Key())
		}
		return out
	}
	tests := []struct {
		name     string
		personas []string
		want     []string
	}{
		{"a touchpoint for every persona, a pain point only for its own", nil, []string{
			"personalize/visit/reception/-/family", "personalize/visit/reception/no-kids-tour/family", "personalize/visit/reception/-/hiker"}},
		{"limited to one persona", []string{"hiker"}, []string{"personalize/visit/reception/-/hiker"}},
		{"unknown persona yields nothing", []string{"nobody"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keys(PersonalizationCandidates(park(), tt.personas)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGaps(t *testing.T) {
	kinds := func(gs []Gap) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Key)
		}
		return out
	}
	tests := []struct {
		name   string
		mutate func(*Map)
		want   []string
	}{
		{"a complete map has no gaps", func(*Map) {}, nil},
		{"persona not scored in a stage", func(m *Map) { m.Stages[1].Touchpoints[0].Experiences = m.Stages[1].Touchpoints[0].Experiences[:1] },
			[]string{"gap/persona-not-scored/booking/hiker"}},
		{"touchpoint without owner", func(m *Map) { m.Stages[0].Touchpoints[1].Owner = "" },
			[]string{"gap/touchpoint-without-owner/orientation/magazine"}},
		{"stage without moment of truth", func(m *Map) { m.Stages[2].Touchpoints[0].MomentOfTruth = false },
			[]string{"gap/stage-without-moment-of-truth/visit"}},
		{"pain point not sized", func(m *Map) { m.Stages[1].Touchpoints[0].PainPoints[1].Effort = nil },
			[]string{"gap/pain-point-not-sized/no-callback"}},
		{"persona without goals and no top task", func(m *Map) { m.Personas[1].Goals = nil; m.Stages[0].Touchpoints[0].TopTask = false },
			[]string{"gap/persona-without-goals/hiker", "gap/no-top-task/journey"}},
		{"a new persona is a gap in every stage", func(m *Map) { m.Personas = append(m.Personas, Persona{Name: "cyclist", Goals: []string{"ride"}}) },
			[]string{"gap/persona-not-scored/orientation/cyclist", "gap/persona-not-scored/booking/cyclist", "gap/persona-not-scored/visit/cyclist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := park()
			tt.mutate(&m)
			got := Gaps(m)
			if !reflect.DeepEqual(kinds(got), tt.want) {
				t.Errorf("Gaps() = %v, want %v", kinds(got), tt.want)
			}
			for _, g := range got {
				if g.Message == "" || !strings.Contains(g.Key, "gap/") {
					t.Errorf("gap %+v lacks a message or key", g)
				}
			}
		})
	}
}

func TestHealth(t *testing.T) {
	flat := func(score int, target *int, mot bool, pains ...PainPoint) Map {
		return Map{Personas: []Persona{{Name: "p"}}, Stages: []Stage{{Name: "s", Touchpoints: []Touchpoint{
			{Name: "t", MomentOfTruth: mot, Experiences: []Experience{{Persona: "p", Score: score, Target: target}}, PainPoints: pains}}}}}
	}
	tests := []struct {
		name     string
		m        Map
		resolved map[string]bool
		want     int
	}{
		{"delighted, at target, no pain", flat(2, ip(2), false), nil, 100},
		{"neutral, no targets, no pain", flat(0, nil, false), nil, 75},
		{"miserable, far from target, maximal pain", flat(-2, ip(2), false, pp("x", 5, 1)), nil, 0},
		{"resolved pain no longer counts", flat(-2, ip(2), false, pp("x", 5, 1)), map[string]bool{"x": true}, 25},
		{"unsized pain counts as impact 3", flat(0, nil, false, pp("x", 0, 0)), nil, 60},
		{"an unscored map is not healthy", Map{Stages: []Stage{{Name: "s", Touchpoints: []Touchpoint{{Name: "t"}}}}}, nil, 50},
		{"empty map", Map{}, nil, 50},
		{"moments of truth weigh three times", Map{Personas: []Persona{{Name: "p"}}, Stages: []Stage{{Name: "s", Touchpoints: []Touchpoint{
			{Name: "good", Experiences: []Experience{{Persona: "p", Score: 2}}},
			{Name: "bad", MomentOfTruth: true, Experiences: []Experience{{Persona: "p", Score: -2}}}}}}}, nil, 63},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Health(tt.m, tt.resolved); got != tt.want {
				t.Errorf("Health() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestHealthRisesAsQuickWinsAreDone(t *testing.T) {
	m := park()
	before := Health(m, nil)
	done := map[string]bool{}
	for _, p := range QuickWins(m, DefaultQuickWins) {
		done[p.ID] = true
	}
	if after := Health(m, done); after <= before {
		t.Errorf("health after quick wins %d, before %d: want a rise", after, before)
	}
}

func TestSummarize(t *testing.T) {
	got := Summarize(park(), DefaultQuickWins)
	want := Summary{Personas: 2, Stages: 3, Touchpoints: 4, Channels: 4, PainPoints: 5, QuickWins: 2, MomentsOfTruth: 3, TopTasks: 1}
	if got != want {
		t.Errorf("Summarize() = %+v, want %+v", got, want)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Map)
		want   []string
	}{
		{"valid", func(*Map) {}, nil},
		{"pain point id reused in another stage", func(m *Map) { m.Stages[2].Touchpoints[0].PainPoints[0].ID = "long-wait" },
			[]string{`spec.stages[2].touchpoints[0].painPoints[0].id: pain point id "long-wait" is already used at spec.stages[1].touchpoints[0].painPoints[0]; ids must be unique in the journey`}},
		{"undeclared personas", func(m *Map) {
			m.Stages[0].Touchpoints[1].Experiences[0].Persona = "ghost"
			m.Stages[1].Touchpoints[0].PainPoints[0].Personas = []string{"ghost"}
		}, []string{
			`spec.stages[0].touchpoints[1].experiences[0].persona: persona "ghost" is not declared in spec.personas`,
			`spec.stages[1].touchpoints[0].painPoints[0].personas[0]: persona "ghost" is not declared in spec.personas`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := park()
			tt.mutate(&m)
			var got []string
			for _, p := range Validate(m) {
				got = append(got, p.Error())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKeysAreStable(t *testing.T) {
	// The same pain point yields the same key whatever else changes.
	m := park()
	before := QuickWins(m, DefaultQuickWins)[0]
	m.Stages[0].Touchpoints[0].PainPoints[0].Summary = "reworded"
	m.Stages = append([]Stage{{Name: "dreaming", Touchpoints: []Touchpoint{{Name: "tv-ad", Channel: "tv"}}}}, m.Stages...)
	after := QuickWins(m, DefaultQuickWins)[0]
	if PainPointKey(before.ID) != PainPointKey(after.ID) || PainPointKey(after.ID) != "painpoint/no-trail-map" {
		t.Errorf("pain point key changed: %s vs %s", PainPointKey(before.ID), PainPointKey(after.ID))
	}
	if got := GapKey(PersonaNotScored, "booking", "hiker"); got != "gap/persona-not-scored/booking/hiker" {
		t.Errorf("GapKey = %s", got)
	}
}

// big builds a map of n touchpoints and p personas spread over 7 stages,
// every persona scored and one pain point per touchpoint.
func big(n, p int) Map {
	var m Map
	for i := 0; i < p; i++ {
		m.Personas = append(m.Personas, Persona{Name: fmt.Sprintf("persona-%d", i), Goals: []string{"goal"}})
	}
	stages := 7
	for s := 0; s < stages; s++ {
		m.Stages = append(m.Stages, Stage{Name: fmt.Sprintf("stage-%d", s)})
	}
	for i := 0; i < n; i++ {
		t := Touchpoint{Name: fmt.Sprintf("tp-%d", i), Channel: fmt.Sprintf("channel-%d", i%19), Owner: "dept", MomentOfTruth: (i/stages)%3 == 0, TopTask: i%10 == 0}
		for j := 0; j < p; j++ {
			t.Experiences = append(t.Experiences, Experience{Persona: m.Personas[j].Name, Score: (i+j)%5 - 2, Target: ip(2)})
		}
		t.PainPoints = []PainPoint{pp(fmt.Sprintf("pp-%d", i), i%5+1, (i/5)%5+1)}
		m.Stages[i%stages].Touchpoints = append(m.Stages[i%stages].Touchpoints, t)
	}
	return m
}

func TestFullSizeMap(t *testing.T) {
	m := big(140, 4)
	if s := Summarize(m, DefaultQuickWins); s.Touchpoints != 140 || s.Channels != 19 || s.PainPoints != 140 {
		t.Errorf("summary %+v", s)
	}
	if gaps := Gaps(m); len(gaps) != 0 {
		t.Errorf("a complete 140-touchpoint map has gaps: %v", gaps[0])
	}
	if problems := Validate(m); len(problems) != 0 {
		t.Errorf("problems: %v", problems)
	}
	if h := Health(m, nil); h <= 0 || h >= 100 {
		t.Errorf("health %d out of the open range", h)
	}
}

func BenchmarkAnalytics140Touchpoints(b *testing.B) {
	m := big(140, 4)
	b.ReportAllocs()
	for b.Loop() {
		Summarize(m, DefaultQuickWins)
		Gaps(m)
		Health(m, nil)
		QuickWins(m, DefaultQuickWins)
		LongTermPainPoints(m, DefaultQuickWins)
		PersonalizationCandidates(m, nil)
		Validate(m)
	}
}
