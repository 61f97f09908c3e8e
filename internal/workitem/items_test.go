package workitem

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/tracker"
)

// bodyHas checks that body contains every want and none of wantNot.
func bodyHas(t *testing.T, body string, want, wantNot []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("body lacks %q:\n%s", w, body)
		}
	}
	for _, w := range wantNot {
		if strings.Contains(body, w) {
			t.Errorf("body has %q:\n%s", w, body)
		}
	}
}

func TestGapItemOfEachKind(t *testing.T) {
	for _, tc := range []struct {
		gap       journey.Gap
		title     string
		checklist []string
		rows      []string
		noRows    []string
	}{
		{journey.Gap{Kind: journey.PersonaNotScored, Stage: "visit", Persona: "family"},
			"Map gap: score how family feels in stage visit",
			[]string{"Walked stage visit as family (be your own customer)", "Added an experience score for family"},
			[]string{"| Where | stage visit |", "| Persona | family |"}, []string{"| Measure |", "| Pain point |"}},
		{journey.Gap{Kind: journey.TouchpointWithoutOwner, Stage: "visit", Touchpoint: "gate"},
			"Map gap: find an owner for touchpoint gate (visit)",
			[]string{"A department agreed to own touchpoint gate", "Set the touchpoint's owner in the map"},
			[]string{"| Where | stage visit, touchpoint gate |"}, []string{"| Persona |"}},
		{journey.Gap{Kind: journey.StageWithoutMomentOfTruth, Stage: "planning"},
			"Map gap: find the moment of truth of stage planning",
			[]string{"Found where customers make up their mind in stage planning", "Marked that touchpoint momentOfTruth"},
			[]string{"| Gap | StageWithoutMomentOfTruth |", "| Where | stage planning |"}, nil},
		{journey.Gap{Kind: journey.PainPointNotSized, Stage: "visit", Touchpoint: "restaurant", PainPoint: "menu"},
			"Map gap: size pain point menu at restaurant",
			[]string{"Estimated impact (1-5)", "Estimated effort (1-5)", "Set impact and effort of menu in the map"},
			[]string{"| Pain point | menu |"}, nil},
		{journey.Gap{Kind: journey.PersonaWithoutGoals, Persona: "hiker"},
			"Map gap: write down the goals of persona hiker",
			[]string{"Asked customers like hiker what they come to do", "Added the persona's goals"},
			[]string{"| Where | the whole journey |"}, []string{"| Stage |"}},
		{journey.Gap{Kind: journey.NoTopTask},
			"Map gap: mark the journey's top tasks",
			[]string{"The map no longer has this gap"},
			[]string{"| Gap | NoTopTask |", "| Where | the whole journey |"}, nil},
		{journey.Gap{Kind: journey.MeasureMissesTarget, Stage: "arrival", Touchpoint: "parking", Measure: "wait-minutes", Value: "14", Target: "5"},
			"Map gap: wait-minutes misses its target at touchpoint parking (arrival)",
			[]string{"Found why customers feel touchpoint parking below target (wait-minutes 14, target 5)", "Added the cause to the map as a sized pain point"},
			[]string{"| Measure | wait-minutes |", "| Measured value | 14 |", "| Target | 5 |"}, nil},
		{journey.Gap{Kind: "SomethingNew", Message: "A gap of a kind this version does not know"},
			"Map gap: A gap of a kind this version does not know",
			[]string{"The map no longer has this gap"},
			[]string{"> A gap of a kind this version does not know"}, nil},
	} {
		t.Run(string(tc.gap.Kind), func(t *testing.T) {
			g := tc.gap
			g.Key = journey.GapKey(g.Kind, "x")
			it := ForGap(phase, g)
			if it.Title != tc.title || it.Key != g.Key {
				t.Errorf("item %q %q, want %q %q", it.Key, it.Title, g.Key, tc.title)
			}
			var items []string
			for _, c := range tc.checklist {
				items = append(items, "- [ ] "+c)
			}
			bodyHas(t, it.Body, append(items, tc.rows...), tc.noRows)
			want := Source{Kind: KindGap, Stage: g.Stage, Touchpoint: g.Touchpoint, PainPoint: g.PainPoint, Persona: g.Persona}
			if it.Source != want {
				t.Errorf("source %+v, want %+v", it.Source, want)
			}
			if it.Labels[0] != "phase:improve" || slices.ContainsFunc(it.Labels, func(l string) bool { return strings.HasPrefix(l, "priority:") }) {
				t.Errorf("labels %v", it.Labels)
			}
		})
	}
}

func TestPainPointTouchpointFlagsAndDefaults(t *testing.T) {
	for _, tc := range []struct {
		name        string
		mot, top    bool
		personas    []string
		owner       string
		touchpoint  string
		department  string
		walkedAs    string
		personaCell string
	}{
		{"plain", false, false, []string{"family"}, "Rangers", "| Touchpoint | gate |", "| Owning department | Rangers |", "Walked the journey as family", "| Personas | family |"},
		{"top task", false, true, nil, "", "| Touchpoint | gate (top task) |", "| Owning department | not set |", "Walked the journey as all personas", "| Personas | all personas |"},
		{"both", true, true, []string{"family", "hiker"}, "", "| Touchpoint | gate (moment of truth, top task) |", "| Owning department | not set |", "Walked the journey as family, hiker", "| Personas | family, hiker |"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := journey.Located{
				PainPoint: journey.PainPoint{ID: "queue", Summary: "Queue", Personas: tc.personas, Impact: ip(3), Effort: ip(4)},
				Stage:     "arrival", Touchpoint: "gate", Channel: "in-person", Owner: tc.owner, MomentOfTruth: tc.mot, TopTask: tc.top,
			}
			it := ForPainPoint(phase, p, LongTermReason(p.PainPoint, journey.DefaultQuickWins))
			bodyHas(t, it.Body, []string{tc.touchpoint, tc.department, tc.walkedAs, tc.personaCell,
				"A fix is live at touchpoint gate (in-person)", "| Priority | P3 |",
				"| Why this phase | long-term improvement: impact 3, effort 4 (not a quick win, which needs impact ≥ 4 and effort ≤ 2) |"}, nil)
			if tc.owner == "" {
				if _, ok := it.Board.Values()[tracker.FieldDepartment]; ok {
					t.Errorf("an unknown department is set on the board: %v", it.Board.Values())
				}
			}
		})
	}
}

func TestPainPointLabels(t *testing.T) {
	for _, tc := range []struct {
		name     string
		personas []string
		extra    []string
		want     []string
	}{
		{"one persona", []string{"family"}, nil, []string{"phase:improve", "persona:family", "stage:arrival", "priority:P2"}},
		{"every persona", nil, nil, []string{"phase:improve", "stage:arrival", "priority:P2"}},
		{"two personas", []string{"family", "hiker"}, nil, []string{"phase:improve", "stage:arrival", "priority:P2", "persona:family", "persona:hiker"}},
		{"a persona twice", []string{"family", "family"}, nil, []string{"phase:improve", "stage:arrival", "priority:P2", "persona:family"}},
		{"the journey's labels", []string{"family"}, []string{"cx", "persona:family", "cx", "stage:arrival"},
			[]string{"phase:improve", "persona:family", "stage:arrival", "priority:P2", "cx"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ph := phase
			ph.Labels = tc.extra
			p := journey.Located{PainPoint: journey.PainPoint{ID: "q", Summary: "Q", Personas: tc.personas, Impact: ip(4), Effort: ip(3)}, Stage: "arrival", Touchpoint: "gate"}
			if got := ForPainPoint(ph, p, "why").Labels; !slices.Equal(got, tc.want) {
				t.Errorf("labels %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLabelsAreCutToGitHubsLimit(t *testing.T) {
	longPersona := strings.Repeat("é", 60) // two bytes each
	ph := phase
	ph.Labels = []string{strings.Repeat("x", 50), strings.Repeat("y", 51)}
	it := ForPersonalization(ph, journey.Personalization{Stage: "visit", Touchpoint: "gate", Persona: longPersona})
	want := []string{"phase:improve", "persona:" + strings.Repeat("é", 42), "stage:visit", strings.Repeat("x", 50), strings.Repeat("y", 50)}
	if !slices.Equal(it.Labels, want) {
		t.Errorf("labels %q, want %q", it.Labels, want)
	}
	for _, l := range it.Labels {
		if n := len([]rune(l)); n > 50 {
			t.Errorf("label %q has %d characters", l, n)
		}
	}
}

func TestTableCellsKeepTheTable(t *testing.T) {
	p := journey.Located{
		PainPoint: journey.PainPoint{ID: "q", Summary: "Queue", Impact: ip(2), Effort: ip(2)},
		Stage:     "arrival", Touchpoint: "gate", Channel: "in-person", Owner: "Tickets | Gates <b>",
	}
	it := ForPainPoint(phase, p, "why | because")
	bodyHas(t, it.Body, []string{`| Owning department | Tickets \| Gates &lt;b&gt; |`, `| Why this phase | why \| because |`}, []string{"<b>"})
}

// A summary with line breaks stays inside its cell: it does not end the
// table and start a checklist item or a heading of its own.
func TestMultiLineTextStaysInItsCell(t *testing.T) {
	pain := journey.Personalization{Stage: "visit", Touchpoint: "gate", Persona: "family",
		PainPoint: &journey.PainPoint{ID: "menu", Summary: "No menu\n- [x] Cause written down\n# Fixed"}}
	it := ForPersonalization(phase, pain)
	for _, line := range strings.Split(it.Body, "\n") {
		if strings.HasPrefix(line, "- [x]") || strings.HasPrefix(line, "# Fixed") {
			t.Errorf("the summary broke out of its cell: %q\n%s", line, it.Body)
		}
	}
	if !strings.Contains(it.Body, "| Pain point | No menu - \\[x\\] Cause written down # Fixed |") {
		t.Errorf("the summary is not kept on one line of its cell:\n%s", it.Body)
	}
}

func TestFooterNamesOnlyWhatIsKnown(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ph      Phase
		want    string
		wantNot []string
	}{
		{"everything", phase, "Journey **nature-park-visit** (namespace parks, owner Visitor Experience) · phase **park-improve** (Improve, owner Digital, deadline 2027-04-30)", nil},
		{"no owners or deadline", Phase{Namespace: "ns", Journey: "j", Name: "p", Type: "Discovery"},
			"Journey **j** (namespace ns, owner not set) · phase **p** (Discovery)\n", []string{"deadline", "(Discovery, owner"}},
		{"deadline only", Phase{Namespace: "ns", Journey: "j", JourneyOwner: "CX", Name: "p", Type: "Perfection", Deadline: "2027-01-01"},
			"(namespace ns, owner CX) · phase **p** (Perfection, deadline 2027-01-01)", []string{"(Perfection, owner"}},
		{"mentions", Phase{Namespace: "ns", Journey: "j", JourneyOwner: "@cx-team", Name: "p", Type: "Improve", Owner: "@octocat"},
			"", []string{"owner @cx-team", "owner @octocat"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := ForPhaseParent(tc.ph).Body
			bodyHas(t, body, []string{tc.want, "_Opened by cxloop. Close this issue when the work is done"}, tc.wantNot)
		})
	}
}

func TestPersonalizationOfATouchpointAndOfAPainPoint(t *testing.T) {
	touch := journey.Personalization{Stage: "visit", Touchpoint: "restaurant", Channel: "partner", Persona: "family", MomentOfTruth: true}
	it := ForPersonalization(phase, touch)
	if it.Key != "personalize/visit/restaurant/-/family" || it.Title != "Personalize restaurant for family" {
		t.Errorf("touchpoint item %q %q", it.Key, it.Title)
	}
	bodyHas(t, it.Body, []string{"Tailor touchpoint restaurant one-to-one for the persona **family**", "| Touchpoint | restaurant (moment of truth) |",
		"| Owning department | not set |", "| Why this phase | marked personalize in the journey map |", "- [ ] Walked the journey as family: it feels made for them"},
		[]string{"| Pain point |", "top task"})
	if want := []string{"phase:improve", "persona:family", "stage:visit", "customer-journey"}; !slices.Equal(it.Labels, want) {
		t.Errorf("labels %v, want %v (no priority without a pain point)", it.Labels, want)
	}
	if it.Source != (Source{Kind: KindPersonalization, Stage: "visit", Touchpoint: "restaurant", Persona: "family"}) {
		t.Errorf("source %+v", it.Source)
	}
	if got, want := it.Board.Values(), map[string]string{"Phase": "Improve", "Stage": "visit", "Persona": "family", "Channel": "partner"}; !maps.Equal(got, want) {
		t.Errorf("board %v, want %v", got, want)
	}

	unsized := journey.PainPoint{ID: "menu", Summary: "No menu in English"}
	pain := touch
	pain.PainPoint = &unsized
	it = ForPersonalization(phase, pain)
	bodyHas(t, it.Body, []string{"Tailor pain point menu at touchpoint restaurant", "| Pain point | No menu in English |"}, nil)
	if !slices.Contains(it.Labels, "priority:P3") || it.Source.PainPoint != "menu" {
		t.Errorf("unsized pain point: labels %v source %+v", it.Labels, it.Source)
	}
	if v := it.Board.Values(); v[tracker.FieldImpact] != "" || v[tracker.FieldEffort] != "" {
		t.Errorf("an unsized pain point has board impact/effort: %v", v)
	}
	half := journey.PainPoint{ID: "menu", Summary: "No menu", Effort: ip(2)}
	pain.PainPoint = &half
	if v := ForPersonalization(phase, pain).Board.Values(); v[tracker.FieldEffort] != "2" || v[tracker.FieldImpact] != "" {
		t.Errorf("a pain point with only an effort: board %v", v)
	}
}

func TestBoardValuesLeaveOutWhatIsNotSet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		board Board
		want  map[string]string
	}{
		{"nothing", Board{}, map[string]string{}},
		{"zero and negative numbers", Board{Phase: "Improve", Impact: 0, Effort: -1}, map[string]string{"Phase": "Improve"}},
		{"everything", Board{Phase: "Perfection", Stage: "s", Persona: "p", Channel: "web", Department: "d", Impact: 5, Effort: 3, QuickWin: "No"},
			map[string]string{"Phase": "Perfection", "Stage": "s", "Persona": "p", "Channel": "web", "Department": "d", "Impact": "5", "Effort": "3", "Quick win": "No"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.board.Values()
			if !maps.Equal(got, tc.want) {
				t.Errorf("Values = %v, want %v", got, tc.want)
			}
			for name := range got {
				if !slices.ContainsFunc(tracker.BoardFields, func(f tracker.BoardFieldSpec) bool { return f.Name == name }) {
					t.Errorf("%q is not a board field", name)
				}
			}
		})
	}
}

func TestQuickWinFollowsTheReason(t *testing.T) {
	p := journey.Located{PainPoint: journey.PainPoint{ID: "q", Summary: "Q", Impact: ip(5), Effort: ip(1)}, Stage: "s", Touchpoint: "t"}
	for why, want := range map[string]string{
		QuickWinReason(p.PainPoint, journey.Selector{MinImpact: 3, MaxEffort: 3}): "Yes",
		LongTermReason(p.PainPoint, journey.DefaultQuickWins):                     "No",
		"Quick win (capitalised)":                                                 "No",
		"":                                                                        "No",
	} {
		if got := ForPainPoint(phase, p, why).Board.QuickWin; got != want {
			t.Errorf("reason %q: Quick win %q, want %q", why, got, want)
		}
	}
	if got := QuickWinReason(p.PainPoint, journey.Selector{MinImpact: 3, MaxEffort: 3}); got != "quick win: impact 5 ≥ 3 and effort 1 ≤ 3" {
		t.Errorf("QuickWinReason = %q", got)
	}
}

// TestIsDigestKey: only what TrackerKey makes of an over-long key has the
// form of a digest; a made-up "h/..." marker does not.
func TestIsDigestKey(t *testing.T) {
	for k, want := range map[string]bool{
		TrackerKey("parks", strings.Repeat("j", 250), "painpoint/x"): true,
		"h/" + strings.Repeat("0a", 16):                              true,
		"h/" + strings.Repeat("0A", 16):                              false,
		"h/" + strings.Repeat("0a", 15):                              false,
		"h/" + strings.Repeat("0a", 17):                              false,
		"h/" + strings.Repeat("0g", 16):                              false,
		"h/x":                                                        false,
		"h/":                                                         false,
		"h/visit/painpoint/x":                                        false,
		"parks/visit/painpoint/x":                                    false,
	} {
		if got := IsDigestKey(k); got != want {
			t.Errorf("IsDigestKey(%q) = %v, want %v", k, got, want)
		}
	}
}

func TestTrackerKeysOfAJourneyShareItsPrefix(t *testing.T) {
	for _, tc := range []struct {
		name, ns, journey, item string
		hashed                  bool
	}{
		{"short", "parks", "visit", "painpoint/x", false},
		{"gap", "parks", "visit", "gap/persona-not-scored/visit/family", false},
		{"over-long", "parks", strings.Repeat("j", 250), "painpoint/x", true},
		{"invalid characters", "parks", "visit", "painpoint/a key with spaces", true},
		{"a namespace called h", "h", "visit", "painpoint/x", false},
		{"over-long in a namespace called h", "h", strings.Repeat("j", 250), "painpoint/x", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := TrackerKey(tc.ns, tc.journey, tc.item)
			if !tracker.ValidKey(k) {
				t.Errorf("TrackerKey = %q is not a valid key", k)
			}
			prefixed := strings.HasPrefix(k, JourneyPrefix(tc.ns, tc.journey))
			if prefixed == tc.hashed || IsDigestKey(k) != tc.hashed {
				t.Errorf("TrackerKey = %q; hashed %v wanted", k, tc.hashed)
			}
			if !tc.hashed && k != JourneyPrefix(tc.ns, tc.journey)+tc.item {
				t.Errorf("TrackerKey = %q", k)
			}
		})
	}
	if a, b := TrackerKey("ns", strings.Repeat("j", 250), "x"), TrackerKey("ns", strings.Repeat("j", 250), "y"); a == b {
		t.Errorf("two over-long keys share the digest %q", a)
	}
}

func TestPhaseParentOfEachType(t *testing.T) {
	for typ, title := range map[string]string{
		"Discovery":       "Discovery: map gaps of j",
		"Improve":         "Improve: quick wins of j",
		"Perfection":      "Perfection: long-term pain points of j",
		"Personalization": "Personalization: personalized touchpoints of j",
		"Custom":          "Custom: work of j",
	} {
		ph := Phase{Namespace: "ns", Journey: "j", Name: "p-" + strings.ToLower(typ), Type: typ, Labels: []string{"cx"}}
		it := ForPhaseParent(ph)
		if it.Title != title || it.Key != "phase/p-"+strings.ToLower(typ) {
			t.Errorf("%s: %q %q, want %q", typ, it.Key, it.Title, title)
		}
		if want := []string{"phase:" + strings.ToLower(typ), "cx"}; !slices.Equal(it.Labels, want) {
			t.Errorf("%s: labels %v, want %v", typ, it.Labels, want)
		}
		if !maps.Equal(it.Board.Values(), map[string]string{"Phase": typ}) {
			t.Errorf("%s: board %v", typ, it.Board.Values())
		}
	}
}

// TestEveryBodyNeutralisesThePhase: the phase's own words (names, owners,
// deadline) come from custom resources too, and no kind of issue lets them
// ping anyone or carry HTML.
func TestEveryBodyNeutralisesThePhase(t *testing.T) {
	hostile := Phase{
		Namespace: "ns<i>", Journey: "@acme/everyone", JourneyOwner: "<img src=x>", Name: "p&q",
		Type: "Improve", Owner: "@octocat", Deadline: "<script>2027</script>", Labels: []string{"cx"},
	}
	pp := journey.PainPoint{ID: "q", Summary: "Queue", Impact: ip(4), Effort: ip(2)}
	for _, tc := range []struct {
		kind      string
		item      Item
		checklist bool
	}{
		{KindGap, ForGap(hostile, journey.Gap{Kind: journey.NoTopTask, Key: "gap/no-top-task", Message: "@here mark <b>them</b>"}), true},
		{KindPainPoint, ForPainPoint(hostile, journey.Located{PainPoint: pp, Stage: "s", Touchpoint: "t", Channel: "web"}, "why"), true},
		{KindPersonalization, ForPersonalization(hostile, journey.Personalization{Stage: "s", Touchpoint: "t", Persona: "family", PainPoint: &pp}), true},
		{KindPhaseParent, ForPhaseParent(hostile), false},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			if tc.item.Source.Kind != tc.kind {
				t.Errorf("source kind %q, want %q", tc.item.Source.Kind, tc.kind)
			}
			want := []string{"&lt;script&gt;2027&lt;/script&gt;", "&lt;img src=x&gt;", "p&amp;q", "_Opened by cxloop."}
			if tc.checklist {
				want = append(want, "### Done when\n\n- [ ] ")
			}
			bodyHas(t, tc.item.Body, want, []string{"<i>", "<img", "<script>", "<b>", "@acme", "@octocat", "@here"})
			if !slices.Contains(tc.item.Labels, "cx") || tc.item.Labels[0] != "phase:improve" {
				t.Errorf("labels %v", tc.item.Labels)
			}
		})
	}
}
