package workitem

import (
	"maps"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/journey"
)

func ip(v int) *int { return &v }

var phase = Phase{Namespace: "parks", Journey: "nature-park-visit", JourneyOwner: "Visitor Experience", Name: "park-improve", Type: "Improve", Owner: "Digital", Deadline: "2027-04-30", Labels: []string{"customer-journey"}}

func TestPainPointIssueCarriesItsContext(t *testing.T) {
	p := journey.Located{
		PainPoint: journey.PainPoint{ID: "phone-queue", Summary: "Long queue at weekends", Personas: []string{"family"}, Impact: ip(5), Effort: ip(1)},
		Stage:     "planning", Touchpoint: "phone-reservation", Channel: "phone", Owner: "Visitor Services", MomentOfTruth: true,
	}
	it := ForPainPoint(phase, p, QuickWinReason(p.PainPoint, journey.DefaultQuickWins))
	if it.Key != "painpoint/phone-queue" {
		t.Errorf("key %q", it.Key)
	}
	if it.Title != "phone-reservation: Long queue at weekends" {
		t.Errorf("title %q", it.Title)
	}
	for _, want := range []string{
		"| Personas | family |", "| Stage | planning |", "| Touchpoint | phone-reservation (moment of truth) |",
		"| Channel | phone |", "| Owning department | Visitor Services |", "| Impact | 5 of 5 |", "| Effort | 1 of 5 |",
		"| Priority | P1 |", "quick win: impact 5 ≥ 4 and effort 1 ≤ 2", "- [ ] ", "Journey **nature-park-visit**", "phase **park-improve** (Improve",
		"deadline 2027-04-30",
	} {
		if !strings.Contains(it.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, it.Body)
		}
	}
	wantLabels := []string{"phase:improve", "persona:family", "stage:planning", "priority:P1", "customer-journey"}
	if strings.Join(it.Labels, ",") != strings.Join(wantLabels, ",") {
		t.Errorf("labels %v, want %v", it.Labels, wantLabels)
	}
	if it.Source != (Source{Kind: KindPainPoint, Stage: "planning", Touchpoint: "phone-reservation", PainPoint: "phone-queue"}) {
		t.Errorf("source %+v", it.Source)
	}
}

func TestTextFromTheMapIsNeutralised(t *testing.T) {
	p := journey.Located{
		PainPoint: journey.PainPoint{ID: "x", Summary: "Ask @everyone <script>alert(1)</script>", Impact: ip(4), Effort: ip(2)},
		Stage:     "s", Touchpoint: "t", Channel: "web", Owner: "@octocat team",
	}
	it := ForPainPoint(phase, p, "why")
	if strings.Contains(it.Body, "<script>") || strings.Contains(it.Body, "@everyone") || strings.Contains(it.Body, "@octocat") {
		t.Errorf("body not neutralised:\n%s", it.Body)
	}
}

func TestGapIssues(t *testing.T) {
	m := journey.Map{Personas: []journey.Persona{{Name: "family", Goals: []string{"g"}}}, Stages: []journey.Stage{{Name: "visit", Touchpoints: []journey.Touchpoint{
		{Name: "restaurant", Channel: "partner", TopTask: true, MomentOfTruth: true, PainPoints: []journey.PainPoint{{ID: "menu", Summary: "no menu"}}}}}}}
	titles := map[string]string{}
	for _, g := range journey.Gaps(m) {
		it := ForGap(phase, g)
		titles[it.Key] = it.Title
		if it.Source.Kind != KindGap || !strings.Contains(it.Body, "### Done when") {
			t.Errorf("gap item %+v", it)
		}
	}
	want := map[string]string{
		"gap/persona-not-scored/visit/family":           "Map gap: score how family feels in stage visit",
		"gap/touchpoint-without-owner/visit/restaurant": "Map gap: find an owner for touchpoint restaurant (visit)",
		"gap/pain-point-not-sized/menu":                 "Map gap: size pain point menu at restaurant",
	}
	if len(titles) != len(want) {
		t.Fatalf("got %v", titles)
	}
	for k, v := range want {
		if titles[k] != v {
			t.Errorf("%s: title %q, want %q", k, titles[k], v)
		}
	}
}

func TestPersonalizationIssue(t *testing.T) {
	pp := journey.PainPoint{ID: "kids-menu", Summary: "No children's menu", Impact: ip(3), Effort: ip(2), Personalize: true}
	it := ForPersonalization(phase, journey.Personalization{Stage: "visit", Touchpoint: "restaurant", Channel: "partner", Persona: "family", PainPoint: &pp})
	if it.Key != "personalize/visit/restaurant/kids-menu/family" || it.Title != "Personalize for family: No children's menu" {
		t.Errorf("item %q %q", it.Key, it.Title)
	}
	if !strings.Contains(strings.Join(it.Labels, ","), "persona:family") {
		t.Errorf("labels %v", it.Labels)
	}
}

func TestTrackerKey(t *testing.T) {
	if got := TrackerKey("parks", "visit", "painpoint/x"); got != "parks/visit/painpoint/x" {
		t.Errorf("got %q", got)
	}
	long := TrackerKey("parks", strings.Repeat("j", 250), "painpoint/x")
	if !strings.HasPrefix(long, "h/") || long != TrackerKey("parks", strings.Repeat("j", 250), "painpoint/x") {
		t.Errorf("over-long key %q not shortened stably", long)
	}
}

func TestBoardValuesOfEachKind(t *testing.T) {
	quick := journey.Located{
		PainPoint: journey.PainPoint{ID: "phone-queue", Summary: "Long queue", Personas: []string{"family", "hiker"}, Impact: ip(5), Effort: ip(1)},
		Stage:     "planning", Touchpoint: "phone-reservation", Channel: "phone", Owner: "Visitor Services",
	}
	got := ForPainPoint(phase, quick, QuickWinReason(quick.PainPoint, journey.DefaultQuickWins)).Board.Values()
	want := map[string]string{"Phase": "Improve", "Stage": "planning", "Persona": "family, hiker", "Channel": "phone",
		"Department": "Visitor Services", "Impact": "5", "Effort": "1", "Quick win": "Yes"}
	if !maps.Equal(got, want) {
		t.Errorf("quick win board values = %v, want %v", got, want)
	}
	long := ForPainPoint(phase, quick, LongTermReason(quick.PainPoint, journey.DefaultQuickWins)).Board.Values()
	if long["Quick win"] != "No" {
		t.Errorf("long-term pain point: Quick win = %q", long["Quick win"])
	}
	for _, g := range journey.Gaps(journey.Map{Personas: []journey.Persona{{Name: "family"}}, Stages: []journey.Stage{{Name: "visit", Touchpoints: []journey.Touchpoint{{Name: "gate", Channel: "in-person"}}}}}) {
		v := ForGap(phase, g).Board.Values()
		if v["Phase"] != "Improve" || v["Stage"] != g.Stage || v["Persona"] != g.Persona || v["Quick win"] != "" || v["Impact"] != "" {
			t.Errorf("gap %s board values = %v", g.Key, v)
		}
	}
	pp := journey.PainPoint{ID: "kids-menu", Summary: "No children's menu", Impact: ip(3), Effort: ip(2)}
	v := ForPersonalization(phase, journey.Personalization{Stage: "visit", Touchpoint: "restaurant", Channel: "partner", Owner: "Catering", Persona: "family", PainPoint: &pp}).Board.Values()
	if v["Persona"] != "family" || v["Channel"] != "partner" || v["Department"] != "Catering" || v["Impact"] != "3" {
		t.Errorf("personalization board values = %v", v)
	}
}

func TestPhaseParentIssue(t *testing.T) {
	it := ForPhaseParent(phase)
	if it.Title != "Improve: quick wins of nature-park-visit" || it.Key != "phase/park-improve" {
		t.Errorf("parent %q %q", it.Key, it.Title)
	}
	if it.Source.Kind != KindPhaseParent || it.Board.Values()["Phase"] != "Improve" || !strings.Contains(it.Body, "sub-issues") {
		t.Errorf("parent %+v", it)
	}
	if got := ForPhaseParent(Phase{Name: "d", Type: "Discovery", Journey: "j"}).Title; got != "Discovery: map gaps of j" {
		t.Errorf("discovery parent %q", got)
	}
}
