package plan

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

func TestActionWords(t *testing.T) {
	for _, tc := range []struct {
		a            Action
		verb, reason string
	}{
		{CloseAsCompleted, "closing", "completed"},
		{CloseAsNotPlanned, "closing", "not_planned"},
		{Reopen, "reopening", "completed"},
	} {
		if tc.a.Verb() != tc.verb || tc.a.StateReason() != tc.reason {
			t.Errorf("action %d: %q %q, want %q %q", tc.a, tc.a.Verb(), tc.a.StateReason(), tc.verb, tc.reason)
		}
	}
	if got := VanishedKey("parks/visit/painpoint/q", 42); got != "parks/visit/painpoint/q#42" {
		t.Errorf("VanishedKey = %q", got)
	}
}

func namedPhase(name string, typ cxv1.PhaseType, sel *cxv1.PhaseSelector) cxv1.ImprovementPhase {
	ph := cxv1.ImprovementPhase{Spec: cxv1.ImprovementPhaseSpec{Type: typ, Selector: sel}}
	ph.Name = name
	return ph
}

func TestQuickWinRuleComesFromTheImprovePhase(t *testing.T) {
	for _, tc := range []struct {
		name   string
		phases []cxv1.ImprovementPhase
		of     int // index of the phase asking
		want   journey.Selector
	}{
		{"no Improve phase", []cxv1.ImprovementPhase{namedPhase("p", cxv1.PhasePerfection, nil)}, 0, journey.DefaultQuickWins},
		{"Improve without a selector", []cxv1.ImprovementPhase{namedPhase("i", cxv1.PhaseImprove, nil), namedPhase("p", cxv1.PhasePerfection, nil)}, 1, journey.DefaultQuickWins},
		{"Improve's bounds for Perfection", []cxv1.ImprovementPhase{namedPhase("i", cxv1.PhaseImprove, &cxv1.PhaseSelector{MinImpact: 3, MaxEffort: 3, Personas: []string{"family"}}), namedPhase("p", cxv1.PhasePerfection, nil)}, 1,
			journey.Selector{MinImpact: 3, MaxEffort: 3}},
		{"one bound set, the other the default", []cxv1.ImprovementPhase{namedPhase("i", cxv1.PhaseImprove, &cxv1.PhaseSelector{MaxEffort: 1})}, 0,
			journey.Selector{MinImpact: 4, MaxEffort: 1}},
		{"the first Improve phase by name", []cxv1.ImprovementPhase{
			namedPhase("z-improve", cxv1.PhaseImprove, &cxv1.PhaseSelector{MinImpact: 5}),
			namedPhase("a-improve", cxv1.PhaseImprove, &cxv1.PhaseSelector{MinImpact: 2}),
			namedPhase("perfection", cxv1.PhasePerfection, &cxv1.PhaseSelector{MinImpact: 1, Personas: []string{"hiker"}}),
		}, 2, journey.Selector{MinImpact: 2, MaxEffort: 2, Personas: []string{"hiker"}}},
		{"an Improve phase uses its own", []cxv1.ImprovementPhase{
			namedPhase("a-improve", cxv1.PhaseImprove, &cxv1.PhaseSelector{MinImpact: 2}),
			namedPhase("b-improve", cxv1.PhaseImprove, &cxv1.PhaseSelector{MinImpact: 5, Personas: []string{"family"}}),
		}, 1, journey.Selector{MinImpact: 5, MaxEffort: 2, Personas: []string{"family"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := QuickWinRule(tc.phases, &tc.phases[tc.of])
			if got.MinImpact != tc.want.MinImpact || got.MaxEffort != tc.want.MaxEffort || !slices.Equal(got.Personas, tc.want.Personas) {
				t.Errorf("QuickWinRule = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestWorkOfEachPhaseType(t *testing.T) {
	m := journey.Map{
		Personas: []journey.Persona{{Name: "family", Goals: []string{"a day out"}}, {Name: "hiker", Goals: []string{"a long walk"}}},
		Stages: []journey.Stage{{Name: "visit", Touchpoints: []journey.Touchpoint{{
			Name: "gate", Owner: "Rangers", TopTask: true, MomentOfTruth: true, Personalize: true,
			Experiences: []journey.Experience{{Persona: "family", Score: 1}, {Persona: "hiker", Score: 1}},
			PainPoints: []journey.PainPoint{
				{ID: "quick", Summary: "q", Impact: ptr.To(5), Effort: ptr.To(1)},
				{ID: "big", Summary: "b", Impact: ptr.To(5), Effort: ptr.To(5)},
				{ID: "small", Summary: "s", Impact: ptr.To(2), Effort: ptr.To(3)},
			},
		}}}},
	}
	for _, tc := range []struct {
		name string
		typ  cxv1.PhaseType
		sel  *cxv1.PhaseSelector
		want []string
	}{
		{"Improve", cxv1.PhaseImprove, nil, []string{"painpoint/quick"}},
		{"Perfection", cxv1.PhasePerfection, nil, []string{"painpoint/big", "painpoint/small"}},
		{"Perfection with its own minimum impact", cxv1.PhasePerfection, &cxv1.PhaseSelector{MinImpact: 3}, []string{"painpoint/big"}},
		{"Perfection with its own maximum effort", cxv1.PhasePerfection, &cxv1.PhaseSelector{MaxEffort: 4}, []string{"painpoint/small"}},
		{"Personalization for one persona", cxv1.PhasePersonalization, &cxv1.PhaseSelector{Personas: []string{"hiker"}}, []string{"personalize/visit/gate/-/hiker"}},
		{"Discovery of a map without gaps", cxv1.PhaseDiscovery, nil, nil},
		{"an unknown type", "Celebration", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ph := namedPhase("p", tc.typ, tc.sel)
			var keys []string
			for _, w := range Work(&ph, m, workitem.Phase{Type: string(tc.typ)}, QuickWinRule(nil, &ph)) {
				keys = append(keys, w.Key)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, tc.want) {
				t.Errorf("Work = %v, want %v", keys, tc.want)
			}
		})
	}
	m.Stages[0].Touchpoints[0].Owner = ""
	ph := namedPhase("d", cxv1.PhaseDiscovery, nil)
	w := Work(&ph, m, workitem.Phase{Type: "Discovery"}, journey.DefaultQuickWins)
	if len(w) != 1 || w[0].Key != "gap/touchpoint-without-owner/visit/gate" {
		t.Errorf("Discovery of a touchpoint without owner = %+v", w)
	}
}

func TestProgressCounts(t *testing.T) {
	closed := func(v cxv1.Verdict) cxv1.PhaseItem {
		return cxv1.PhaseItem{State: cxv1.ItemClosed, Outcome: &cxv1.ItemOutcome{Verdict: v}}
	}
	for _, tc := range []struct {
		name  string
		items []cxv1.PhaseItem
		want  cxv1.PhaseProgress
	}{
		{"none", nil, cxv1.PhaseProgress{Percent: 100, Summary: "0/0 (100%)"}},
		{"only obsolete", []cxv1.PhaseItem{{State: cxv1.ItemObsolete}}, cxv1.PhaseProgress{Percent: 100, Summary: "0/0 (100%)"}},
		{"one of three rounds down", []cxv1.PhaseItem{{State: cxv1.ItemClosed}, {State: cxv1.ItemOpen}, {State: cxv1.ItemPlanned}},
			cxv1.PhaseProgress{Planned: 1, Open: 1, Closed: 1, Total: 3, Percent: 33, Summary: "1/3 (33%)"}},
		{"two of three", []cxv1.PhaseItem{closed(cxv1.VerdictImproved), closed(cxv1.VerdictWorse), {State: cxv1.ItemOpen}, {State: "Strange"}},
			cxv1.PhaseProgress{Open: 1, Closed: 2, Verified: 1, Total: 3, Percent: 66, Summary: "2/3 (66%)"}},
		{"an improved outcome of open work is not verified", []cxv1.PhaseItem{{State: cxv1.ItemOpen, Outcome: &cxv1.ItemOutcome{Verdict: cxv1.VerdictImproved}}},
			cxv1.PhaseProgress{Open: 1, Total: 1, Percent: 0, Summary: "0/1 (0%)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Progress(tc.items); got != tc.want {
				t.Errorf("Progress = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestExitCriteriaSayWhatTheyWaitFor(t *testing.T) {
	ph := func(typ cxv1.PhaseType, ec *cxv1.ExitCriteria) *cxv1.ImprovementPhase {
		return &cxv1.ImprovementPhase{Spec: cxv1.ImprovementPhaseSpec{Type: typ, ExitCriteria: ec}}
	}
	unknownHealth := &cxv1.CustomerJourney{}
	for _, tc := range []struct {
		name      string
		ph        *cxv1.ImprovementPhase
		p         cxv1.PhaseProgress
		remaining int
		why       string
	}{
		{"closed", ph(cxv1.PhaseImprove, nil), cxv1.PhaseProgress{Closed: 1, Total: 2, Percent: 50}, 0, "completes at 100% closed"},
		{"own closed percent", ph(cxv1.PhaseImprove, &cxv1.ExitCriteria{ClosedPercent: ptr.To[int32](60)}), cxv1.PhaseProgress{Closed: 1, Total: 2, Percent: 50}, 0, "completes at 60% closed"},
		{"health unknown", ph(cxv1.PhaseImprove, &cxv1.ExitCriteria{MinHealthScore: ptr.To[int32](0)}), cxv1.PhaseProgress{Percent: 100}, 0, "completes at journey health 0, now unknown"},
		{"verified", ph(cxv1.PhaseImprove, &cxv1.ExitCriteria{VerifiedPercent: ptr.To[int32](75)}), cxv1.PhaseProgress{Closed: 4, Verified: 2, Total: 4, Percent: 100}, 0,
			"completes at 75% verified as improved by their measures, now 50% (2 of 4)"},
		{"gaps", ph(cxv1.PhaseDiscovery, nil), cxv1.PhaseProgress{Percent: 100}, 3, "completes when the map has no gaps: 3 left"},
		{"gaps do not hold other phases", ph(cxv1.PhasePerfection, nil), cxv1.PhaseProgress{Percent: 100}, 3, ""},
		{"closed percent zero", ph(cxv1.PhaseImprove, &cxv1.ExitCriteria{ClosedPercent: ptr.To[int32](0)}), cxv1.PhaseProgress{Total: 5, Percent: 0}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			met, why := ExitCriteriaMet(tc.ph, unknownHealth, tc.p, tc.remaining)
			if met != (tc.why == "") || why != tc.why {
				t.Errorf("ExitCriteriaMet = %v %q, want %q", met, why, tc.why)
			}
		})
	}
}

func TestApplyIssueFollowsTheIssue(t *testing.T) {
	now := time.Date(2027, 5, 1, 12, 0, 0, 987654321, time.UTC)
	created := time.Date(2027, 4, 1, 8, 0, 0, 500, time.UTC)
	closedAt := time.Date(2027, 4, 20, 10, 30, 15, 999, time.UTC)
	earlier := metav1.NewTime(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))

	it := cxv1.PhaseItem{Key: "k", State: cxv1.ItemPlanned, Message: "an old failure", AttemptedAt: &earlier}
	ApplyIssue(&it, tracker.Issue{Number: 7, URL: "https://github.com/a/b/issues/7", State: "open", CreatedAt: created}, now)
	if it.State != cxv1.ItemOpen || it.Issue != 7 || it.URL != "https://github.com/a/b/issues/7" || it.Message != "" || it.AttemptedAt != nil || it.ClosedAt != nil {
		t.Fatalf("open issue applied: %+v", it)
	}
	if !it.OpenedAt.Time.Equal(created.Truncate(time.Second)) {
		t.Errorf("OpenedAt %v, want %v", it.OpenedAt, created.Truncate(time.Second))
	}

	// Closed without a time: now, to the second. OpenedAt stays.
	ApplyIssue(&it, tracker.Issue{Number: 7, State: "closed", CreatedAt: created.Add(time.Hour)}, now)
	if it.State != cxv1.ItemClosed || !it.ClosedAt.Time.Equal(now.Truncate(time.Second)) || !it.OpenedAt.Time.Equal(created.Truncate(time.Second)) {
		t.Errorf("closed issue applied: %+v", it)
	}
	// Closed with a time: that time; the same time again keeps the pointer.
	ApplyIssue(&it, tracker.Issue{Number: 7, State: "closed", ClosedAt: &closedAt}, now)
	if !it.ClosedAt.Time.Equal(closedAt.Truncate(time.Second)) {
		t.Errorf("ClosedAt %v, want %v", it.ClosedAt, closedAt.Truncate(time.Second))
	}
	kept := it.ClosedAt
	ApplyIssue(&it, tracker.Issue{Number: 7, State: "closed", ClosedAt: &closedAt}, now.Add(time.Hour))
	if it.ClosedAt != kept {
		t.Error("an unchanged close time was replaced")
	}
	// Reopened.
	ApplyIssue(&it, tracker.Issue{Number: 7, State: "open"}, now)
	if it.State != cxv1.ItemOpen || it.ClosedAt != nil {
		t.Errorf("reopened issue applied: %+v", it)
	}
}
