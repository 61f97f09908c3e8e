package controllers

import (
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/journey"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

const (
	itemKindGap             = workitem.KindGap
	itemKindPainPoint       = workitem.KindPainPoint
	itemKindPersonalization = workitem.KindPersonalization

	reasonCompleted  = "completed"
	reasonNotPlanned = "not_planned"
)

// quickWinRule is the phase's quick-win rule: its selector over the method's
// default (impact ≥ 4, effort ≤ 2). Perfection takes what this rule leaves.
func quickWinRule(ph *cxv1.ImprovementPhase) journey.Selector {
	s := journey.DefaultQuickWins
	if sel := ph.Spec.Selector; sel != nil {
		s.Personas = sel.Personas
		if ph.Spec.Type == cxv1.PhaseImprove {
			if sel.MinImpact != nil {
				s.MinImpact = int(*sel.MinImpact)
			}
			if sel.MaxEffort != nil {
				s.MaxEffort = int(*sel.MaxEffort)
			}
		}
	}
	return s
}

// plannedWork is the phase's work as the map stands now, best first.
func plannedWork(ph *cxv1.ImprovementPhase, m journey.Map, pc workitem.Phase) []workitem.Item {
	var out []workitem.Item
	rule := quickWinRule(ph)
	switch ph.Spec.Type {
	case cxv1.PhaseDiscovery:
		for _, g := range journey.Gaps(m) {
			out = append(out, workitem.ForGap(pc, g))
		}
	case cxv1.PhaseImprove:
		for _, p := range journey.QuickWins(m, rule) {
			out = append(out, workitem.ForPainPoint(pc, p, workitem.QuickWinReason(p.PainPoint, rule)))
		}
	case cxv1.PhasePerfection:
		for _, p := range journey.LongTermPainPoints(m, rule) {
			if sel := ph.Spec.Selector; sel != nil && ((sel.MinImpact != nil && *p.Impact < int(*sel.MinImpact)) || (sel.MaxEffort != nil && *p.Effort > int(*sel.MaxEffort))) {
				continue
			}
			out = append(out, workitem.ForPainPoint(pc, p, workitem.LongTermReason(p.PainPoint, rule)))
		}
	case cxv1.PhasePersonalization:
		var personas []string
		if ph.Spec.Selector != nil {
			personas = ph.Spec.Selector.Personas
		}
		for _, p := range journey.PersonalizationCandidates(m, personas) {
			out = append(out, workitem.ForPersonalization(pc, p))
		}
	}
	return out
}

// obsoleteItem is an open issue whose work no longer follows from the map.
type obsoleteItem struct {
	index           int
	reason, comment string
}

// mergeItems brings the phase's items in line with the work the map asks
// for now and with the issues on GitHub:
//   - new work becomes a Planned item, in priority order after the items already known;
//   - an item whose key has an issue on GitHub adopts it (so a crash between
//     creating an issue and recording it never yields a second one) and
//     follows its state: closed → Closed, reopened → Open;
//   - an item whose issue vanished from GitHub keeps its state and says so;
//   - work that no longer follows from the map is dropped while Planned, or
//     returned to be closed when its issue is open: a fixed gap as completed,
//     a removed pain point as not planned.
func mergeItems(ph *cxv1.ImprovementPhase, desired []workitem.Item, issues map[string]tracker.Issue, pc workitem.Phase, seen *IssueEvents, clk clock.PassiveClock) []obsoleteItem {
	want := make(map[string]workitem.Item, len(desired))
	for _, w := range desired {
		want[w.Key] = w
	}
	known := make(map[string]bool, len(ph.Status.Items))
	var items []cxv1.PhaseItem
	for _, it := range ph.Status.Items {
		w, ok := want[it.Key]
		if !ok && it.State == cxv1.ItemPlanned {
			if is, found := issues[workitem.TrackerKey(pc.Namespace, pc.Journey, it.Key)]; !found || is.Number == 0 {
				continue // never opened: nothing to keep
			}
		}
		if ok {
			it.Title, it.Source = w.Title, sourceOf(w.Source)
			if it.State == cxv1.ItemObsolete {
				it.State, it.Issue, it.URL, it.OpenedAt, it.ClosedAt = cxv1.ItemPlanned, 0, "", nil, nil
			}
		}
		known[it.Key] = true
		items = append(items, it)
	}
	for _, w := range desired {
		if !known[w.Key] {
			items = append(items, cxv1.PhaseItem{Key: w.Key, Title: w.Title, Source: sourceOf(w.Source), State: cxv1.ItemPlanned})
		}
	}

	var obsolete []obsoleteItem
	for i := range items {
		it := &items[i]
		tkey := workitem.TrackerKey(pc.Namespace, pc.Journey, it.Key)
		if is, found := issues[tkey]; found {
			if it.State != cxv1.ItemObsolete {
				applyIssue(it, is, clk)
			}
		} else if it.Issue != 0 && it.State != cxv1.ItemObsolete {
			it.Message = missingMessage(it.Issue, seen.Lookup(tkey))
		}
		if _, ok := want[it.Key]; !ok && it.State == cxv1.ItemOpen && it.Message == "" {
			if it.Source.Kind == itemKindGap {
				obsolete = append(obsolete, obsoleteItem{i, reasonCompleted, "The journey map no longer has this gap: closing as completed."})
			} else {
				obsolete = append(obsolete, obsoleteItem{i, reasonNotPlanned, fmt.Sprintf("This work no longer follows from the journey map %s (removed, or no longer fits the %s phase): closing as not planned.", pc.Journey, pc.Type)})
			}
		}
	}
	ph.Status.Items = items
	return obsolete
}

// applyIssue records an issue's number, link and state on an item.
func applyIssue(it *cxv1.PhaseItem, is tracker.Issue, clk clock.PassiveClock) {
	it.Issue, it.URL, it.Message, it.AttemptedAt = is.Number, is.URL, "", nil
	if it.OpenedAt == nil && !is.CreatedAt.IsZero() {
		t := metav1.NewTime(is.CreatedAt.Truncate(1e9))
		it.OpenedAt = &t
	}
	if is.State == "closed" {
		it.State = cxv1.ItemClosed
		t := now(clk)
		if is.ClosedAt != nil {
			t = metav1.NewTime(is.ClosedAt.Truncate(1e9))
		}
		if it.ClosedAt == nil || !it.ClosedAt.Equal(&t) {
			it.ClosedAt = &t
		}
		return
	}
	it.State, it.ClosedAt = cxv1.ItemOpen, nil
}

func missingMessage(number int, what string) string {
	if what == "" {
		what = "deleted, transferred or unlabelled on GitHub"
	}
	return fmt.Sprintf("issue #%d is gone from the repository: %s; cxloop will not open it again", number, what)
}

func sourceOf(s workitem.Source) cxv1.ItemSource {
	return cxv1.ItemSource{Kind: s.Kind, Stage: s.Stage, Touchpoint: s.Touchpoint, PainPoint: s.PainPoint, Persona: s.Persona}
}

// progressOf counts the items; Obsolete ones are not part of the work.
func progressOf(items []cxv1.PhaseItem) cxv1.PhaseProgress {
	var p cxv1.PhaseProgress
	for _, it := range items {
		switch it.State {
		case cxv1.ItemPlanned:
			p.Planned++
		case cxv1.ItemOpen:
			p.Open++
		case cxv1.ItemClosed:
			p.Closed++
		default:
			continue
		}
		p.Total++
	}
	p.Percent = 100
	if p.Total > 0 {
		p.Percent = p.Closed * 100 / p.Total
	}
	p.Summary = fmt.Sprintf("%d/%d (%d%%)", p.Closed, p.Total, p.Percent)
	return p
}

// exitCriteriaMet reports whether the phase is complete, or what it waits for.
func exitCriteriaMet(ph *cxv1.ImprovementPhase, cj *cxv1.CustomerJourney, p cxv1.PhaseProgress, remainingWork int) (bool, string) {
	closedPct, minHealth := int32(100), int32(-1)
	if ec := ph.Spec.ExitCriteria; ec != nil {
		if ec.ClosedPercent != nil {
			closedPct = *ec.ClosedPercent
		}
		if ec.MinHealthScore != nil {
			minHealth = *ec.MinHealthScore
		}
	}
	if p.Percent < closedPct {
		return false, fmt.Sprintf("completes at %d%% closed", closedPct)
	}
	if minHealth >= 0 && (cj.Status.HealthScore == nil || *cj.Status.HealthScore < minHealth) {
		h := "unknown"
		if cj.Status.HealthScore != nil {
			h = fmt.Sprint(*cj.Status.HealthScore)
		}
		return false, fmt.Sprintf("completes at journey health %d, now %s", minHealth, h)
	}
	if ph.Spec.Type == cxv1.PhaseDiscovery && remainingWork > 0 {
		return false, fmt.Sprintf("completes when the map has no gaps: %d left", remainingWork)
	}
	return true, ""
}

// IssueEvents remembers what GitHub's webhooks said about issues that
// polling cannot tell apart — deleted or transferred — by tracker key.
type IssueEvents struct {
	mu    sync.Mutex
	byKey map[string]string
}

// Record notes what happened to the issue with the key.
func (e *IssueEvents) Record(key, what string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.byKey == nil {
		e.byKey = map[string]string{}
	}
	e.byKey[key] = what
}

// Lookup returns what happened to the issue with the key, or "".
func (e *IssueEvents) Lookup(key string) string {
	if e == nil {
		return ""
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.byKey[key]
}
