package plan

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// TestImproveAndPerfectionSplitThePainPoints: whatever the Improve phase's
// selector, every sized pain point is the work of exactly one of the two.
func TestImproveAndPerfectionSplitThePainPoints(t *testing.T) {
	// A pain point of every size, and one not sized.
	tp := journey.Touchpoint{Name: "gate", PainPoints: []journey.PainPoint{{ID: "unsized"}}}
	for impact := 1; impact <= 5; impact++ {
		for effort := 1; effort <= 5; effort++ {
			tp.PainPoints = append(tp.PainPoints, journey.PainPoint{ID: fmt.Sprintf("i%d-e%d", impact, effort), Impact: ptr.To(impact), Effort: ptr.To(effort)})
		}
	}
	m := journey.Map{Stages: []journey.Stage{{Name: "visit", Touchpoints: []journey.Touchpoint{tp}}}}
	sized := 0
	for _, p := range m.PainPoints() {
		if p.Sized() {
			sized++
		}
	}
	for _, sel := range []*cxv1.PhaseSelector{nil, {MinImpact: 5, MaxEffort: 1}, {MinImpact: 3, MaxEffort: 4}} {
		improve := cxv1.ImprovementPhase{Spec: cxv1.ImprovementPhaseSpec{Type: cxv1.PhaseImprove, Selector: sel}}
		improve.Name = "improve"
		perfection := cxv1.ImprovementPhase{Spec: cxv1.ImprovementPhaseSpec{Type: cxv1.PhasePerfection}}
		perfection.Name = "perfection"
		phases := []cxv1.ImprovementPhase{improve, perfection}
		seen := map[string]int{}
		for _, ph := range phases {
			for _, w := range Work(&ph, m, workitem.Phase{Type: string(ph.Spec.Type)}, QuickWinRule(phases, &ph)) {
				seen[w.Key]++
			}
		}
		if len(seen) != sized {
			t.Errorf("selector %+v: %d pain points planned, want all %d sized ones", sel, len(seen), sized)
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("selector %+v: %s planned by %d phases", sel, k, n)
			}
		}
	}
}

func TestMergeItems(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(now)
	pc := workitem.Phase{Namespace: "ns", Journey: "j", Type: "Improve"}
	work := func(keys ...string) []workitem.Item {
		var out []workitem.Item
		for _, k := range keys {
			out = append(out, workitem.Item{Key: k, Title: "title of " + k, Source: workitem.Source{Kind: workitem.KindPainPoint, PainPoint: k}})
		}
		return out
	}
	gap := workitem.Item{Key: "gap/x", Title: "gap", Source: workitem.Source{Kind: workitem.KindGap}}
	item := func(key string, state cxv1.ItemState, issue int) cxv1.PhaseItem {
		return cxv1.PhaseItem{Key: key, Title: "title of " + key, Source: cxv1.ItemSource{Kind: workitem.KindPainPoint, PainPoint: key}, State: state, Issue: int64(issue)}
	}
	issue := func(n int, state, reason string) tracker.Issue {
		return tracker.Issue{Number: n, State: state, StateReason: reason, URL: fmt.Sprintf("https://github.example/i/%d", n), CreatedAt: now.Add(-time.Hour)}
	}
	recent := metav1.NewTime(now.Add(-time.Second))
	stale := metav1.NewTime(now.Add(-time.Hour))
	tests := []struct {
		name        string
		items       []cxv1.PhaseItem
		desired     []workitem.Item
		issues      map[string]tracker.Issue
		seen        map[string]string
		wantStates  map[string]cxv1.ItemState
		wantIssues  map[string]int
		wantChanges []Action
		wantMessage map[string]string
	}{
		{name: "new work is planned in priority order", desired: work("a", "b"),
			wantStates: map[string]cxv1.ItemState{"a": cxv1.ItemPlanned, "b": cxv1.ItemPlanned}},
		{name: "an issue opened before the crash is adopted", desired: work("a"),
			issues:     map[string]tracker.Issue{"ns/j/a": issue(7, "open", "")},
			wantStates: map[string]cxv1.ItemState{"a": cxv1.ItemOpen}, wantIssues: map[string]int{"a": 7}},
		{name: "closed on GitHub", items: []cxv1.PhaseItem{item("a", cxv1.ItemOpen, 7)}, desired: work("a"),
			issues:     map[string]tracker.Issue{"ns/j/a": issue(7, "closed", "completed")},
			wantStates: map[string]cxv1.ItemState{"a": cxv1.ItemClosed}},
		{name: "reopened on GitHub", items: []cxv1.PhaseItem{item("a", cxv1.ItemClosed, 7)}, desired: work("a"),
			issues:     map[string]tracker.Issue{"ns/j/a": issue(7, "open", "")},
			wantStates: map[string]cxv1.ItemState{"a": cxv1.ItemOpen}},
		{name: "vanished from GitHub", items: []cxv1.PhaseItem{item("a", cxv1.ItemOpen, 7)}, desired: work("a"),
			wantStates:  map[string]cxv1.ItemState{"a": cxv1.ItemObsolete},
			wantMessage: map[string]string{"a": "issue #7 is gone from the repository: deleted, transferred or unlabelled on GitHub; cxloop will not open it again"}},
		{name: "a webhook's deletion wins over a lagging listing", items: []cxv1.PhaseItem{item("a", cxv1.ItemOpen, 7)}, desired: work("a"),
			issues: map[string]tracker.Issue{"ns/j/a": issue(7, "open", "")}, seen: map[string]string{"ns/j/a#7": "deleted on GitHub"},
			wantStates:  map[string]cxv1.ItemState{"a": cxv1.ItemObsolete},
			wantMessage: map[string]string{"a": "issue #7 is gone from the repository: deleted on GitHub; cxloop will not open it again"}},
		{name: "a deleted issue that copied the item's marker changes nothing", items: []cxv1.PhaseItem{item("a", cxv1.ItemOpen, 7)}, desired: work("a"),
			issues: map[string]tracker.Issue{"ns/j/a": issue(7, "open", "")}, seen: map[string]string{"ns/j/a#31": "deleted on GitHub"},
			wantStates: map[string]cxv1.ItemState{"a": cxv1.ItemOpen}, wantIssues: map[string]int{"a": 7}},
		{name: "another issue carrying the item's marker is not followed", items: []cxv1.PhaseItem{item("a", cxv1.ItemOpen, 7)}, desired: work("a"),
			issues:     map[string]tracker.Issue{"ns/j/a": issue(3, "closed", "completed")},
			wantStates: map[string]cxv1.ItemState{"a": cxv1.ItemOpen}, wantIssues: map[string]int{"a": 7}},
		{name: "a removed pain point's open issue is closed as not planned", items: []cxv1.PhaseItem{item("a", cxv1.ItemOpen, 7)},
			issues:     map[string]tracker.Issue{"ns/j/a": issue(7, "open", "")},
			wantStates: map[string]cxv1.ItemState{"a": cxv1.ItemOpen}, wantChanges: []Action{CloseAsNotPlanned}},
		{name: "a fixed gap's open issue is closed as completed",
			items:      []cxv1.PhaseItem{{Key: "gap/x", Source: cxv1.ItemSource{Kind: workitem.KindGap}, State: cxv1.ItemOpen, Issue: 3}},
			issues:     map[string]tracker.Issue{"ns/j/gap/x": issue(3, "open", "")},
			wantStates: map[string]cxv1.ItemState{"gap/x": cxv1.ItemOpen}, wantChanges: []Action{CloseAsCompleted}},
		{name: "a gap still in the map keeps its item", desired: []workitem.Item{gap},
			items:      []cxv1.PhaseItem{{Key: "gap/x", Source: cxv1.ItemSource{Kind: workitem.KindGap}, State: cxv1.ItemOpen, Issue: 3}},
			issues:     map[string]tracker.Issue{"ns/j/gap/x": issue(3, "open", "")},
			wantStates: map[string]cxv1.ItemState{"gap/x": cxv1.ItemOpen}},
		{name: "planned work no longer wanted is dropped", items: []cxv1.PhaseItem{item("a", cxv1.ItemPlanned, 0)},
			wantStates: map[string]cxv1.ItemState{}},
		{name: "planned work with an attempt that may still land is kept",
			items:      []cxv1.PhaseItem{func() cxv1.PhaseItem { i := item("a", cxv1.ItemPlanned, 0); i.AttemptedAt = &recent; return i }()},
			wantStates: map[string]cxv1.ItemState{"a": cxv1.ItemPlanned}},
		{name: "an old attempt no longer holds it",
			items:      []cxv1.PhaseItem{func() cxv1.PhaseItem { i := item("a", cxv1.ItemPlanned, 0); i.AttemptedAt = &stale; return i }()},
			wantStates: map[string]cxv1.ItemState{}},
		{name: "work the map asks for again is reopened", items: []cxv1.PhaseItem{item("a", cxv1.ItemObsolete, 7)}, desired: work("a"),
			issues:     map[string]tracker.Issue{"ns/j/a": issue(7, "closed", "not_planned")},
			wantStates: map[string]cxv1.ItemState{"a": cxv1.ItemClosed}, wantIssues: map[string]int{"a": 7}, wantChanges: []Action{Reopen}},
		{name: "a late webhook says what happened to a vanished issue",
			items:   []cxv1.PhaseItem{func() cxv1.PhaseItem { i := item("a", cxv1.ItemObsolete, 7); i.Message = "gone"; return i }()},
			desired: work("a"), seen: map[string]string{"ns/j/a#7": "transferred on GitHub to o/r#1"},
			wantStates:  map[string]cxv1.ItemState{"a": cxv1.ItemObsolete},
			wantMessage: map[string]string{"a": "issue #7 is gone from the repository: transferred on GitHub to o/r#1; cxloop will not open it again"}},
		{name: "an issue gone from GitHub stays gone", desired: work("a"),
			items:      []cxv1.PhaseItem{func() cxv1.PhaseItem { i := item("a", cxv1.ItemObsolete, 7); i.Message = "gone"; return i }()},
			wantStates: map[string]cxv1.ItemState{"a": cxv1.ItemObsolete}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ph := &cxv1.ImprovementPhase{Status: cxv1.ImprovementPhaseStatus{Items: tt.items}}
			changes := Merge(ph, tt.desired, tt.issues, pc, tt.seen, clk.Now(), time.Minute)
			states := map[string]cxv1.ItemState{}
			for _, it := range ph.Status.Items {
				states[it.Key] = it.State
				if want, ok := tt.wantIssues[it.Key]; ok && it.Issue != int64(want) {
					t.Errorf("%s: issue %d, want %d", it.Key, it.Issue, want)
				}
				if want, ok := tt.wantMessage[it.Key]; ok && it.Message != want {
					t.Errorf("%s: message %q, want %q", it.Key, it.Message, want)
				}
			}
			if !reflect.DeepEqual(states, tt.wantStates) {
				t.Errorf("states %v, want %v", states, tt.wantStates)
			}
			var actions []Action
			for _, c := range changes {
				actions = append(actions, c.Action)
			}
			if !reflect.DeepEqual(actions, tt.wantChanges) {
				t.Errorf("changes %v, want %v", actions, tt.wantChanges)
			}
		})
	}
}

func TestExitCriteria(t *testing.T) {
	health := func(h int32) *cxv1.CustomerJourney {
		return &cxv1.CustomerJourney{Status: cxv1.CustomerJourneyStatus{HealthScore: &h}}
	}
	progress := func(states ...cxv1.ItemState) cxv1.PhaseProgress {
		var items []cxv1.PhaseItem
		for _, s := range states {
			items = append(items, cxv1.PhaseItem{State: s})
		}
		return Progress(items)
	}
	phase := func(typ cxv1.PhaseType, ec *cxv1.ExitCriteria) *cxv1.ImprovementPhase {
		return &cxv1.ImprovementPhase{Spec: cxv1.ImprovementPhaseSpec{Type: typ, ExitCriteria: ec}}
	}
	tests := []struct {
		name      string
		ph        *cxv1.ImprovementPhase
		cj        *cxv1.CustomerJourney
		p         cxv1.PhaseProgress
		remaining int
		want      bool
	}{
		{"all closed", phase(cxv1.PhaseImprove, nil), health(50), progress(cxv1.ItemClosed, cxv1.ItemClosed, cxv1.ItemObsolete), 2, true},
		{"one still open", phase(cxv1.PhaseImprove, nil), health(50), progress(cxv1.ItemClosed, cxv1.ItemOpen), 2, false},
		{"80 percent is enough when asked", phase(cxv1.PhasePerfection, &cxv1.ExitCriteria{ClosedPercent: ptr.To[int32](80)}), health(50),
			progress(cxv1.ItemClosed, cxv1.ItemClosed, cxv1.ItemClosed, cxv1.ItemClosed, cxv1.ItemPlanned), 5, true},
		{"health below the bar", phase(cxv1.PhasePerfection, &cxv1.ExitCriteria{MinHealthScore: ptr.To[int32](70)}), health(69), progress(cxv1.ItemClosed), 1, false},
		{"health at the bar", phase(cxv1.PhasePerfection, &cxv1.ExitCriteria{MinHealthScore: ptr.To[int32](70)}), health(70), progress(cxv1.ItemClosed), 1, true},
		{"discovery waits for the map's gaps", phase(cxv1.PhaseDiscovery, nil), health(50), progress(cxv1.ItemClosed), 1, false},
		{"discovery with no gaps left", phase(cxv1.PhaseDiscovery, nil), health(50), progress(cxv1.ItemClosed), 0, true},
		{"nothing to do completes at once", phase(cxv1.PhaseImprove, nil), health(50), progress(), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, why := ExitCriteriaMet(tt.ph, tt.cj, tt.p, tt.remaining); got != tt.want {
				t.Errorf("ExitCriteriaMet = %v (%s), want %v", got, why, tt.want)
			}
		})
	}
}

func TestVerifiedPercentExitCriterion(t *testing.T) {
	items := func(verdicts ...cxv1.Verdict) cxv1.PhaseProgress {
		var out []cxv1.PhaseItem
		for _, v := range verdicts {
			out = append(out, cxv1.PhaseItem{State: cxv1.ItemClosed, Outcome: &cxv1.ItemOutcome{Verdict: v}})
		}
		return Progress(out)
	}
	ph := &cxv1.ImprovementPhase{Spec: cxv1.ImprovementPhaseSpec{Type: cxv1.PhaseImprove, ExitCriteria: &cxv1.ExitCriteria{VerifiedPercent: ptr.To[int32](50)}}}
	cj := &cxv1.CustomerJourney{}
	for _, tt := range []struct {
		name string
		p    cxv1.PhaseProgress
		want bool
	}{
		{"half improved", items(cxv1.VerdictImproved, cxv1.VerdictWorse), true},
		{"one of three", items(cxv1.VerdictImproved, cxv1.VerdictPending, cxv1.VerdictUnchanged), false},
		{"none verified yet", items(cxv1.VerdictPending, cxv1.VerdictPending), false},
		{"no items cannot be verified", items(), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, why := ExitCriteriaMet(ph, cj, tt.p, 0)
			if got != tt.want {
				t.Errorf("ExitCriteriaMet = %v (%s), want %v", got, why, tt.want)
			}
			if !got && !strings.Contains(why, "verified as improved") {
				t.Errorf("why: %s", why)
			}
		})
	}
}
